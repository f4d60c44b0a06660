/**
 * Stable error codes of `@slurm-pipes/pipes-protocol`. Every error this package throws is a
 * {@link PipesError} carrying one of these codes; the README lists them with their fixes.
 */
export type PipesErrorCode =
  /** `DAGSTER_PIPES_CONTEXT` / `DAGSTER_PIPES_MESSAGES` missing, not base64+zlib+JSON, or of the wrong shape. */
  | 'ERR_PIPES_INVALID_PARAMS'
  /** The context data could not be loaded or does not match `PipesContextData`. */
  | 'ERR_PIPES_INVALID_CONTEXT'
  /** A message line is not JSON, or does not match `PipesMessage` and its method's params. */
  | 'ERR_PIPES_INVALID_MESSAGE'
  /** A metadata value is of an unknown type, does not match its type, or is NaN/Infinity. */
  | 'ERR_PIPES_INVALID_METADATA'
  /** An asset key was missing, not selected for this step, or materialized twice. */
  | 'ERR_PIPES_ASSET_KEY'
  /** A context accessor was read that is undefined for this step (e.g. `partitionKey` of an unpartitioned step). */
  | 'ERR_PIPES_UNDEFINED'
  /** A message was sent after the context was closed. */
  | 'ERR_PIPES_CLOSED'
  /** A message channel could not be opened or written. */
  | 'ERR_PIPES_CHANNEL'
  /** The external process failed (non-zero exit, signal, or a `closed` message with an exception). */
  | 'ERR_PIPES_EXECUTION';

/** The one error class of this package. `code` is stable; `message` says what happened and the fix. */
export class PipesError extends Error {
  override readonly name = 'PipesError';
  readonly code: PipesErrorCode;

  constructor(code: PipesErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a {@link PipesError}, optionally of the given code. */
export function isPipesError(error: unknown, code?: PipesErrorCode): error is PipesError {
  return error instanceof PipesError && (code === undefined || error.code === code);
}
