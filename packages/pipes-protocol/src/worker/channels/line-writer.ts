import { PipesError } from '../../errors.js';
import { stringifyJson } from '../../json.js';
import type { PipesMessageChannel, PipesMessageChannelKind } from './message-channel.js';

/** What a concrete channel supplies: where a finished line goes, and how to finish. */
export interface LineSink {
  kind: PipesMessageChannelKind;
  /** Writes one complete `json + "\n"` line. */
  writeLine(line: string): void;
  /** Synchronous part of closing (write out anything held). */
  closeSync?(): void;
  /** Asynchronous part of closing (wait for a stream to drain). */
  drain?(): Promise<void>;
}

/** Hooks run around every message, used by stdio capture to keep output in order. */
export interface LineWriterHooks {
  /** Called before each message line is written. */
  beforeWrite?(): void;
  /** Called first in close. */
  beforeClose?(): void;
}

/** Builds a {@link PipesMessageChannel} over a sink: serialisation, line checks, close state. */
export function createLineChannel(sink: LineSink, hooks: LineWriterHooks = {}): PipesMessageChannel {
  let closed = false;
  let closing: Promise<void> | undefined;
  const ensureOpen = () => {
    if (closed) {
      throw new PipesError(
        'ERR_PIPES_CLOSED',
        `Cannot write to the ${sink.kind} message channel after it was closed.`,
      );
    }
  };
  const emit = (json: string) => {
    hooks.beforeWrite?.();
    try {
      sink.writeLine(`${json}\n`);
    } catch (cause) {
      throw new PipesError(
        'ERR_PIPES_CHANNEL',
        `Writing to the ${sink.kind} message channel failed: ${(cause as Error).message}`,
        { cause },
      );
    }
  };
  const channel: PipesMessageChannel = {
    kind: sink.kind,
    get closed() {
      return closed;
    },
    write(message) {
      ensureOpen();
      emit(stringifyJson(message));
    },
    writeLine(json) {
      ensureOpen();
      if (/[\n\r]/.test(json)) {
        throw new PipesError(
          'ERR_PIPES_INVALID_MESSAGE',
          'A Pipes message line must not contain a line break; serialise it with JSON.stringify (which escapes them).',
        );
      }
      emit(json);
    },
    flush() {
      if (!closed) hooks.beforeWrite?.();
    },
    close() {
      if (closing !== undefined) return closing;
      hooks.beforeClose?.();
      closed = true;
      sink.closeSync?.();
      closing = sink.drain ? sink.drain() : Promise.resolve();
      return closing;
    },
  };
  return channel;
}
