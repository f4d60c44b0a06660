// One `JobWatcher.watch()` call: the jobs it follows, their timers, and the async iterator the
// caller consumes. The watcher's polling loop feeds it statuses; it decides what to emit.
import { SlurmTransportError } from '../errors.js';
import { isTerminalJobState, type JobState, jobPhase } from './job-state.js';
import { JobWaitTimeoutError } from './job-wait-timeout-error.js';
import { formatJobStatus, type JobStatus } from './squeue.js';

/** A change of a watched job's state or pending/end reason. */
export interface JobStateChange {
  readonly jobId: string;
  readonly state: JobState;
  /** `Resources`, `Priority`, `NonZeroExitCode`…; `undefined` for none. */
  readonly reason: string | undefined;
  /** The state before this change; `undefined` for the first report of the job. */
  readonly previousState: JobState | undefined;
  /** Everything Slurm reported (nodes, exit code, source). */
  readonly status: JobStatus;
  /** For humans: `PENDING (Resources)`, `RUNNING on n1`, `FAILED (NonZeroExitCode), exit 1`. */
  readonly summary: string;
  /** True for the job's last event: its state is terminal. */
  readonly terminal: boolean;
  /** When the change was seen, in milliseconds since the epoch. */
  readonly observedAt: number;
}

interface TrackedJob {
  last: JobStatus | undefined;
  lastKey: string | undefined;
  activeSince: number | undefined;
  unknownPolls: number;
  done: boolean;
}

export interface SubscriptionLimits {
  queueTimeoutMs: number | undefined;
  runTimeoutMs: number | undefined;
  maxUnknownPolls: number;
}

export class JobSubscription implements AsyncIterableIterator<JobStateChange> {
  readonly #jobs = new Map<string, TrackedJob>();
  readonly #buffer: JobStateChange[] = [];
  readonly #startedAt: number;
  readonly #limits: SubscriptionLimits;
  readonly #onEnd: (subscription: JobSubscription) => void;
  #error: unknown;
  #failed = false;
  #ended = false;
  #notify: (() => void) | undefined;

  constructor(
    jobIds: readonly string[],
    limits: SubscriptionLimits,
    now: number,
    onEnd: (s: JobSubscription) => void,
  ) {
    for (const jobId of jobIds) {
      this.#jobs.set(jobId, {
        last: undefined,
        lastKey: undefined,
        activeSince: undefined,
        unknownPolls: 0,
        done: false,
      });
    }
    this.#startedAt = now;
    this.#limits = limits;
    this.#onEnd = onEnd;
    if (jobIds.length === 0) this.#end();
  }

  /** Jobs still to be polled. */
  pendingJobIds(): string[] {
    return this.#ended ? [] : [...this.#jobs].filter(([, job]) => !job.done).map(([id]) => id);
  }

  /** Feeds one poll's result; returns true when anything was emitted. */
  update(statuses: ReadonlyMap<string, JobStatus>, now: number): boolean {
    let changed = false;
    for (const [jobId, job] of this.#jobs) {
      if (job.done || this.#ended) continue;
      const status = statuses.get(jobId);
      if (status === undefined) {
        job.unknownPolls += 1;
        if (job.unknownPolls >= this.#limits.maxUnknownPolls) {
          this.fail(
            new SlurmTransportError(
              'ERR_SLURM_QUERY',
              `Job ${jobId} is unknown to both squeue and sacct (${job.unknownPolls} polls in a row). Fix: check the job id; a finished job disappears from squeue after MinJobAge, so enable accounting (slurmdbd) to follow jobs to their end.`,
            ),
          );
          return changed;
        }
        continue;
      }
      job.unknownPolls = 0;
      const phase = jobPhase(status.state);
      if (job.activeSince === undefined && (phase === 'active' || phase === 'finished'))
        job.activeSince = now;
      const key = `${status.state}|${status.reason ?? ''}`;
      if (key === job.lastKey) continue;
      const terminal = isTerminalJobState(status.state);
      this.#buffer.push({
        jobId,
        state: status.state,
        reason: status.reason,
        previousState: job.last?.state,
        status,
        summary: formatJobStatus(status),
        terminal,
        observedAt: now,
      });
      job.last = status;
      job.lastKey = key;
      job.done = terminal;
      changed = true;
    }
    if ([...this.#jobs.values()].every((job) => job.done)) this.#end();
    this.#wakeReader();
    return changed;
  }

  /** Fails the watch if a wait limit ran out; returns ms until the next limit (Infinity if none). */
  checkLimits(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    const { queueTimeoutMs, runTimeoutMs } = this.#limits;
    for (const [jobId, job] of this.#jobs) {
      if (job.done || this.#ended) continue;
      const [limit, limitMs, since] =
        job.activeSince === undefined
          ? (['queue', queueTimeoutMs, this.#startedAt] as const)
          : (['run', runTimeoutMs, job.activeSince] as const);
      if (limitMs === undefined) continue;
      const remaining = since + limitMs - now;
      if (remaining <= 0) {
        this.fail(new JobWaitTimeoutError(jobId, limit, limitMs, job.last));
        return Number.POSITIVE_INFINITY;
      }
      next = Math.min(next, remaining);
    }
    return next;
  }

  /** Ends the iteration with `error` once buffered events are read. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#error = error;
    this.#failed = true;
    this.#end();
    this.#wakeReader();
  }

  /** Ends the iteration normally once buffered events are read. */
  close(): void {
    this.#end();
    this.#wakeReader();
  }

  async next(): Promise<IteratorResult<JobStateChange>> {
    for (;;) {
      const event = this.#buffer.shift();
      if (event !== undefined) return { value: event, done: false };
      if (this.#failed) {
        this.#failed = false;
        throw this.#error;
      }
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.#notify = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<JobStateChange>> {
    this.#buffer.length = 0;
    this.#failed = false;
    this.#end();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd(this);
  }

  #wakeReader(): void {
    const notify = this.#notify;
    this.#notify = undefined;
    notify?.();
  }
}
