import { type RemoteSpawner, tailRemoteFiles } from '@slurm-pipes/slurm-transport';

/** A running tail of a job's files. */
export interface JobTail {
  /** Bytes consumed so far per file, in the order the files were given. */
  readonly offsets: readonly number[];
  /**
   * Waits until every file was consumed up to `sizes` (its size once the job ended), the tail
   * failed, or `timeoutMs` passed.
   * @returns true when everything up to `sizes` was consumed.
   */
  drain(sizes: readonly number[], timeoutMs: number): Promise<boolean>;
  /** Ends the tail's remote loop and waits for it; resolves with the tail's error, if it failed. */
  stop(): Promise<unknown>;
}

/**
 * Follows `paths` over ONE channel (`tailRemoteFiles`, which resumes from byte offsets after a
 * dropped connection) and hands every chunk to `onChunk(index, bytes)` in order.
 */
export function startJobTail(
  spawner: RemoteSpawner,
  paths: readonly string[],
  onChunk: (index: number, chunk: Buffer) => void,
  log: (line: string) => void,
): JobTail {
  const controller = new AbortController();
  const offsets = paths.map(() => 0);
  const index = new Map(paths.map((path, i) => [path, i]));
  let failure: unknown;
  let ended = false;
  let notify: (() => void) | undefined;
  const wake = () => {
    const n = notify;
    notify = undefined;
    n?.();
  };
  const logger = { debug() {}, info: log, warn: log };
  const pump = (async () => {
    try {
      for await (const { path, offset, chunk } of tailRemoteFiles(
        spawner,
        paths.map((p) => ({ path: p })),
        { signal: controller.signal, logger },
      )) {
        const i = index.get(path) as number;
        offsets[i] = offset + chunk.length;
        onChunk(i, chunk);
        wake();
      }
    } catch (error) {
      failure = error;
      log(`following the job's files failed: ${(error as Error).message}`);
    } finally {
      ended = true;
      wake();
    }
  })();

  return {
    offsets,
    async drain(sizes, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const reached = () => sizes.every((size, i) => (offsets[i] ?? 0) >= size);
      while (!reached() && !ended && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, Math.max(0, Math.min(250, deadline - Date.now())));
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
