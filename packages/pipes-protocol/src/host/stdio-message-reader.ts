import type { Readable } from 'node:stream';
import { LineDecoder } from './line-decoder.js';
import { stdioLineEvent } from './line-events.js';
import type { PipesMessageReader, PipesOutputStream, PipesReaderEvent } from './reader-events.js';
import { abortable, deferred } from './wakeup.js';

/** Options of {@link StdioMessageReader.create}. */
export interface StdioMessageReaderOptions {
  /**
   * The stream the external process is told to write messages to (`{stdio: <stream>}`); attach
   * that stream of the child.
   * @default 'stdout'
   */
  stream?: PipesOutputStream;
  /** The child's stream to read, if already at hand; else call {@link StdioMessageReader.attach} later. */
  source?: Readable;
  /**
   * Longest line in bytes; see {@link LineDecoderOptions.maxLineLength}.
   * @default 67108864 (64 MiB)
   */
  maxLineLength?: number;
  /** Stops reading: the iteration throws the signal's reason. The source stream is left alone. */
  signal?: AbortSignal;
}

/**
 * Reads messages from the child's stdout (or stderr) as Dagster's stdio-based readers do: each
 * line that is a JSON object with `__dagster_pipes_version` is a message, every other line is
 * an `output` event (see {@link stdioLineEvent}). The iteration waits for a source to be
 * attached and ends when the source ends; `close()` waits for that (it does not end the stream).
 */
export class StdioMessageReader implements PipesMessageReader {
  readonly kind = 'stdio' as const;
  /** Which stream of the child carries the messages. */
  readonly stream: PipesOutputStream;
  readonly params: Readonly<{ stdio: PipesOutputStream }>;
  readonly debugText: string;
  readonly #decoder: LineDecoder;
  readonly #signal: AbortSignal | undefined;
  readonly #attached = deferred();
  readonly #finished = deferred();
  #source: Readable | undefined;
  #started = false;
  #closing: Promise<void> | undefined;

  private constructor(decoder: LineDecoder, options: StdioMessageReaderOptions) {
    this.stream = options.stream ?? 'stdout';
    this.params = { stdio: this.stream };
    this.debugText = `Attempted to read messages from the external process's ${this.stream}.`;
    this.#decoder = decoder;
    this.#signal = options.signal;
    if (options.source) this.attach(options.source);
  }

  /**
   * Creates the reader.
   * @throws {TypeError} for a `stream` other than 'stdout' or 'stderr'.
   * @throws {RangeError} for a `maxLineLength` that is not a positive integer.
   */
  static create(options: StdioMessageReaderOptions = {}): StdioMessageReader {
    const stream = options.stream ?? 'stdout';
    if (stream !== 'stdout' && stream !== 'stderr') {
      throw new TypeError(`stream must be 'stdout' or 'stderr'; got ${JSON.stringify(stream)}.`);
    }
    const decoder = new LineDecoder(
      options.maxLineLength === undefined ? {} : { maxLineLength: options.maxLineLength },
    );
    return new StdioMessageReader(decoder, options);
  }

  /**
   * Gives the reader the child's stream (e.g. `child.stdout`), once.
   * @throws {TypeError} when a source is already attached.
   */
  attach(source: Readable): void {
    if (this.#source) throw new TypeError('StdioMessageReader already has a source stream attached.');
    this.#source = source;
    this.#attached.resolve();
  }

  events(): AsyncIterable<PipesReaderEvent> {
    return this.#read();
  }

  /** Ends the iteration now if no source was attached; otherwise waits until the source ended and was drained. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#attached.resolve();
    if (this.#started) await this.#finished.promise;
  }

  async *#read(): AsyncGenerator<PipesReaderEvent> {
    if (this.#started) throw new TypeError('StdioMessageReader.events() can be iterated only once.');
    this.#started = true;
    try {
      await abortable(this.#attached.promise, this.#signal);
      const source = this.#source;
      if (!source) return;
      // destroyOnReturn: false — leaving the loop (abort, break) must not destroy the child's stream.
      const chunks = source.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
      for (;;) {
        const next = await abortable(chunks.next(), this.#signal);
        if (next.done) break;
        const chunk: unknown = next.value;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Uint8Array);
        yield* this.#decoder.write(bytes).map((decoded) => stdioLineEvent(decoded, this.stream));
      }
      yield* this.#decoder.end().map((decoded) => stdioLineEvent(decoded, this.stream));
    } finally {
      this.#finished.resolve();
    }
  }
}
