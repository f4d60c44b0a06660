import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { PipesError } from '../errors.js';
import {
  PipesContextData,
  type PipesContextDataInput,
  type PipesDataProvenance,
  type PipesPartitionKeyRange,
} from '../schemas/context.js';
import { toEscapedAssetKey } from './asset-key.js';

/** An asset key: path parts (`['warehouse', 'daily/sales']`) or an escaped string (`'warehouse/daily\\/sales'`). */
export type PipesAssetKeyInput = string | readonly string[];

/** Simple inputs of {@link buildPipesContextData}. */
export interface BuildPipesContextDataOptions {
  /**
   * The selected asset keys; `null` for an op (non-asset) step. Sent sorted, as Dagster does.
   * @default null
   */
  assetKeys?: readonly PipesAssetKeyInput[] | null;
  /**
   * Code version per asset key (escaped string keys). Keys not listed are sent as `null`.
   * @default every selected key → null (or null for an op step)
   */
  codeVersionByAssetKey?: Readonly<Record<string, string | null>>;
  /**
   * Data provenance per asset key (escaped string keys). Keys not listed are sent as `null`.
   * @default every selected key → null (or null for an op step)
   */
  provenanceByAssetKey?: Readonly<Record<string, PipesDataProvenance | null>>;
  /**
   * The run's single partition key.
   * @default null
   */
  partitionKey?: string | null;
  /**
   * The partition key range.
   * @default `{start: partitionKey, end: partitionKey}` when `partitionKey` is set, else null
   */
  partitionKeyRange?: PipesPartitionKeyRange | null;
  /**
   * The time window of a time-partitioned run; `Date`s are written as Python's
   * `datetime.isoformat()` in UTC (`2024-01-01T00:00:00+00:00`), strings are sent as given.
   * Needs `partitionKey` or `partitionKeyRange`.
   * @default null
   */
  partitionTimeWindow?: { start: string | Date; end: string | Date } | null;
  /**
   * The run id.
   * @default a random UUID
   */
  runId?: string;
  /**
   * The job name; `null` under direct invocation.
   * @default null
   */
  jobName?: string | null;
  /**
   * The retry number.
   * @default 0
   */
  retryNumber?: number;
  /**
   * User extras.
   * @default {}
   */
  extras?: Readonly<Record<string, unknown>>;
}

/**
 * Builds the full ten-key {@link PipesContextData} that Dagster's host would send, from simple
 * inputs (the bridge's standalone mode, with no Dagster host).
 * @throws {TypeError} when an asset key is empty, or a time window is given without a partition.
 * @throws {RangeError} when `retryNumber` is not a non-negative integer.
 * @throws {PipesError} `ERR_PIPES_INVALID_CONTEXT` when the result does not validate.
 */
export function buildPipesContextData(options: BuildPipesContextDataOptions = {}): PipesContextData {
  const retryNumber = options.retryNumber ?? 0;
  if (!Number.isSafeInteger(retryNumber) || retryNumber < 0) {
    throw new RangeError(`retryNumber must be a non-negative integer; got ${String(retryNumber)}.`);
  }
  const assetKeys =
    options.assetKeys == null
      ? null
      : [
          ...new Set(
            options.assetKeys.map((key) =>
              typeof key === 'string' ? checkKey(key) : toEscapedAssetKey(key),
            ),
          ),
        ].sort(compareCodePoints);
  const partitionKey = options.partitionKey ?? null;
  const partitionKeyRange =
    options.partitionKeyRange ?? (partitionKey === null ? null : { start: partitionKey, end: partitionKey });
  const window = options.partitionTimeWindow ?? null;
  if (window !== null && partitionKeyRange === null) {
    throw new TypeError(
      'partitionTimeWindow needs partitionKey or partitionKeyRange (a time window belongs to a partition).',
    );
  }
  const perKey = <T>(given: Readonly<Record<string, T | null>> | undefined) =>
    assetKeys === null ? null : Object.fromEntries(assetKeys.map((key) => [key, given?.[key] ?? null]));
  return resolveContextData({
    asset_keys: assetKeys,
    code_version_by_asset_key: perKey(options.codeVersionByAssetKey),
    provenance_by_asset_key: perKey(options.provenanceByAssetKey),
    partition_key: partitionKey,
    partition_key_range: partitionKeyRange,
    partition_time_window:
      window === null ? null : { start: isoformat(window.start), end: isoformat(window.end) },
    run_id: options.runId ?? randomUUID(),
    job_name: options.jobName ?? null,
    retry_number: retryNumber,
    extras: { ...options.extras },
  });
}

/**
 * Validates context data a caller wrote by hand, filling Dagster's defaults.
 * @throws {PipesError} `ERR_PIPES_INVALID_CONTEXT` with `z.prettifyError` of the problem.
 */
export function resolveContextData(input: PipesContextDataInput): PipesContextData {
  const result = PipesContextData.safeParse(input);
  if (!result.success) {
    throw new PipesError(
      'ERR_PIPES_INVALID_CONTEXT',
      `Invalid Pipes context data:\n${z.prettifyError(result.error)}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}

function checkKey(key: string): string {
  if (key === '') throw new TypeError('An asset key must not be the empty string.');
  return key;
}

// Python sorts str by code point; JS `<` compares UTF-16 code units, which differs above U+FFFF.
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

// Mirrors Python datetime.isoformat() for an aware UTC datetime: microseconds only when non-zero.
function isoformat(value: string | Date): string {
  if (typeof value === 'string') return value;
  if (Number.isNaN(value.getTime())) throw new TypeError('partitionTimeWindow has an invalid Date.');
  const [date, time = ''] = value.toISOString().split('T');
  const [hms = '', ms = '000'] = time.replace('Z', '').split('.');
  return `${date}T${hms}${ms === '000' ? '' : `.${ms}000`}+00:00`;
}
