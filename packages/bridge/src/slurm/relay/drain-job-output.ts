import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';
import type { JobTail } from '../job-tail.js';
import { remoteFileSizes } from '../remote-files.js';
import { firstLine, retryTransient } from './transport-retry.js';

/** Options of {@link drainJobOutput}. */
export interface DrainJobOutputOptions {
  /** Runs the size and range reads on the login node. */
  executor: RemoteExecutor;
  /** The job's files, in the tail's order. */
  paths: readonly string[];
  /** The tail that followed them; stopped here. */
  tail: JobTail;
  /** Receives the bytes the tail did not deliver, in order, as the tail's consumer would. */
  feed: (index: number, chunk: Buffer) => void;
  log: (line: string) => void;
  /**
   * How long the tail may go without progress before the rest is read by range instead, in ms.
   * @default 30000
   */
  drainTimeoutMs?: number;
  /**
   * How long transient failures of the final reads are retried, in ms.
   * @default 600000
   */
  retryForMs?: number;
  /**
   * Largest range read at once, in bytes (what is held in memory at a time).
   * @default 1048576
   */
  rangeBytes?: number;
}

/** What {@link drainJobOutput} managed. */
export interface DrainedJobOutput {
  /** True when every byte up to the files' final sizes was delivered, each once. */
  complete: boolean;
  /** The final sizes, when they could be read. */
  sizes: number[] | undefined;
}

// Prints bytes [$2, $2 + $3) of "$1" as base64 (exec carries text; the bytes may split a character).
const READ_RANGE = `dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none | base64 -w 0`;

/**
 * Ends the relay of a job that ended: reads the files' final sizes (retrying transient
 * failures), lets the tail deliver up to them, stops it, and reads whatever it did not deliver
 * in bounded ranges from its offsets, so every byte reaches `feed` exactly once and no file is
 * ever held whole in memory. `complete: false` means bytes are missing (the login node stayed
 * out of reach for `retryForMs`): the caller must not report the step as fully relayed.
 */
export async function drainJobOutput(options: DrainJobOutputOptions): Promise<DrainedJobOutput> {
  const { executor, paths, tail, feed, log } = options;
  const retry = { log, ...(options.retryForMs === undefined ? {} : { retryForMs: options.retryForMs }) };
  const sizes = await retryTransient(
    "read the final sizes of the job's files",
    () => remoteFileSizes(executor, paths, { timeoutMs: 60_000 }),
    retry,
  ).catch((error: unknown) => {
    log(`could not read the final sizes of the job's files: ${firstLine(error)}`);
    return undefined;
  });
  if (sizes !== undefined) await tail.drain(sizes, options.drainTimeoutMs ?? 30_000);
  await tail.stop();
  if (sizes === undefined) return { complete: false, sizes };
  const rangeBytes = options.rangeBytes ?? 1_048_576;
  let complete = true;
  for (const [index, path] of paths.entries()) {
    const size = sizes[index] ?? 0;
    let offset = tail.offsets[index] ?? 0;
    if (offset < size) log(`reading the rest of ${path} from byte ${offset} (${size - offset} bytes)`);
    try {
      while (offset < size) {
        const length = Math.min(rangeBytes, size - offset);
        const chunk = await retryTransient(
          `read ${path} from byte ${offset}`,
          () => readRange(executor, path, offset, length),
          retry,
        );
        if (chunk.length === 0) break;
        feed(index, chunk);
        offset += chunk.length;
      }
    } catch (error) {
      log(`could not read ${path} from byte ${offset}: ${firstLine(error)}`);
    }
    if (offset < size) complete = false;
  }
  return { complete, sizes };
}

async function readRange(
  executor: RemoteExecutor,
  path: string,
  offset: number,
  length: number,
): Promise<Buffer> {
  const result = await executor.exec(
    ['bash', '--noprofile', '--norc', '-c', READ_RANGE, 'slurm-pipes', path, String(offset), String(length)],
    { timeoutMs: 60_000 },
  );
  if (result.exitCode !== 0) {
    throw new BridgeError(
      'ERR_BRIDGE_RELAY',
      `Could not read ${path} on the cluster (exit code ${result.exitCode ?? `signal ${result.signal}`}): ${result.stderr.trim() || '(no error output)'}.`,
    );
  }
  return Buffer.from(result.stdout.trim(), 'base64');
}
