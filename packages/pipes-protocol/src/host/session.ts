import type { Readable } from 'node:stream';
import { PipesError } from '../errors.js';
import type { PipesContextData } from '../schemas/context.js';
import {
  encodeBootstrapCliArgs,
  encodeBootstrapEnv,
  type PipesBootstrapEnv,
  type PipesBootstrapParams,
} from './bootstrap.js';
import { resolveContextData } from './context-data.js';
import { injectContextInEnv, injectContextInFile, type PipesContextInjection } from './context-injection.js';
import { FileMessageReader } from './file-message-reader.js';
import type { PipesMessageReader, PipesReaderEvent } from './reader-events.js';
import { type PipesSessionOptions, resolveSessionOptions } from './session-options.js';
import { PipesResultsCollector, type PipesSessionResults } from './session-results.js';
import { StdioMessageReader } from './stdio-message-reader.js';
import { abortable } from './wakeup.js';

/** Streaming sessions pause reading when this many events wait for the consumer. */
const STREAMING_HIGH_WATER = 4096;

/**
 * An open Pipes session, the host side of one external process run (Dagster's `PipesSession`).
 * Launch the process with {@link PipesSession.bootstrapEnv} merged last into its environment,
 * then call {@link PipesSession.close} once it exited. Messages are read from the start, whether
 * or not {@link PipesSession.events} is iterated.
 */
export class PipesSession implements AsyncDisposable {
  /** The context data sent to the external process. */
  readonly contextData: PipesContextData;
  readonly #injection: PipesContextInjection;
  readonly #reader: PipesMessageReader;
  readonly #collector: PipesResultsCollector;
  readonly #streaming: boolean;
  #iterated = false;
  /** Streaming: index of the next event to yield in #events. */
  #head = 0;
  /** Streaming: resumes the paused pump once the consumer caught up. */
  #drained: (() => void) | undefined;
  /** Streaming: set when nobody will take events any more (consumer left, or closing without one). */
  #unpaused = false;
  readonly #abort: AbortController;
  // Aborted by the caller's signal or by close()'s signal.
  readonly #signal: AbortSignal;
  readonly #events: PipesReaderEvent[] = [];
  #changed: Promise<void>;
  #signalChanged!: () => void;
  #done = false;
  #failure: unknown;
  #pump: Promise<void>;
  #closing: Promise<PipesSessionResults> | undefined;

  private constructor(
    contextData: PipesContextData,
    injection: PipesContextInjection,
    reader: PipesMessageReader,
    abort: AbortController,
    signal: AbortSignal,
    streaming: boolean,
  ) {
    this.#streaming = streaming;
    this.#collector = new PipesResultsCollector({ retain: !streaming });
    this.contextData = contextData;
    this.#injection = injection;
    this.#reader = reader;
    this.#abort = abort;
    this.#signal = signal;
    this.#changed = this.#nextChange();
    this.#pump = this.#runPump();
  }

  /** @see {@link openPipesSession} */
  static async open(options: PipesSessionOptions): Promise<PipesSession> {
    const o = resolveSessionOptions(options);
    o.signal?.throwIfAborted();
    const contextData = resolveContextData({
      ...o.context,
      extras: { ...(o.context.extras ?? {}), ...o.extras },
    });
    const abort = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, abort.signal]) : abort.signal;
    const shared = {
      signal,
      ...(o.maxLineLength === undefined ? {} : { maxLineLength: o.maxLineLength }),
    };
    const tmp = o.tmpDir === undefined ? {} : { tmpDir: o.tmpDir };
    const injection =
      o.injector === 'env' ? injectContextInEnv(contextData) : await injectContextInFile(contextData, tmp);
    try {
      const reader =
        o.reader === 'file'
          ? await FileMessageReader.open({
              ...shared,
              ...tmp,
              includeStdioInMessages: o.includeStdioInMessages ?? false,
              ...(o.pollIntervalMs === undefined ? {} : { pollIntervalMs: o.pollIntervalMs }),
            })
          : StdioMessageReader.create({
              ...shared,
              stream: o.stdio ?? 'stdout',
              ...(o.output === undefined ? {} : { source: o.output }),
            });
      return new PipesSession(contextData, injection, reader, abort, signal, o.streaming ?? false);
    } catch (error) {
      await injection.dispose();
      throw error;
    }
  }

  /** The decoded bootstrap params (Dagster's `get_bootstrap_params()`). */
  bootstrapParams(): PipesBootstrapParams {
    return { DAGSTER_PIPES_CONTEXT: this.#injection.params, DAGSTER_PIPES_MESSAGES: this.#reader.params };
  }

  /** `DAGSTER_PIPES_CONTEXT` and `DAGSTER_PIPES_MESSAGES`, encoded; merge them last into the child's env. */
  bootstrapEnv(): PipesBootstrapEnv {
    return encodeBootstrapEnv(this.bootstrapParams());
  }

  /** The same as CLI arguments: `['--dagster-pipes-context', …, '--dagster-pipes-messages', …]`. */
  bootstrapCliArgs(): string[] {
    return encodeBootstrapCliArgs(this.bootstrapParams());
  }

  /**
   * Stdio reader: gives the session the child's stream (e.g. `child.stdout`).
   * @throws {TypeError} with a file reader, or when a stream is already attached.
   */
  attachOutput(stream: Readable): void {
    if (!(this.#reader instanceof StdioMessageReader)) {
      throw new TypeError("attachOutput() needs a session opened with reader: 'stdio'.");
    }
    this.#reader.attach(stream);
  }

  /**
   * Every event from the start of the session, in order (messages, protocol errors in place,
   * plain output), ending after {@link PipesSession.close} drained the channel. May be iterated
   * any number of times, concurrently: events are kept in memory for the session's life.
   * @throws the abort reason when the session was aborted; a {@link PipesError}
   *   `ERR_PIPES_CHANNEL` when reading the channel failed.
   */
  async *events(): AsyncGenerator<PipesReaderEvent> {
    if (this.#streaming && this.#iterated) {
      throw new TypeError('A streaming session (streaming: true) can be iterated only once.');
    }
    this.#iterated = true;
    try {
      yield* this.#iterate();
    } finally {
      if (this.#streaming) this.#unpause();
    }
  }

  #unpause(): void {
    this.#unpaused = true;
    this.#drained?.();
    this.#drained = undefined;
  }

  async *#iterate(): AsyncGenerator<PipesReaderEvent> {
    let next = 0;
    for (;;) {
      const changed = this.#changed;
      if (this.#streaming) {
        // Forget each event once yielded: memory stays flat however long the run.
        while (this.#head < this.#events.length) {
          const event = this.#events[this.#head++] as PipesReaderEvent;
          if (this.#head >= STREAMING_HIGH_WATER / 2) {
            this.#events.splice(0, this.#head);
            this.#head = 0;
          }
          if (this.#events.length - this.#head < STREAMING_HIGH_WATER / 2) {
            this.#drained?.();
            this.#drained = undefined;
          }
          yield event;
        }
      } else {
        while (next < this.#events.length) yield this.#events[next++] as PipesReaderEvent;
      }
      if (this.#done) {
        if (this.#failure !== undefined) throw this.#failureError();
        return;
      }
      await changed;
    }
  }

  /** What arrived so far; complete (with the end-of-session warnings) once `close()` resolved. */
  get results(): PipesSessionResults {
    return this.#collector.results;
  }

  /**
   * Ends the session: the reader drains (file: reads to EOF; stdio: waits for the stream to end),
   * the context file and messages file are removed, and the diagnostics are added. Idempotent.
   * @param options.signal stops waiting for the drain (then rejects with its reason).
   * @throws the abort reason when reading was aborted; a {@link PipesError} `ERR_PIPES_CHANNEL`
   *   when reading the channel failed. Files are removed in every case.
   */
  close(options: { signal?: AbortSignal } = {}): Promise<PipesSessionResults> {
    this.#closing ??= this.#close(options.signal);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(signal: AbortSignal | undefined): Promise<PipesSessionResults> {
    const onAbort = () => this.#abort.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      if (this.#streaming && !this.#iterated) this.#unpause();
      await abortable(this.#reader.close(), this.#signal).catch(() => {});
      await this.#pump;
      await this.#reader.close();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.#injection.dispose();
    }
    const results = this.#collector.finish({
      injector: {
        name: this.#injection.kind === 'env' ? 'EnvContextInjector' : 'FileContextInjector',
        debugText: this.#injection.debugText,
      },
      reader: {
        name: this.#reader.kind === 'file' ? 'FileMessageReader' : 'StdioMessageReader',
        debugText: this.#reader.debugText,
      },
    });
    if (this.#failure !== undefined) throw this.#failureError();
    return results;
  }

  async #runPump(): Promise<void> {
    try {
      for await (const event of this.#reader.events()) {
        this.#collector.add(event);
        this.#events.push(event);
        this.#signalChanged();
        // Streaming: stop reading while the consumer is this far behind (backpressure), so a
        // fast writer cannot fill memory with events nobody has taken yet.
        if (this.#streaming && !this.#unpaused && this.#events.length - this.#head >= STREAMING_HIGH_WATER) {
          await new Promise<void>((resolve) => {
            this.#drained = resolve;
          });
        }
      }
    } catch (error) {
      this.#failure = error;
    } finally {
      this.#done = true;
      this.#signalChanged();
    }
  }

  #nextChange(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#signalChanged = () => {
        this.#changed = this.#nextChange();
        resolve();
      };
    });
  }

  #failureError(): unknown {
    const failure = this.#failure;
    if (this.#signal.aborted || failure instanceof PipesError) return failure;
    return new PipesError('ERR_PIPES_CHANNEL', `Reading Pipes messages failed: ${String(failure)}`, {
      cause: failure,
    });
  }
}

/**
 * Opens a Pipes session (Dagster's `open_pipes_session`): validates the context, publishes it
 * with the chosen injector, prepares the chosen message reader and starts reading.
 * @throws {TypeError} for an unknown `injector`/`reader`, or an option that does not fit the reader.
 * @throws {PipesError} `ERR_PIPES_INVALID_CONTEXT` when the context data does not validate.
 */
export function openPipesSession(options: PipesSessionOptions): Promise<PipesSession> {
  return PipesSession.open(options);
}
