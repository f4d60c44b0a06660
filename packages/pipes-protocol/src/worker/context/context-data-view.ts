import { PipesError } from '../../errors.js';
import type {
  PipesContextData,
  PipesDataProvenance,
  PipesPartitionKeyRange,
  PipesTimeWindow,
} from '../../schemas/context.js';

// Mirrors dagster_pipes._assert_not_none and friends, messages included.
function defined<T>(value: T | null, desc: string): T {
  if (value === null) throw new PipesError('ERR_PIPES_UNDEFINED', `Missing required property: ${desc}`);
  return value;
}

const assetProperty = <T>(value: T | null, key: string) =>
  defined(value, `\`${key}\` is undefined. Current step does not target an asset.`);

const partitionProperty = <T>(value: T | null, key: string) =>
  defined(value, `\`${key}\` is undefined. Current step does not target any partitions.`);

/**
 * Read access to the context data with dagster_pipes.PipesContext's semantics: each getter throws
 * `PipesError` `ERR_PIPES_UNDEFINED` (with Python's message) exactly where Python raises.
 */
export class PipesContextDataView {
  readonly #data: PipesContextData;

  constructor(data: PipesContextData) {
    this.#data = data;
  }

  /** The context data as loaded. */
  get data(): PipesContextData {
    return this.#data;
  }

  #singleAsset(key: string): void {
    if ((this.#data.asset_keys ?? []).length !== 1) {
      throw new PipesError(
        'ERR_PIPES_UNDEFINED',
        `\`${key}\` is undefined. Current step targets multiple assets.`,
      );
    }
  }

  /** Whether the step targets assets (`asset_keys` is not null). */
  get isAssetStep(): boolean {
    return this.#data.asset_keys !== null;
  }

  /** The one asset key of the step (escaped user string). @throws {PipesError} `ERR_PIPES_UNDEFINED` unless exactly one asset. */
  get assetKey(): string {
    const keys = assetProperty(this.#data.asset_keys, 'asset_key');
    this.#singleAsset('asset_key');
    return keys[0] as string;
  }

  /** The step's asset keys, sorted. @throws {PipesError} `ERR_PIPES_UNDEFINED` when not an asset step. */
  get assetKeys(): readonly string[] {
    return assetProperty(this.#data.asset_keys, 'asset_keys');
  }

  /** Provenance of the one asset (null if never materialized). @throws {PipesError} `ERR_PIPES_UNDEFINED` unless exactly one asset. */
  get provenance(): PipesDataProvenance | null {
    const byKey = assetProperty(this.#data.provenance_by_asset_key, 'provenance');
    this.#singleAsset('provenance');
    return Object.values(byKey)[0] ?? null;
  }

  /** Provenance per asset key. @throws {PipesError} `ERR_PIPES_UNDEFINED` when not an asset step. */
  get provenanceByAssetKey(): Readonly<Record<string, PipesDataProvenance | null>> {
    return assetProperty(this.#data.provenance_by_asset_key, 'provenance_by_asset_key');
  }

  /** Code version of the one asset. @throws {PipesError} `ERR_PIPES_UNDEFINED` unless exactly one asset. */
  get codeVersion(): string | null {
    const byKey = assetProperty(this.#data.code_version_by_asset_key, 'code_version');
    this.#singleAsset('code_version');
    return Object.values(byKey)[0] ?? null;
  }

  /** Code version per asset key. @throws {PipesError} `ERR_PIPES_UNDEFINED` when not an asset step. */
  get codeVersionByAssetKey(): Readonly<Record<string, string | null>> {
    return assetProperty(this.#data.code_version_by_asset_key, 'code_version_by_asset_key');
  }

  /** Whether the step is scoped to partitions (`partition_key_range` is not null). */
  get isPartitionStep(): boolean {
    return this.#data.partition_key_range !== null;
  }

  /** The single partition key. @throws {PipesError} `ERR_PIPES_UNDEFINED` when there is none. */
  get partitionKey(): string {
    return partitionProperty(this.#data.partition_key, 'partition_key');
  }

  /** The partition key range. @throws {PipesError} `ERR_PIPES_UNDEFINED` when not a partition step. */
  get partitionKeyRange(): PipesPartitionKeyRange {
    return partitionProperty(this.#data.partition_key_range, 'partition_key_range');
  }

  /** The time window, or null for non-time partitions. @throws {PipesError} `ERR_PIPES_UNDEFINED` when not a partition step. */
  get partitionTimeWindow(): PipesTimeWindow | null {
    partitionProperty(this.#data.partition_key_range, 'partition_time_window');
    return this.#data.partition_time_window;
  }

  /** The Dagster run id. */
  get runId(): string {
    return this.#data.run_id;
  }

  /** The job name, null under direct invocation. */
  get jobName(): string | null {
    return this.#data.job_name;
  }

  /** The retry number, 0 for the first attempt. */
  get retryNumber(): number {
    return this.#data.retry_number;
  }

  /** Extras the Dagster side passed to `client.run(extras=…)`. */
  get extras(): Readonly<Record<string, unknown>> {
    return this.#data.extras;
  }

  /** One extra. @throws {PipesError} `ERR_PIPES_UNDEFINED` when the extra was not provided. */
  getExtra(key: string): unknown {
    if (!Object.hasOwn(this.#data.extras, key)) {
      throw new PipesError(
        'ERR_PIPES_UNDEFINED',
        `Extra \`${key}\` is undefined. Extras must be provided by user.`,
      );
    }
    return this.#data.extras[key];
  }
}
