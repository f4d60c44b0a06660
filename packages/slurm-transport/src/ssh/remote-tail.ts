import { SlurmTransportError } from '../errors.js';
import { isAborted, sleep } from './abort.js';
import { backoffDelay, resolveBackoff } from './backoff.js';
import { type Logger, silentLogger } from './logger.js';
import type { RemoteProcess, RemoteSpawner } from './remote-transport.js';
import { TAIL_PROTOCOL_VERSION, TAIL_SCRIPT, TailFrameParser } from './tail-protocol.js';

/** A remote file to follow, from byte `offset`. */
export interface TailFile {
  /** Remote path, absolute or relative to the login directory. It need not exist yet. */
  path: string;
  /**
   * Byte offset to start at, e.g. the end of the last chunk seen before a restart.
   * @default 0
   */
  offset?: number;
}

/** Bytes `[offset, offset + chunk.length)` of the file at `path`. */
export interface TailChunk {
  path: string;
  offset: number;
  chunk: Buffer;
}

/** Options of {@link tailRemoteFiles}. */
export interface TailOptions {
  /** Stops following: the remote loop is ended and the iteration finishes normally. */
  signal?: AbortSignal;
  /**
   * Remote poll interval right after new data, in ms; doubles while idle.
   * @default 50
   */
  pollIntervalMs?: number;
  /**
   * Longest remote poll interval while idle, in ms.
   * @default 1000
   */
  maxPollIntervalMs?: number;
  /**
   * Largest chunk read at once, in bytes.
   * @default 1048576
   */
  maxChunkBytes?: number;
  /**
   * Let the remote loop wake on `inotifywait` events when the tool is installed there (only
   * local writes raise them; polling continues either way).
   * @default true
   */
  inotify?: boolean;
  /**
   * Consecutive restarts without new data (and within 30 s of each other) before giving up; the
   * connection's own reconnects happen inside one restart.
   * @default 10
   */
  maxRestarts?: number;
  /** @default a silent logger */
  logger?: Logger;
}

// Transport failures after which following again from the current offsets can succeed.
const RETRYABLE: ReadonlySet<string> = new Set([
  'ERR_SSH_DISCONNECTED',
  'ERR_SSH_CHANNEL',
  'ERR_SSH_TIMEOUT',
  'ERR_SSH_CONNECT',
  'ERR_REMOTE_COMMAND',
]);
const RESTART_BACKOFF = resolveBackoff({ initialDelayMs: 250, maxDelayMs: 5_000 }, 'tail');
const STDERR_KEEP = 2_048;
const HEALTHY_RUN_MS = 30_000;

/**
 * Follows several remote files over ONE channel and yields their new bytes in order, as they
 * are appended, like `tail -c +N -F` for each file. It deals in bytes: partial lines and split
 * UTF-8 characters are passed on as they are; splitting lines is the consumer's job.
 *
 * Every byte is yielded exactly once and in order per file: after a dropped connection or a
 * failed channel the remote loop restarts from the byte after the last yielded chunk. Consumers
 * that persist `offset + chunk.length` can resume in a new process the same way. A file that
 * shrinks below the offset is followed on from its new size (the next chunk's offset is lower).
 *
 * The iteration ends when `signal` aborts or the consumer stops iterating; both end the remote loop.
 * @throws {SlurmTransportError} after `maxRestarts` restarts without data, or for non-retryable
 *   transport errors (`ERR_SSH_AUTH`, `ERR_SSH_HOST_KEY`, ...).
 */
export async function* tailRemoteFiles(
  spawner: RemoteSpawner,
  files: readonly TailFile[],
  options: TailOptions = {},
): AsyncGenerator<TailChunk, void, undefined> {
  const settings = resolveTailOptions(files, options);
  const { signal, logger } = settings;
  const offsets = files.map((file) => file.offset ?? 0);
  let restarts = 0;
  while (!isAborted(signal)) {
    let process: RemoteProcess | undefined;
    let stderr = '';
    const started = Date.now();
    try {
      process = await spawner.spawn(
        tailArgv(files, offsets, settings),
        signal === undefined ? {} : { signal },
      );
      process.stderr.on('data', (data: Buffer) => {
        stderr = (stderr + data.toString('utf8')).slice(-STDERR_KEEP);
      });
      const parser = new TailFrameParser();
      for await (const data of process.stdout as AsyncIterable<Buffer>) {
        for (const frame of parser.push(data)) {
          const file = 'index' in frame ? files[frame.index] : undefined;
          if ('index' in frame && file === undefined) {
            throw new SlurmTransportError(
              'ERR_REMOTE_COMMAND',
              `The remote tail loop named file #${frame.index}, which does not exist.`,
            );
          }
          const path = file?.path as string;
          const index = 'index' in frame ? frame.index : -1;
          switch (frame.type) {
            case 'hello':
              if (frame.version !== TAIL_PROTOCOL_VERSION) {
                throw new SlurmTransportError(
                  'ERR_REMOTE_COMMAND',
                  `The remote tail loop speaks version ${frame.version}, expected ${TAIL_PROTOCOL_VERSION}.`,
                );
              }
              logger.debug(`Following ${files.length} remote file(s) (${frame.mode})`);
              break;
            case 'data':
              if (frame.offset !== offsets[index]) {
                throw new SlurmTransportError(
                  'ERR_REMOTE_COMMAND',
                  `The remote tail loop sent ${path} from byte ${frame.offset}, expected ${offsets[index]}.`,
                );
              }
              offsets[index] = frame.offset + frame.chunk.length;
              restarts = 0;
              yield { path, offset: frame.offset, chunk: frame.chunk };
              break;
            case 'truncated':
              logger.warn(
                `${path} shrank from ${offsets[index]} to ${frame.size} bytes; following on from ${frame.size}`,
              );
              offsets[index] = frame.size;
              break;
            case 'unreadable':
              logger.warn(`${path} exists but cannot be opened; still trying`);
              break;
          }
        }
      }
      const exit = await process.exited;
      if (isAborted(signal)) {
        return;
      }
      throw new SlurmTransportError(
        'ERR_REMOTE_COMMAND',
        `The remote tail loop exited (code ${exit.exitCode}, signal ${exit.signal})${stderr === '' ? '' : `: ${stderr.trim()}`}`,
        { exitCode: exit.exitCode, signal: exit.signal, stderr },
      );
    } catch (error) {
      if (isAborted(signal)) {
        return;
      }
      // A stream error of a channel whose connection went away is not a SlurmTransportError.
      const code = error instanceof SlurmTransportError ? error.code : 'ERR_SSH_CHANNEL';
      // Like the reference reader: a loop that ran for a while was healthy, so start counting afresh.
      restarts = Date.now() - started >= HEALTHY_RUN_MS ? 1 : restarts + 1;
      if (!RETRYABLE.has(code) || restarts > settings.maxRestarts) {
        throw error;
      }
      const delayMs = backoffDelay(restarts, RESTART_BACKOFF);
      logger.warn(
        `Remote tail interrupted (${(error as Error).message}); restarting from the last offsets in ${delayMs} ms`,
      );
      try {
        await sleep(delayMs, signal);
      } catch {
        return;
      }
    } finally {
      process?.close();
    }
  }
}

type ResolvedTailOptions = Required<Omit<TailOptions, 'signal'>> & { signal: AbortSignal | undefined };

function resolveTailOptions(files: readonly TailFile[], options: TailOptions): ResolvedTailOptions {
  if (!Array.isArray(files) || files.length === 0) {
    throw new TypeError('tailRemoteFiles: files must be a non-empty array of { path, offset }');
  }
  for (const [index, file] of files.entries()) {
    if (typeof file?.path !== 'string' || file.path === '') {
      throw new TypeError(`tailRemoteFiles: files[${index}].path must be a non-empty string`);
    }
    const offset = file.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(
        `tailRemoteFiles: files[${index}].offset must be an integer >= 0, got ${String(offset)}`,
      );
    }
  }
  const resolved = {
    signal: options.signal,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    maxPollIntervalMs: options.maxPollIntervalMs ?? 1_000,
    maxChunkBytes: options.maxChunkBytes ?? 1_048_576,
    inotify: options.inotify ?? true,
    maxRestarts: options.maxRestarts ?? 10,
    logger: options.logger ?? silentLogger,
  };
  for (const key of ['pollIntervalMs', 'maxPollIntervalMs', 'maxChunkBytes', 'maxRestarts'] as const) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`tailRemoteFiles: ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (resolved.maxPollIntervalMs < resolved.pollIntervalMs) {
    throw new RangeError('tailRemoteFiles: maxPollIntervalMs must be >= pollIntervalMs');
  }
  return resolved;
}

function tailArgv(
  files: readonly TailFile[],
  offsets: readonly number[],
  settings: ResolvedTailOptions,
): string[] {
  // `exec`: the wrapping bash is replaced by the loop, one long-lived remote process per tail.
  const argv = [
    'exec',
    'bash',
    '--noprofile',
    '--norc',
    '-c',
    TAIL_SCRIPT,
    'slurm-pipes-tail',
    String(settings.pollIntervalMs),
    String(settings.maxPollIntervalMs),
    String(settings.maxChunkBytes),
    settings.inotify ? '1' : '0',
  ];
  for (const [index, file] of files.entries()) {
    argv.push(file.path, String(offsets[index]));
  }
  return argv;
}
