import { type FSWatcher, watch } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineDecoder } from './line-decoder.js';
import { fileLineEvent } from './line-events.js';
import { makePrivateTempDir, removeTempDir } from './private-temp-dir.js';
import type { PipesMessageReader, PipesReaderEvent } from './reader-events.js';
import { deferred, Wakeup } from './wakeup.js';

/** Options of {@link FileMessageReader.open}. */
export interface FileMessageReaderOptions {
  /**
   * Ask the external process to forward its own stdout/stderr as `log_external_stream` messages
   * (`include_stdio_in_messages` in the params).
   * @default false
   */
  includeStdioInMessages?: boolean;
  /**
   * Parent of the private temp dir holding the messages file.
   * @default os.tmpdir()
   */
  tmpDir?: string;
  /**
   * Fallback poll interval in ms; `fs.watch` usually wakes the reader sooner.
   * @default 50
   */
  pollIntervalMs?: number;
  /**
   * Longest message line in bytes; see {@link LineDecoderOptions.maxLineLength}.
   * @default 67108864 (64 MiB)
   */
  maxLineLength?: number;
  /** Stops reading: the iteration throws the signal's reason. */
  signal?: AbortSignal;
}

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Reads messages by tailing a file, like Dagster's `PipesTempFileMessageReader`: it creates an
 * empty `messages` file in a private temp dir (0700; the file 0600), tells the external process
 * `{path, include_stdio_in_messages}`, and reads it by byte offset, woken by `fs.watch` with a
 * short poll as fallback. A partial line waits for its newline; a bad line is reported as a
 * `protocol-error` and reading goes on (Dagster's reader thread would die there). `close()`
 * reads to EOF, ends the iteration and removes the directory.
 */
export class FileMessageReader implements PipesMessageReader {
  readonly kind = 'file' as const;
  /** The messages file. */
  readonly path: string;
  readonly params: Readonly<{ path: string; include_stdio_in_messages: boolean }>;
  readonly debugText: string;
  readonly #dir: string;
  readonly #pollIntervalMs: number;
  readonly #decoder: LineDecoder;
  readonly #signal: AbortSignal | undefined;
  readonly #wakeup = new Wakeup();
  readonly #finished = deferred();
  #started = false;
  #closeRequested = false;
  #closing: Promise<void> | undefined;

  private constructor(dir: string, decoder: LineDecoder, options: FileMessageReaderOptions) {
    this.#dir = dir;
    this.path = join(dir, 'messages');
    this.params = { path: this.path, include_stdio_in_messages: options.includeStdioInMessages ?? false };
    this.debugText = `Attempted to read messages from file ${this.path}.`;
    this.#pollIntervalMs = options.pollIntervalMs ?? 50;
    this.#decoder = decoder;
    this.#signal = options.signal;
  }

  /**
   * Creates the private temp dir and the empty messages file.
   * @throws {RangeError} for a `pollIntervalMs` or `maxLineLength` that is not a positive number.
   */
  static async open(options: FileMessageReaderOptions = {}): Promise<FileMessageReader> {
    const poll = options.pollIntervalMs ?? 50;
    if (!(Number.isFinite(poll) && poll > 0)) {
      throw new RangeError(`pollIntervalMs must be a positive number of milliseconds; got ${String(poll)}.`);
    }
    const decoder = new LineDecoder(
      options.maxLineLength === undefined ? {} : { maxLineLength: options.maxLineLength },
    );
    options.signal?.throwIfAborted();
    const dir = await makePrivateTempDir('slurm-pipes-messages-', options.tmpDir);
    const reader = new FileMessageReader(dir, decoder, options);
    await writeFile(reader.path, '', { mode: 0o600 });
    return reader;
  }

  events(): AsyncIterable<PipesReaderEvent> {
    return this.#tail();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#closeRequested = true;
    this.#wakeup.notify();
    if (this.#started) await this.#finished.promise;
    await removeTempDir(this.#dir);
  }

  async *#tail(): AsyncGenerator<PipesReaderEvent> {
    if (this.#started) throw new TypeError('FileMessageReader.events() can be iterated only once.');
    this.#started = true;
    try {
      // Closed before the iteration began: the directory is gone, there is nothing to read.
      if (this.#closeRequested) return;
      const decoder = this.#decoder;
      const handle = await open(this.path, 'r');
      const watcher = watchFile(this.path, () => this.#wakeup.notify());
      const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      let offset = 0;
      try {
        for (;;) {
          // Read before checking again, so a close() that lands during a read still gets a final pass.
          const closing = this.#closeRequested;
          for (;;) {
            this.#signal?.throwIfAborted();
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
            if (bytesRead === 0) break;
            offset += bytesRead;
            yield* decoder.write(buffer.subarray(0, bytesRead)).map(fileLineEvent);
          }
          if (closing) {
            yield* decoder.end().map(fileLineEvent);
            return;
          }
          await this.#wakeup.wait(this.#pollIntervalMs, this.#signal);
        }
      } finally {
        watcher?.close();
        await handle.close();
      }
    } finally {
      this.#finished.resolve();
    }
  }
}

// fs.watch is an optimisation: where it is unavailable (inotify limits, some network file
// systems) the poll alone keeps the reader going.
function watchFile(path: string, onChange: () => void): FSWatcher | undefined {
  try {
    const watcher = watch(path, { persistent: false }, onChange);
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}
