import {
  cancelJob,
  describePendingReason,
  type JobStateChange,
  JobWaitTimeoutError,
  JobWatcher,
  jobPhase,
  type RemoteExecutor,
} from '@slurm-pipes/slurm-transport';
import { decideOnAbort } from './cancellation-policy.js';
import { firstLine, isTransientTransportError } from './relay/transport-retry.js';
import { RequeueTracker } from './requeue-tracker.js';
import { waitProgressLine } from './wait-progress.js';

/** Options of {@link followJob}. */
export interface FollowJobOptions {
  executor: RemoteExecutor;
  jobId: string;
  /** The step's abort signal; what happens then is {@link decideOnAbort}'s call. */
  signal: AbortSignal;
  log: (line: string) => void;
  /** First poll interval in ms (also after each change). @default 1000 */
  initialIntervalMs?: number;
  /** Longest poll interval in ms. @default 5000 */
  maxIntervalMs?: number;
  /** How long to wait for the job to end after `scancel`, in ms. @default 300000 */
  cancelWaitMs?: number;
  /** Longest wait in the queue before the limit acts, in ms. @default undefined (no limit) */
  queueTimeoutMs?: number | undefined;
  /** Longest run time (from the start) before the limit acts, in ms. @default undefined (no limit) */
  runTimeoutMs?: number | undefined;
  /**
   * When a limit is reached: `true` cancels the job (`scancel`); `false` stops following and
   * leaves the job running (a re-launch reattaches).
   * @default false
   */
  cancelOnTimeout?: boolean;
  /**
   * How long Slurm may be out of reach (SSH dropped, sshd down, the daemon restarting) before
   * following fails, in ms: until then failed queries are retried, the job is not cancelled, and
   * the tail of its files keeps reconnecting too.
   * @default 1800000 (30 minutes)
   */
  unreachableTimeoutMs?: number;
  /** Pause before watching again after the watcher gave up on a transient failure, in ms. @default 5000 */
  rewatchDelayMs?: number;
  /**
   * While the job waits in the queue (pending, requeued, held) with no change of state, a line
   * saying so is logged this often, in ms, so a long wait is never silent.
   * @default 60000
   */
  progressIntervalMs?: number;
}

/** How following a job ended. */
export interface FollowedJob {
  /** The terminal state change; undefined when the bridge stopped following first (detach, or no end after scancel). */
  final: JobStateChange | undefined;
  /** True when the bridge asked Slurm to cancel the job. */
  cancelled: boolean;
  /** True when the bridge left the job running on purpose. */
  detached: boolean;
  /** The limit that was reached, if one was: `'queue'` or `'run'`. */
  limitReached?: 'queue' | 'run';
  /** When the job was first seen holding an allocation (ms since the epoch). */
  startedAt: number | undefined;
  /** The job's nodes as Slurm last reported them (`n[1-2]`). */
  nodes: string | undefined;
  /** How many times the job was seen going back to the queue after it ran (Slurm requeued it). */
  requeues: number;
}

/** A followed job. */
export interface JobFollower {
  readonly done: Promise<FollowedJob>;
  /** Polls at once. */
  refresh(): void;
  /** Polls at once and then every few ms for a while: the payload sent `closed`, its job is about to end. */
  expectEnd(): void;
}

/** One human line per state change: `Slurm job 12 PENDING (Priority): Other jobs… ahead in the queue.` */
export function describeChange(change: JobStateChange): string {
  let line = `Slurm job ${change.jobId} ${change.summary}`;
  if (change.state === 'PENDING' && change.reason !== undefined && change.reason !== 'None') {
    const { meaning, fix, blocked } = describePendingReason(change.reason);
    line += `: ${meaning}`;
    if (blocked && fix !== undefined)
      line += ` It will not start as it is. Fix: ${fix.replaceAll('<id>', change.jobId)}`;
  }
  return line;
}

/**
 * Follows a submitted job with the batched {@link JobWatcher} until it ends, logging each change
 * of state (`PENDING (Resources)`, `RUNNING on n1`, …). No timeout cancels it: only an abort of
 * `signal` does, and then as {@link decideOnAbort} decides: `scancel` and wait for the end, or
 * stop following and leave the job running. A lost connection is no reason to stop: failed
 * queries are retried, and when the watcher gives up on a transient transport error it watches
 * again, until Slurm has not answered for `unreachableTimeoutMs`.
 * @throws the watcher's error when Slurm cannot be queried for that long, or a non-transient
 *   error (an unknown job, authentication); the job is not cancelled then.
 */
export function followJob(options: FollowJobOptions): JobFollower {
  const { jobId, signal, log } = options;
  const unreachableTimeoutMs = options.unreachableTimeoutMs ?? 1_800_000;
  // When Slurm last answered: every successful command, whatever the watcher made of it.
  let contactAt = Date.now();
  const executor: RemoteExecutor = {
    exec: async (argv, execOptions) => {
      const result = await options.executor.exec(argv, execOptions);
      contactAt = Date.now();
      return result;
    },
  };
  const stop = new AbortController();
  // Aborted once following ends on purpose (detach, or no end after scancel); wakes a pause.
  const closing = new AbortController();
  const closeWatcher = () => {
    closing.abort();
    watcher.close();
  };
  const watcher = new JobWatcher(executor, {
    initialIntervalMs: options.initialIntervalMs ?? 1000,
    maxIntervalMs: options.maxIntervalMs ?? 5000,
    maxConsecutiveFailures: 60,
    // finishJob asks sacct for the job's accounting right after its end, exit code included.
    exitCodes: false,
    signal: stop.signal,
    onQueryError: (error, failures) =>
      log(
        `could not query Slurm for job ${jobId} (${failures} in a row, retrying): ${(error as Error).message.split('\n')[0]}`,
      ),
  });
  let cancelled = false;
  let detached = false;
  let limitReached: 'queue' | 'run' | undefined;
  let giveUp: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (decideOnAbort(signal.reason) === 'detach') {
      detached = true;
      log(`step stopped: leaving Slurm job ${jobId} running (its record is job.json in the run directory)`);
      closeWatcher();
      return;
    }
    log(`step terminated: cancelling Slurm job ${jobId}`);
    cancel();
  };
  const cancel = () => {
    cancelled = true;
    cancelJob(executor, jobId, { timeoutMs: 60_000 }).then(
      (outcome) => {
        log(
          outcome === 'requested'
            ? `scancel ${jobId} accepted; waiting for the job to end`
            : `job ${jobId} had already ended`,
        );
        watcher.refresh();
      },
      (error: unknown) => log(`scancel ${jobId} failed: ${(error as Error).message}`),
    );
    giveUp = setTimeout(() => {
      log(
        `job ${jobId} has not ended ${Math.round((options.cancelWaitMs ?? 300_000) / 1000)} s after scancel; no longer waiting`,
      );
      closeWatcher();
    }, options.cancelWaitMs ?? 300_000);
    giveUp.unref();
  };

  const done = (async (): Promise<FollowedJob> => {
    let final: JobStateChange | undefined;
    let startedAt: number | undefined;
    let nodes: string | undefined;
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const followedSince = Date.now();
    const requeue = new RequeueTracker();
    // The last change and when it was seen, for the progress lines of a long wait in the queue.
    let last: JobStateChange | undefined;
    let lastAt = Date.now();
    const progressMs = options.progressIntervalMs ?? 60_000;
    const progress = setInterval(() => {
      const line = last === undefined ? undefined : waitProgressLine(last, Date.now() - lastAt);
      if (line !== undefined) log(line);
    }, progressMs);
    progress.unref();
    // The limits still to run, so a watch started again after an outage does not restart them.
    const limits = () => {
      if (limitReached !== undefined) return {};
      const left = (limitMs: number, since: number) => Math.max(1, limitMs - (Date.now() - since));
      const { queueTimeoutMs, runTimeoutMs } = options;
      return {
        ...(queueTimeoutMs === undefined || startedAt !== undefined
          ? {}
          : { queueTimeoutMs: left(queueTimeoutMs, followedSince) }),
        ...(runTimeoutMs === undefined
          ? {}
          : { runTimeoutMs: startedAt === undefined ? runTimeoutMs : left(runTimeoutMs, startedAt) }),
      };
    };
    try {
      for (;;) {
        try {
          for await (const change of watcher.watch(jobId, limits())) {
            log(describeChange(change));
            const requeued = requeue.observe(change);
            if (requeued !== undefined) log(requeued);
            last = change;
            lastAt = Date.now();
            if (startedAt === undefined && jobPhase(change.state) !== 'queued') startedAt = change.observedAt;
            // The allocation as seen while the job holds it: once it ended, squeue may list only the
            // batch host, and sacct a stand-in row.
            if (jobPhase(change.state) === 'active' || nodes === undefined)
              nodes = change.status.nodes ?? nodes;
            if (change.terminal) final = change;
          }
          break;
        } catch (error) {
          if (closing.signal.aborted) break;
          if (!(error instanceof JobWaitTimeoutError)) {
            // Out of reach for a while: go on while the outage is shorter than the limit (the job
            // runs on regardless; only a cancel or a detach ends following it early).
            const silentMs = Date.now() - contactAt;
            if (!isTransientTransportError(error) || silentMs >= unreachableTimeoutMs) throw error;
            log(
              `Slurm has not answered about job ${jobId} for ${Math.round(silentMs / 1000)} s (${firstLine(error)}); still following it, for up to ${Math.round(unreachableTimeoutMs / 60_000)} min`,
            );
            await pause(options.rewatchDelayMs ?? 5000, closing.signal);
            if (closing.signal.aborted) break;
            continue;
          }
          if (limitReached !== undefined) throw error;
          // A limit the user set: cancel only when asked to, else leave the job to a re-launch.
          limitReached = error.limit;
          log(`${error.message}`);
          if (options.cancelOnTimeout) {
            cancel();
            continue;
          }
          detached = true;
          log(
            `leaving Slurm job ${jobId} running (slurm.cancelOnTimeout is off); a re-launch of the step reattaches`,
          );
          break;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(giveUp);
      clearInterval(progress);
      stop.abort();
    }
    return {
      final,
      cancelled,
      detached,
      startedAt,
      nodes,
      requeues: requeue.requeues,
      ...(limitReached === undefined ? {} : { limitReached }),
    };
  })();
  return { done, refresh: () => watcher.refresh(), expectEnd: () => watcher.expectEnd() };
}

// Resolves after `ms`, or at once when `signal` aborts.
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
