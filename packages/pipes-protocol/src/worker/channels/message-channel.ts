/** Which kind of destination a {@link PipesMessageChannel} writes to. */
export type PipesMessageChannelKind =
  /** Appends one line per message to a file (`{"path": …}`). */
  | 'file'
  /** Writes each message to stdout or stderr at once (`{"stdio": …}`). */
  | 'stdio'
  /** Holds messages and writes them to stdout or stderr at close (`{"buffered_stdio": …}`). */
  | 'buffered_stdio';

/**
 * A message writer channel (dagster_pipes.PipesMessageWriterChannel). Messages are newline-delimited
 * JSON, one complete line per write.
 */
export interface PipesMessageChannel {
  readonly kind: PipesMessageChannelKind;
  /** True once {@link PipesMessageChannel.close} was called. */
  readonly closed: boolean;
  /**
   * Serialises `message` (with `stringifyJson`, so `PipesFloat` stays a float) and writes it as one
   * line. Synchronous: when it returns, a file channel has the line on disk.
   * @throws {PipesError} `ERR_PIPES_CLOSED` after close; `ERR_PIPES_INVALID_METADATA` for a value
   * JSON cannot carry (nothing is written then); `ERR_PIPES_CHANNEL` when the write fails.
   */
  write(message: object): void;
  /**
   * Writes an already serialised message (no trailing newline) as one line, unchanged — for relays
   * that must keep a message byte-for-byte (e.g. `1.0` floats).
   * @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` when `json` contains a line break;
   * `ERR_PIPES_CLOSED` after close; `ERR_PIPES_CHANNEL` when the write fails.
   */
  writeLine(json: string): void;
  /** Sends captured stdout/stderr text now (no-op unless stdio capture is on). */
  flush(): void;
  /**
   * Sends pending captured text, stops capturing, writes out buffered messages, and waits for the
   * stream to drain. All writes happen synchronously before the first await, so calling it from a
   * process `exit` handler delivers everything. Idempotent.
   */
  close(): Promise<void>;
}
