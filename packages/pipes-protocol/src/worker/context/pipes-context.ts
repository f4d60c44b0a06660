import { PipesError } from '../../errors.js';
import type { PipesContextData } from '../../schemas/context.js';
import type { PipesMethod } from '../../schemas/message.js';
import { resolveAssetKey } from '../asset-key.js';
import type { PipesMessageChannel } from '../channels/message-channel.js';
import type { PipesStdioStream } from '../channels/stdio-capture.js';
import { toPipesException } from '../exception.js';
import { makePipesMessage } from '../message.js';
import { normalizeMetadata, type PipesMetadataInput } from '../metadata/normalize-metadata.js';
import { PipesContextDataView } from './context-data-view.js';
import { createPipesLogger, type PipesLogger } from './logger.js';
import { onTimeoutSignal, type TimeoutSignalHandler, type TimeoutSignalOptions } from './timeout-signal.js';

/** Options of {@link PipesContext.reportAssetMaterialization}. */
export interface ReportAssetMaterializationOptions {
  /** Escaped asset key. @default the step's only asset key */
  assetKey?: string;
  /** Metadata: raw values (type inferred by Dagster) or `{type, raw_value}` entries. @default null */
  metadata?: PipesMetadataInput | null;
  /** The data version. @default null */
  dataVersion?: string | null;
}

/** Severity of a failed asset check. */
export type PipesAssetCheckSeverity = 'WARN' | 'ERROR';

/** Options of {@link PipesContext.reportAssetCheck}. */
export interface ReportAssetCheckOptions {
  /** Name of an `AssetCheckSpec` of the asset. */
  checkName: string;
  passed: boolean;
  /** @default 'ERROR' */
  severity?: PipesAssetCheckSeverity;
  /** @default null */
  metadata?: PipesMetadataInput | null;
  /** Escaped asset key. @default the step's only asset key */
  assetKey?: string;
}

/** How a {@link PipesContext} is built; see `openDagsterPipes()` and `createPipesContext()`. */
export interface PipesContextInit {
  data: PipesContextData;
  /** Where messages go; `null` makes a no-op context (not launched by Dagster). */
  channel: PipesMessageChannel | null;
  /** Called once when the context closes (used to remove process hooks). */
  onClose?: () => void;
}

function invalidParam(method: string, param: string, expected: string, got: unknown): PipesError {
  return new PipesError(
    'ERR_PIPES_INVALID_MESSAGE',
    `Invalid type for parameter \`${param}\` of \`${method}\`. Expected ${expected}, got \`${got === null ? 'null' : typeof got}\`.`,
  );
}

/**
 * The worker's view of a Dagster Pipes session (dagster_pipes.PipesContext): context accessors
 * plus the calls that stream results back. Obtain it from `openDagsterPipes()`.
 */
export class PipesContext extends PipesContextDataView implements AsyncDisposable {
  /** Streams log records to Dagster (`log.info(…)`, `log('warning', …)`). */
  readonly log: PipesLogger;
  readonly #channel: PipesMessageChannel | null;
  readonly #onClose: (() => void) | undefined;
  readonly #materialized = new Set<string>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Prefer `openDagsterPipes()`; this writes `opened` at once. */
  constructor(init: PipesContextInit) {
    super(init.data);
    this.#channel = init.channel;
    this.#onClose = init.onClose;
    this.log = createPipesLogger((level, message) => this.#write('log', { message, level }));
    this.#channel?.write(makePipesMessage('opened', { extras: {} }));
  }

  /** True for the stand-in returned outside a Pipes process: every report is silently dropped. */
  get isNoop(): boolean {
    return this.#channel === null;
  }

  /** Whether {@link PipesContext.close} was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  #write(method: PipesMethod, params: Record<string, unknown>): void {
    if (this.#channel === null) return;
    if (this.#closed)
      throw new PipesError('ERR_PIPES_CLOSED', 'Cannot send message after pipes context is closed.');
    this.#channel.write(makePipesMessage(method, params));
  }

  /**
   * Reports that an asset was materialized. Each asset key may be reported once.
   * @throws {PipesError} `ERR_PIPES_ASSET_KEY` (key missing, not in the step, already reported),
   * `ERR_PIPES_INVALID_METADATA`, `ERR_PIPES_INVALID_MESSAGE` (data version not a string),
   * `ERR_PIPES_CLOSED`.
   */
  reportAssetMaterialization(options: ReportAssetMaterializationOptions = {}): void {
    if (this.isNoop) return;
    const method = 'report_asset_materialization';
    const assetKey = resolveAssetKey(this.data.asset_keys, options.assetKey, method);
    if (this.#materialized.has(assetKey)) {
      throw new PipesError(
        'ERR_PIPES_ASSET_KEY',
        `Calling \`${method}\` with asset key \`${assetKey}\` is undefined. Asset has already been materialized, so no additional data can be reported for it.`,
      );
    }
    const metadata = normalizeMetadata(options.metadata, method);
    const dataVersion = options.dataVersion ?? null;
    if (dataVersion !== null && typeof dataVersion !== 'string') {
      throw invalidParam(method, 'data_version', 'a string or null', dataVersion);
    }
    this.#write(method, { asset_key: assetKey, data_version: dataVersion, metadata });
    this.#materialized.add(assetKey);
  }

  /**
   * Reports an asset check result; the check must be an `AssetCheckSpec` of the asset in Dagster.
   * @throws {PipesError} `ERR_PIPES_ASSET_KEY`, `ERR_PIPES_INVALID_METADATA`,
   * `ERR_PIPES_INVALID_MESSAGE` (bad check name, passed or severity), `ERR_PIPES_CLOSED`.
   */
  reportAssetCheck(options: ReportAssetCheckOptions): void {
    if (this.isNoop) return;
    const method = 'report_asset_check';
    const assetKey = resolveAssetKey(this.data.asset_keys, options.assetKey, method);
    if (typeof options.checkName !== 'string')
      throw invalidParam(method, 'check_name', 'a string', options.checkName);
    if (typeof options.passed !== 'boolean')
      throw invalidParam(method, 'passed', 'a boolean', options.passed);
    const severity = options.severity ?? 'ERROR';
    if (severity !== 'WARN' && severity !== 'ERROR') {
      throw new PipesError(
        'ERR_PIPES_INVALID_MESSAGE',
        `Invalid value for parameter \`severity\` of \`${method}\`. Expected one of \`WARN\`, \`ERROR\`, got \`${String(severity)}\`.`,
      );
    }
    const metadata = normalizeMetadata(options.metadata, method);
    this.#write(method, {
      asset_key: assetKey,
      check_name: options.checkName,
      passed: options.passed,
      metadata,
      severity,
    });
  }

  /**
   * Sends any JSON payload; the Dagster side reads it with `get_custom_messages()`.
   * @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` when the payload is not JSON, `ERR_PIPES_CLOSED`.
   */
  reportCustomMessage(payload: unknown): void {
    if (this.isNoop) return;
    try {
      this.#write('report_custom_message', { payload: payload ?? null });
    } catch (cause) {
      if (cause instanceof PipesError && cause.code === 'ERR_PIPES_INVALID_METADATA') {
        throw new PipesError(
          'ERR_PIPES_INVALID_MESSAGE',
          `The custom message payload is not JSON: ${cause.message}`,
          {
            cause,
          },
        );
      }
      throw cause;
    }
  }

  /**
   * Forwards text for Dagster to write to its own stdout/stderr (`log_external_stream`).
   * @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` for another stream name, `ERR_PIPES_CLOSED`.
   */
  logExternalStream(stream: PipesStdioStream, text: string, extras: Record<string, unknown> = {}): void {
    if (this.isNoop) return;
    if (stream !== 'stdout' && stream !== 'stderr') {
      throw new PipesError(
        'ERR_PIPES_INVALID_MESSAGE',
        `Invalid stream ${JSON.stringify(stream)}: use "stdout" or "stderr".`,
      );
    }
    this.#write('log_external_stream', { stream, text: String(text), extras });
  }

  /**
   * Runs `handler` when the signal announcing the Slurm job's time limit arrives
   * (`signal_before_timeout`, SIGUSR1 unless the launcher names another), so the worker can
   * checkpoint and report before the limit; see {@link onTimeoutSignal}.
   * @returns a function that removes the handler.
   */
  onTimeoutSignal(handler: TimeoutSignalHandler, options?: TimeoutSignalOptions): () => void {
    return onTimeoutSignal(handler, options);
  }

  /**
   * Sends `closed` (with `exception` converted by `toPipesException` when given) and closes the
   * channel. Idempotent; later reports throw `ERR_PIPES_CLOSED`. The writes happen synchronously,
   * before the returned promise settles. The `closed` exception alone does not fail the Dagster
   * step: exit non-zero too (`runDagsterPipes` does).
   */
  close(exception?: unknown): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = this.#closeNow(exception);
    return this.#closing;
  }

  #closeNow(exception: unknown): Promise<void> {
    this.#closed = true;
    this.#onClose?.();
    const channel = this.#channel;
    if (channel === null) return Promise.resolve();
    try {
      channel.flush();
      const params =
        exception === undefined || exception === null ? {} : { exception: toPipesException(exception) };
      channel.write(makePipesMessage('closed', params));
    } catch (error) {
      return channel.close().then(() => Promise.reject(error));
    }
    return channel.close();
  }

  /** `await using pipes = openDagsterPipes()` closes on scope exit (without the error, if one is thrown). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
