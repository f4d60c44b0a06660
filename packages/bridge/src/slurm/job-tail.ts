import {
  type BackoffOptions,
  backoffDelay,
  isSlurmTransportError,
  type RemoteSpawner,
  resolveBackoff,
  type TailOptions,
  tailRemoteFiles,
} from '@slurm-pipes/slurm-transport';
import { firstLine, isTransientTransportError } from './relay/transport-retry.js';

/** A running tail of a job's files. */
export interface JobTail {
  /**
   * Bytes consumed so far per file, in the order the files were given: an offset advances only
   * once `onChunk` returned (and its promise, if any, settled) for the bytes before it.
   */
  readonly offsets: readonly number[];
  /**
   * Waits until every file was consumed up to `sizes` (its size once the job ended), the tail
   * failed, or `timeoutMs` passed without progress; while the tail is reconnecting or waiting
   * for a channel it waits up to `reconnectWaitMs` (see {@link JobTailOptions}) instead.
   * @returns true when everything up to `sizes` was consumed.
   */
  drain(sizes: readonly number[], timeoutMs: number): Promise<boolean>;
  /** Ends the tail's remote loop and waits for it; resolves with the tail's error, if it failed. */
  stop(): Promise<unknown>;
}

/**
 * Receives the bytes `[offsets[index], offsets[index] + chunk.length)` of file `index`. A returned
 * promise holds the tail back until it settles (backpressure); a throw ends the tail.
 */
export type JobChunkHandler = (index: number, chunk: Buffer) => undefined | void | Promise<void>;

/** Options of {@link startJobTail}. */
export interface JobTailOptions {
  /**
   * Delays between restarts of the remote tail after it gave up on a transient failure (its own
   * quick restarts exhausted): it is restarted for as long as the tail runs, i.e. until the
   * caller, who follows the job, stops it.
   * @default { initialDelayMs: 1000, maxDelayMs: 10000 }
   */
  retry?: BackoffOptions;
  /**
   * How long {@link JobTail.drain} keeps waiting while the tail is reconnecting or waiting for a
   * free channel, in ms.
   * @default 600000
   */
  reconnectWaitMs?: number;
  /**
   * Options of the remote tail (poll intervals, chunk size, quick restarts before the backoff
   * of `retry` takes over).
   * @default { maxRestarts: 1 }
   */
  tail?: Omit<TailOptions, 'signal' | 'logger'>;
}

// A failure of the consumer (e.g. the channel to Dagster), which no reconnect can fix.
class ConsumerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Follows `paths` over ONE channel (`tailRemoteFiles`) and hands every chunk to `onChunk(index,
 * bytes)` in order, each byte exactly once. The tail survives a lost connection: the remote loop
 * restarts at once from the consumed offsets, and when those quick restarts run out (sshd down
 * for a while) it is restarted with backoff, again from the consumed offsets, for as long as the
 * caller lets it run. Only non-transient errors (authentication, host key, a consumer that threw)
 * end it early. Offsets are kept in memory only; see `LineCursor` for why that is the durability
 * exactly-once needs.
 */
export function startJobTail(
  spawner: RemoteSpawner,
  paths: readonly string[],
  onChunk: JobChunkHandler,
  log: (line: string) => void,
  options: JobTailOptions = {},
): JobTail {
  const backoff = resolveBackoff({ initialDelayMs: 1000, maxDelayMs: 10_000, ...options.retry }, 'retry');
  const reconnectWaitMs = options.reconnectWaitMs ?? 600_000;
  const controller = new AbortController();
  const offsets = paths.map(() => 0);
  const index = new Map(paths.map((path, i) => [path, i]));
  let failure: unknown;
  let ended = false;
  let reconnecting = false;
  let spawning = false;
  let progressAt = Date.now();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const logger = { debug() {}, info: log, warn: log };

  // Sees the remote loop start and die, quick restarts inside tailRemoteFiles included, so
  // drain() knows when the tail is reconnecting rather than idle.
  const tracked: RemoteSpawner = {
    spawn: async (argv, spawnOptions) => {
      const markLost = () => {
        if (controller.signal.aborted) return;
        reconnecting = true;
        wake();
      };
      // Waiting for a channel (the connection's slots are all taken) is no idle tail either.
      spawning = true;
      try {
        const process = await spawner.spawn(argv, spawnOptions);
        spawning = false;
        reconnecting = false;
        progressAt = Date.now();
        void process.exited.then(markLost, markLost);
        return process;
      } catch (error) {
        spawning = false;
        markLost();
        throw error;
      }
    },
  };

  const follow = async () => {
    const files = paths.map((path, i) => ({ path, offset: offsets[i] ?? 0 }));
    for await (const { path, offset, chunk } of tailRemoteFiles(tracked, files, {
      // One quick restart inside the remote tail; a failure that persists comes back here, where
      // the backoff is longer and `reconnecting` tells drain() to keep waiting.
      maxRestarts: 1,
      ...options.tail,
      signal: controller.signal,
      logger,
    })) {
      const i = index.get(path) as number;
      try {
        const pending = onChunk(i, chunk);
        if (pending !== undefined) await pending;
      } catch (error) {
        throw new ConsumerFailure(error);
      }
      offsets[i] = offset + chunk.length;
      progressAt = Date.now();
      reconnecting = false;
      wake();
    }
  };

  const pump = (async () => {
    let attempt = 0;
    try {
      while (!controller.signal.aborted) {
        const consumed = offsets.reduce((sum, offset) => sum + offset, 0);
        try {
          await follow();
          return;
        } catch (error) {
          if (controller.signal.aborted) return;
          // Data since the last failure: this is a new outage, start the backoff afresh.
          if (offsets.reduce((sum, offset) => sum + offset, 0) > consumed) attempt = 0;
          const cause = error instanceof ConsumerFailure ? error.error : error;
          // A stream error of a channel whose connection went away is no SlurmTransportError.
          const transient =
            !(error instanceof ConsumerFailure) &&
            (!isSlurmTransportError(error) || isTransientTransportError(error));
          if (!transient) {
            failure = cause;
            log(`following the job's files failed: ${firstLine(cause)}`);
            return;
          }
          attempt += 1;
          const delayMs = backoffDelay(attempt, backoff);
          log(
            `following the job's files was interrupted (${firstLine(cause)}); resuming at bytes ${offsets.join('/')} in ${delayMs} ms (attempt ${attempt})`,
          );
          await pause(delayMs, controller.signal);
        }
      }
    } finally {
      ended = true;
      wake();
    }
  })();

  return {
    offsets,
    async drain(sizes, timeoutMs) {
      const started = Date.now();
      const reached = () => sizes.every((size, i) => (offsets[i] ?? 0) >= size);
      // Progress restarts the clock; a reconnect in progress gets the longer wait.
      const deadline = () =>
        reconnecting || spawning
          ? started + Math.max(timeoutMs, reconnectWaitMs)
          : Math.max(started, progressAt) + timeoutMs;
      while (!reached() && !ended && Date.now() < deadline()) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, Math.min(250, deadline() - Date.now())));
          waiters.add(done);
        });
      }
      return reached();
    },
    async stop() {
      controller.abort();
      await pump;
      return failure;
    },
  };
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
