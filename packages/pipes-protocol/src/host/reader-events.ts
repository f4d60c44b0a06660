import type { PipesError } from '../errors.js';
import type { PipesMessage } from '../schemas/message.js';

/** A standard stream of the external process. */
export type PipesOutputStream = 'stdout' | 'stderr';

/**
 * What a message reader produces, one item per line read, in order. `line` counts lines of the
 * channel from 1 (the messages file, or the child's stdout).
 * - `message`: a valid Pipes message; `raw` is the line as read.
 * - `protocol-error`: a line that should have been a message and is not (not JSON, bad envelope,
 *   unknown method, bad params, or too long); reading goes on with the next line. `raw` is the
 *   line, or its first bytes when it was too long.
 * - `output`: (stdio reader only) a line that is not a Pipes message, forwarded as plain output.
 */
export type PipesReaderEvent =
  | { kind: 'message'; message: PipesMessage; raw: string; line: number }
  | { kind: 'protocol-error'; error: PipesError; raw: string; line: number }
  | { kind: 'output'; stream: PipesOutputStream; text: string; line: number };

/** Common shape of {@link FileMessageReader} and {@link StdioMessageReader}. */
export interface PipesMessageReader extends AsyncDisposable {
  /** Which channel the external process is told to write to. */
  readonly kind: 'file' | 'stdio';
  /** The message params to hand to the external process (`DAGSTER_PIPES_MESSAGES`). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Where messages were expected, for the "no messages received" diagnostic. */
  readonly debugText: string;
  /**
   * The events, in order. Iterate once, and start before {@link PipesMessageReader.close}; the
   * iteration ends after `close()` once the channel is drained.
   * @throws the `signal`'s reason when aborted; a read error of the channel.
   */
  events(): AsyncIterable<PipesReaderEvent>;
  /** Asks the reader to drain the channel and end; resolves once the iteration ended and files are removed. Idempotent. */
  close(): Promise<void>;
}
