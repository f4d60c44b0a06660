/** Stable error codes of the slurm-pipes bridge; the README lists each with its fix. */
export type BridgeErrorCode =
  /** The command line could not be parsed (unknown flag, missing payload). */
  | 'ERR_BRIDGE_USAGE'
  /** A configuration value (flag, file, env var) is invalid or contradicts another. */
  | 'ERR_BRIDGE_CONFIG'
  /** The payload file does not exist or cannot be run. */
  | 'ERR_BRIDGE_PAYLOAD'
  /** The payload ran and failed (non-zero exit, signal, or a Pipes exception). */
  | 'ERR_BRIDGE_PAYLOAD_FAILED'
  /** Messages from the payload could not be relayed to Dagster. */
  | 'ERR_BRIDGE_RELAY'
  /** The requested mode is not available in this build. */
  | 'ERR_BRIDGE_MODE';

/** The one error class of `@slurm-pipes/bridge`; `message` says what happened and what to do. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  readonly code: BridgeErrorCode;
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(code: BridgeErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode =
      options?.exitCode ?? (code === 'ERR_BRIDGE_USAGE' || code === 'ERR_BRIDGE_CONFIG' ? 2 : 1);
  }
}
