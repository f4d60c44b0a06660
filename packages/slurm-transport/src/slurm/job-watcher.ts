import { SlurmTransportError } from '../errors.js';
import { abortError } from '../ssh/abort.js';
import type { RemoteExecutor } from '../ssh/remote-executor.js';
import { checkJobIds } from './job-id.js';
import { type JobStateChange, JobSubscription } from './job-subscription.js';
import { type JobStatus, queryJobStates } from './squeue.js';

/** Options of a {@link JobWatcher}: how often it polls, shared by everything it watches. */
export interface JobWatcherOptions {
  /**
   * Delay between polls right after a job is added or any watched job changed; the first poll
   * for a new job runs at once.
   * @default 1000
   */
  initialIntervalMs?: number | undefined;
  /**
   * Delay between polls while a job is about to end: after {@link JobWatcher.expectEnd} (the
   * payload said it finished) or while a job is `COMPLETING`. slurmctld marks a job ended a few
   * ms after its batch script exits, so short polls here decide how soon the end is seen.
   * @default 20
   */
  endingIntervalMs?: number | undefined;
  /**
   * How long polls stay at `endingIntervalMs` after the last sign of an imminent end, in ms; then
   * the normal backoff resumes (a payload that reported `closed` but keeps running costs no more).
   * @default 3000
   */
  endingWindowMs?: number | undefined;
  /**
   * Factor by which the delay grows after each poll in which nothing changed.
   * @default 1.5
   */
  backoffFactor?: number | undefined;
  /**
   * Longest delay between polls. dagster-slurm polls at 2 s growing to 5 s.
   * @default 5000
   */
  maxIntervalMs?: number | undefined;
  /**
   * Failed queries in a row (SSH trouble, slurmctld busy) tolerated before every watch fails with
   * the last error; failed queries are retried at the next interval.
   * @default 5
   */
  maxConsecutiveFailures?: number | undefined;
  /**
   * Polls in a row a job may be unknown to both squeue and sacct before its watch fails with
   * `ERR_SLURM_QUERY` (a wrong id, or a job forgotten by slurmctld without accounting).
   * @default 10
   */
  maxUnknownPolls?: number | undefined;
  /**
   * Ask sacct for the exit code of a job squeue reports ended (see `queryJobStates`). Turn it
   * off when the caller fetches the job's accounting right after its end anyway.
   * @default true
   */
  exitCodes?: boolean | undefined;
  /**
   * Timeout of each squeue/sacct command.
   * @default 60000
   */
  queryTimeoutMs?: number | undefined;
  /** Closes the watcher when aborted: every watch rejects with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined;
  /** Called for each failed query that will be retried. @default undefined */
  onQueryError?: ((error: unknown, consecutiveFailures: number) => void) | undefined;
}

/** Options of one {@link JobWatcher.watch} call. */
export interface WatchJobsOptions {
  /** Stops this watch: the iterator rejects with `ERR_ABORTED`. The jobs are not cancelled. */
  signal?: AbortSignal | undefined;
  /**
   * Longest time a job may stay queued, counted from this call until Slurm first reports it
   * started. Exceeding it fails the watch with {@link JobWaitTimeoutError} (`limit: 'queue'`);
   * the job is not cancelled.
   * @default undefined (no limit)
   */
  queueTimeoutMs?: number | undefined;
  /**
   * Longest time a job may run, counted from when it was first seen started. Exceeding it fails
   * the watch with {@link JobWaitTimeoutError} (`limit: 'run'`); the job is not cancelled.
   * @default undefined (no limit; Slurm enforces the job's own time_limit)
   */
  runTimeoutMs?: number | undefined;
}

interface ResolvedWatcherOptions {
  initialIntervalMs: number;
  endingIntervalMs: number;
  endingWindowMs: number;
  backoffFactor: number;
  maxIntervalMs: number;
  maxConsecutiveFailures: number;
  maxUnknownPolls: number;
  queryTimeoutMs: number;
}

function resolveWatcherOptions(options: JobWatcherOptions): ResolvedWatcherOptions {
  const resolved: ResolvedWatcherOptions = Object.assign(Object.create(null), {
    initialIntervalMs: options.initialIntervalMs ?? 1000,
    endingIntervalMs: options.endingIntervalMs ?? 20,
    endingWindowMs: options.endingWindowMs ?? 3000,
    backoffFactor: options.backoffFactor ?? 1.5,
    maxIntervalMs: options.maxIntervalMs ?? 5000,
    maxConsecutiveFailures: options.maxConsecutiveFailures ?? 5,
    maxUnknownPolls: options.maxUnknownPolls ?? 10,
    queryTimeoutMs: options.queryTimeoutMs ?? 60_000,
  });
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`JobWatcher option ${key} must be a finite number >= 0, got ${String(value)}`);
    }
  }
  if (resolved.backoffFactor < 1) {
    throw new RangeError(`JobWatcher option backoffFactor must be >= 1, got ${resolved.backoffFactor}`);
  }
  if (resolved.maxIntervalMs < resolved.initialIntervalMs) {
    throw new RangeError(
      `JobWatcher option maxIntervalMs (${resolved.maxIntervalMs}) must be >= initialIntervalMs (${resolved.initialIntervalMs})`,
    );
  }
  if (resolved.maxUnknownPolls < 1) {
    throw new RangeError(`JobWatcher option maxUnknownPolls must be >= 1, got ${resolved.maxUnknownPolls}`);
  }
  return resolved;
}

function checkLimit(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value <= 0)) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * Watches Slurm jobs with one batched query per tick for all of them (one `squeue`, plus one
 * `sacct` only for jobs squeue no longer knows or that just finished), however many callers watch.
 * Polls fast after a job is added or anything changed, then backs off while nothing changes.
 * Each {@link watch} is an async iterable of {@link JobStateChange}s that ends after every job it
 * follows reached a terminal state. It never cancels a job.
 */
export class JobWatcher implements Disposable {
  readonly #executor: RemoteExecutor;
  readonly #options: ResolvedWatcherOptions;
  readonly #onQueryError: JobWatcherOptions['onQueryError'];
  readonly #exitCodes: boolean;
  readonly #subscriptions = new Set<JobSubscription>();
  readonly #abort = new AbortController();
  readonly #externalSignal: AbortSignal | undefined;
  #interval: number;
  #failures = 0;
  #running = false;
  #refreshRequested = false;
  // Until when polls run at endingIntervalMs (ms since the epoch).
  #endingUntil = 0;
  #wake: (() => void) | undefined;

  /** @throws {RangeError} naming an invalid option. */
  constructor(executor: RemoteExecutor, options: JobWatcherOptions = {}) {
    this.#executor = executor;
    this.#options = resolveWatcherOptions(options);
    this.#onQueryError = options.onQueryError;
    this.#exitCodes = options.exitCodes ?? true;
    this.#interval = this.#options.initialIntervalMs;
    this.#externalSignal = options.signal;
    if (options.signal?.aborted) {
      this.#abort.abort(options.signal.reason);
    } else {
      options.signal?.addEventListener('abort', () => this.#shutDown(true), { once: true });
    }
  }

  /** Number of watches in progress. */
  get size(): number {
    return this.#subscriptions.size;
  }

  /**
   * Follows `jobIds` until each reached a terminal state, yielding every change of state or
   * reason (the first report of each job included). Exits early via `break`, `signal` or
   * {@link close}; rejects with `ERR_ABORTED` when aborted, `JobWaitTimeoutError` when a limit
   * runs out, or the query error once `maxConsecutiveFailures` is exceeded.
   * @throws {TypeError} for an invalid job id; {@link RangeError} for an invalid limit.
   */
  watch(
    jobIds: string | readonly string[],
    options: WatchJobsOptions = {},
  ): AsyncIterableIterator<JobStateChange> {
    const ids = checkJobIds(typeof jobIds === 'string' ? [jobIds] : jobIds);
    const limits = {
      queueTimeoutMs: checkLimit('queueTimeoutMs', options.queueTimeoutMs),
      runTimeoutMs: checkLimit('runTimeoutMs', options.runTimeoutMs),
      maxUnknownPolls: this.#options.maxUnknownPolls,
    };
    const { signal } = options;
    const onAbort = () => subscription.fail(abortError(signal, 'job watch'));
    const subscription = new JobSubscription(ids, limits, Date.now(), (ended) => {
      this.#subscriptions.delete(ended);
      signal?.removeEventListener('abort', onAbort);
    });
    if (this.#abort.signal.aborted) {
      subscription.fail(
        this.#externalSignal?.aborted
          ? abortError(this.#externalSignal, 'job watch')
          : new SlurmTransportError('ERR_ABORTED', 'The JobWatcher was closed before watch() was called.'),
      );
      return subscription;
    }
    if (ids.length === 0) return subscription;
    this.#subscriptions.add(subscription);
    if (signal?.aborted) {
      onAbort();
      return subscription;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.refresh();
    return subscription;
  }

  /**
   * Polls as soon as possible and restarts the backoff, e.g. when the job's Pipes messages say it
   * is about to end.
   */
  refresh(): void {
    if (this.#abort.signal.aborted) return;
    this.#interval = this.#options.initialIntervalMs;
    this.#refreshRequested = true;
    if (!this.#running) {
      this.#running = true;
      this.#run().catch((error: unknown) => {
        for (const subscription of [...this.#subscriptions]) subscription.fail(error);
      });
    }
    this.#wake?.();
  }

  /**
   * Polls at once and then every `endingIntervalMs` for `endingWindowMs`: a job is about to end
   * (its payload sent Pipes `closed`), and its end should be seen within milliseconds rather
   * than at the next backed-off poll.
   */
  expectEnd(): void {
    this.#endingUntil = Date.now() + this.#options.endingWindowMs;
    this.refresh();
  }

  /** Stops polling and ends every watch normally (after buffered changes are read). Idempotent. */
  close(): void {
    this.#shutDown(false);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #shutDown(aborted: boolean): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(this.#externalSignal?.reason);
    for (const subscription of [...this.#subscriptions]) {
      if (aborted) subscription.fail(abortError(this.#externalSignal, 'job watch'));
      else subscription.close();
    }
    this.#wake?.();
  }

  async #run(): Promise<void> {
    try {
      while (this.#subscriptions.size > 0 && !this.#abort.signal.aborted) {
        const untilLimit = Math.min(...[...this.#subscriptions].map((s) => s.checkLimits(Date.now())));
        await this.#sleep(Math.min(this.#refreshRequested ? 0 : this.#interval, untilLimit));
        if (this.#abort.signal.aborted) break;
        for (const subscription of [...this.#subscriptions]) subscription.checkLimits(Date.now());
        const ids = [...new Set([...this.#subscriptions].flatMap((s) => s.pendingJobIds()))];
        if (ids.length === 0) continue;
        this.#refreshRequested = false;
        const changed = await this.#poll(ids);
        if (this.#abort.signal.aborted) break;
        const { initialIntervalMs, backoffFactor, maxIntervalMs, endingIntervalMs } = this.#options;
        this.#interval =
          Date.now() < this.#endingUntil
            ? endingIntervalMs
            : changed || this.#interval < initialIntervalMs
              ? initialIntervalMs
              : Math.min(maxIntervalMs, this.#interval * backoffFactor);
      }
    } finally {
      // Synchronously with the loop's end, so a watch() right after starts a new loop.
      this.#running = false;
    }
  }

  // One batched query for every watched job; returns true when any watch saw a change.
  async #poll(ids: string[]): Promise<boolean> {
    let statuses: Map<string, JobStatus>;
    try {
      statuses = await queryJobStates(this.#executor, ids, {
        signal: this.#abort.signal,
        timeoutMs: this.#options.queryTimeoutMs,
        exitCodes: this.#exitCodes,
      });
    } catch (error) {
      if (this.#abort.signal.aborted) return false;
      this.#failures += 1;
      if (this.#failures > this.#options.maxConsecutiveFailures) {
        this.#failures = 0;
        for (const subscription of [...this.#subscriptions]) subscription.fail(error);
      } else {
        this.#onQueryError?.(error, this.#failures);
      }
      return false;
    }
    this.#failures = 0;
    const now = Date.now();
    let changed = false;
    for (const subscription of [...this.#subscriptions]) {
      changed = subscription.update(statuses, now) || changed;
    }
    // Cleanup of an ended batch script takes milliseconds: watch for the final state closely.
    for (const status of statuses.values()) {
      if (status.state === 'COMPLETING') this.#endingUntil = now + this.#options.endingWindowMs;
    }
    return changed;
  }

  // Resolves after `ms`, or at once when `refresh()`/`close()` wakes the loop.
  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/**
 * Watches `jobIds` with a watcher of its own (closed when the iteration ends): the one-off form
 * of {@link JobWatcher.watch}.
 */
export async function* watchJobs(
  executor: RemoteExecutor,
  jobIds: string | readonly string[],
  options: JobWatcherOptions & WatchJobsOptions = {},
): AsyncGenerator<JobStateChange, void, undefined> {
  const { signal, queueTimeoutMs, runTimeoutMs, ...watcherOptions } = options;
  const watcher = new JobWatcher(executor, watcherOptions);
  try {
    yield* watcher.watch(jobIds, { signal, queueTimeoutMs, runTimeoutMs });
  } finally {
    watcher.close();
  }
}
