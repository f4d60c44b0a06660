import type { PipesError } from '../errors.js';
import type { PipesException } from '../schemas/exception.js';
import type { PipesMessage } from '../schemas/message.js';
import type { PipesMetadata } from '../schemas/metadata.js';
import { parseEscapedAssetKey } from './asset-key.js';
import { preview } from './parse-message.js';
import type { PipesOutputStream, PipesReaderEvent } from './reader-events.js';

/** A log level as Dagster's host normalises it (`fatal` → `critical`, `warn` → `warning`). */
export type PipesLogLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug';

/** A `log` message. */
export interface PipesLogRecord {
  level: PipesLogLevel;
  message: string;
}

/** A `report_asset_materialization` message. */
export interface PipesMaterialization {
  /** The escaped asset key as sent. */
  assetKey: string;
  /** `assetKey` split with the escaped-key rules ({@link parseEscapedAssetKey}). */
  assetKeyPath: string[];
  dataVersion: string | null;
  metadata: PipesMetadata | null;
}

/** A `report_asset_check` message. */
export interface PipesAssetCheckResult {
  assetKey: string;
  assetKeyPath: string[];
  checkName: string;
  passed: boolean;
  severity: 'WARN' | 'ERROR';
  metadata: PipesMetadata | null;
}

/** A `log_external_stream` chunk. */
export interface PipesExternalStreamChunk {
  stream: PipesOutputStream;
  text: string;
  extras: Record<string, unknown>;
}

/** A line of plain output (stdio reader). */
export interface PipesOutputLine {
  stream: PipesOutputStream;
  text: string;
  line: number;
}

/** A line that should have been a message and was not. */
export interface PipesProtocolErrorRecord {
  /** The error's message: what was wrong, naming the method when known. */
  message: string;
  error: PipesError;
  raw: string;
  line: number;
}

/**
 * A diagnostic mirroring the warnings Dagster's host logs (they do not fail the step).
 * - `no-opened`: nothing was received (no `opened`).
 * - `no-closed`: `opened` but no `closed`.
 * - `message-after-closed`: a message arrived after `closed` (it is still recorded).
 */
export interface PipesSessionWarning {
  code: 'no-opened' | 'no-closed' | 'message-after-closed';
  message: string;
}

/** Everything a session collected, in arrival order per kind. */
export interface PipesSessionResults {
  /** The `opened` params, or null when none arrived. */
  opened: { extras: Record<string, unknown> } | null;
  /** The `closed` params (exception null on success), or null when none arrived. */
  closed: { exception: PipesException | null } | null;
  materializations: PipesMaterialization[];
  checks: PipesAssetCheckResult[];
  customMessages: unknown[];
  logs: PipesLogRecord[];
  externalStreams: PipesExternalStreamChunk[];
  outputs: PipesOutputLine[];
  protocolErrors: PipesProtocolErrorRecord[];
  warnings: PipesSessionWarning[];
  /** How many of each arrived; kept also when the lists are not (a streaming session). */
  counts: PipesResultCounts;
}

/** Counts of what a session received. */
export interface PipesResultCounts {
  messages: number;
  materializations: number;
  checks: number;
  failedChecks: number;
  customMessages: number;
  logs: number;
  protocolErrors: number;
}

/** Names and debug texts for the `no-opened` warning. */
export interface PipesDiagnosticsSources {
  injector: { name: string; debugText: string };
  reader: { name: string; debugText: string };
}

const NO_CLOSED =
  '[pipes] did not receive closed message from external process. Buffered messages may have been discarded without being delivered. Use `open_dagster_pipes` as a context manager (a with block) to ensure that cleanup is successfully completed. If that is not possible, manually call `PipesContext.close()` before process exit.';

/**
 * Collects reader events into {@link PipesSessionResults} (I/O-free, usable with any reader,
 * e.g. a remote tail). Mirrors Dagster's `PipesMessageHandler`.
 */
export class PipesResultsCollector {
  readonly results: PipesSessionResults = {
    opened: null,
    closed: null,
    materializations: [],
    checks: [],
    customMessages: [],
    logs: [],
    externalStreams: [],
    outputs: [],
    protocolErrors: [],
    warnings: [],
    counts: {
      messages: 0,
      materializations: 0,
      checks: 0,
      failedChecks: 0,
      customMessages: 0,
      logs: 0,
      protocolErrors: 0,
    },
  };
  #finished = false;
  readonly #retain: boolean;

  /** @param options.retain keep per-message lists (`false`: counts only). @default true */
  constructor(options: { retain?: boolean } = {}) {
    this.#retain = options.retain ?? true;
  }

  /** Records one event. */
  add(event: PipesReaderEvent): void {
    const r = this.results;
    if (!this.#retain) {
      this.#count(event);
      return;
    }
    if (event.kind !== 'output') this.#count(event);
    switch (event.kind) {
      case 'output':
        r.outputs.push({ stream: event.stream, text: event.text, line: event.line });
        return;
      case 'protocol-error':
        r.protocolErrors.push({
          message: event.error.message,
          error: event.error,
          raw: event.raw,
          line: event.line,
        });
        return;
      case 'message':
        if (r.closed !== null) {
          r.warnings.push({
            code: 'message-after-closed',
            message: `[pipes] unexpected message received after closed: \`${preview(event.raw, 200)}\``,
          });
        }
        this.#handle(event.message);
    }
  }

  // Counts, plus opened/closed (needed for the diagnostics) — all a streaming session keeps.
  #count(event: PipesReaderEvent): void {
    const c = this.results.counts;
    if (event.kind === 'protocol-error') c.protocolErrors++;
    if (event.kind !== 'message') return;
    c.messages++;
    const m = event.message;
    if (m.method === 'report_asset_materialization') c.materializations++;
    else if (m.method === 'report_asset_check') {
      c.checks++;
      if (!m.params.passed) c.failedChecks++;
    } else if (m.method === 'report_custom_message') c.customMessages++;
    else if (m.method === 'log') c.logs++;
    if (this.#retain) return;
    if (m.method === 'opened') this.results.opened = { extras: m.params?.extras ?? {} };
    if (m.method === 'closed') this.results.closed = { exception: m.params?.exception ?? null };
  }

  #handle(message: PipesMessage): void {
    const r = this.results;
    switch (message.method) {
      case 'opened':
        r.opened = { extras: message.params?.extras ?? {} };
        return;
      case 'closed':
        r.closed = { exception: message.params?.exception ?? null };
        return;
      case 'log':
        r.logs.push({ level: normalizeLevel(message.params.level), message: message.params.message });
        return;
      case 'report_asset_materialization': {
        const p = message.params;
        r.materializations.push({
          assetKey: p.asset_key,
          assetKeyPath: parseEscapedAssetKey(p.asset_key),
          dataVersion: p.data_version,
          metadata: p.metadata as PipesMetadata | null,
        });
        return;
      }
      case 'report_asset_check': {
        const p = message.params;
        r.checks.push({
          assetKey: p.asset_key,
          assetKeyPath: parseEscapedAssetKey(p.asset_key),
          checkName: p.check_name,
          passed: p.passed,
          severity: p.severity,
          metadata: p.metadata as PipesMetadata | null,
        });
        return;
      }
      case 'report_custom_message':
        r.customMessages.push(message.params.payload);
        return;
      case 'log_external_stream':
        r.externalStreams.push({
          stream: message.params.stream,
          text: message.params.text,
          extras: message.params.extras ?? {},
        });
        return;
    }
  }

  /** Adds the end-of-session warnings (once) and returns the results. */
  finish(sources: PipesDiagnosticsSources): PipesSessionResults {
    if (!this.#finished) {
      this.#finished = true;
      const r = this.results;
      if (r.opened === null) {
        r.warnings.push({
          code: 'no-opened',
          message:
            '[pipes] did not receive any messages from external process. Check stdout / stderr logs from the external process if possible.\n' +
            `${sources.injector.name}: ${sources.injector.debugText}\n${sources.reader.name}: ${sources.reader.debugText}\n`,
        });
      } else if (r.closed === null) {
        r.warnings.push({ code: 'no-closed', message: NO_CLOSED });
      }
    }
    return this.results;
  }
}

// Mirrors the host's level coercion: case-insensitive, with Python logging's aliases.
function normalizeLevel(level: string | undefined): PipesLogLevel {
  const lower = (level ?? 'info').toLowerCase();
  if (lower === 'fatal') return 'critical';
  if (lower === 'warn') return 'warning';
  return lower as PipesLogLevel;
}
