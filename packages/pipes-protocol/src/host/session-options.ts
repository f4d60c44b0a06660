import type { Readable } from 'node:stream';
import type { PipesContextDataInput } from '../schemas/context.js';
import type { PipesContextInjectorKind } from './context-injection.js';
import type { PipesOutputStream } from './reader-events.js';

/** Which channel carries the messages. */
export type PipesMessageReaderKind = 'file' | 'stdio';

/** Options of {@link openPipesSession}. */
export interface PipesSessionOptions {
  /** The context data; validated, Dagster's defaults filled (see {@link buildPipesContextData}). */
  context: PipesContextDataInput;
  /** `'env'`: context inline in `DAGSTER_PIPES_CONTEXT`; `'file'`: a private temp file. */
  injector: PipesContextInjectorKind;
  /** `'file'`: a tailed temp file; `'stdio'`: the child's stdout (attach it with {@link PipesSession.attachOutput}). */
  reader: PipesMessageReaderKind;
  /**
   * Extras merged over `context.extras` (Dagster's `extras=` of `open_pipes_session`).
   * @default {}
   */
  extras?: Readonly<Record<string, unknown>>;
  /**
   * File reader only: ask the external process to forward its stdout/stderr as
   * `log_external_stream` messages.
   * @default false
   */
  includeStdioInMessages?: boolean;
  /**
   * Stdio reader only: the child stream carrying messages.
   * @default 'stdout'
   */
  stdio?: PipesOutputStream;
  /**
   * Stdio reader only: the child's stream, if already at hand.
   * @default undefined (attach later)
   */
  output?: Readable;
  /**
   * Longest line in bytes.
   * @default 67108864 (64 MiB)
   */
  maxLineLength?: number;
  /**
   * File reader fallback poll interval in ms.
   * @default 50
   */
  pollIntervalMs?: number;
  /**
   * Parent of the private temp dirs.
   * @default os.tmpdir()
   */
  tmpDir?: string;
  /**
   * Stream instead of collect, for long runs (a relay of millions of messages): {@link
   * PipesSession.events} may be iterated once and forgets each event once yielded, and the
   * results keep `opened`, `closed`, warnings and {@link PipesSessionResults.counts} but no
   * per-message lists. Memory then stays flat however many messages arrive.
   * @default false
   */
  streaming?: boolean;
  /** Aborts reading; `events()` and `close()` then reject with the signal's reason (files are still removed). */
  signal?: AbortSignal;
}

/** Validates up front, naming the option and echoing the value; copies into a null-prototype object. */
export function resolveSessionOptions(options: PipesSessionOptions): PipesSessionOptions {
  const o: PipesSessionOptions = Object.assign(Object.create(null), options);
  if (o.injector !== 'env' && o.injector !== 'file') {
    throw new TypeError(`injector must be 'env' or 'file'; got ${JSON.stringify(o.injector)}.`);
  }
  if (o.reader !== 'file' && o.reader !== 'stdio') {
    throw new TypeError(`reader must be 'file' or 'stdio'; got ${JSON.stringify(o.reader)}.`);
  }
  if (o.reader === 'stdio' && o.includeStdioInMessages) {
    throw new TypeError(
      "includeStdioInMessages needs reader: 'file' (Dagster's writer honours it only with a messages file).",
    );
  }
  if (o.reader === 'file' && (o.output !== undefined || o.stdio !== undefined)) {
    throw new TypeError("output and stdio are options of reader: 'stdio'.");
  }
  if (typeof o.context !== 'object' || o.context === null) {
    throw new TypeError(`context must be an object (PipesContextData); got ${String(o.context)}.`);
  }
  return o;
}
