import * as z from 'zod';

/** Mirrors dagster-pipes json_schema/context.json `PipesDataProvenance`. */
export const PipesDataProvenance = z.looseObject({
  code_version: z.string(),
  input_data_versions: z.record(z.string(), z.string()),
  is_user_provided: z.boolean(),
});
export type PipesDataProvenance = z.infer<typeof PipesDataProvenance>;

/** `{start, end}` of a partition key range. */
export const PipesPartitionKeyRange = z.looseObject({ start: z.string(), end: z.string() });
export type PipesPartitionKeyRange = z.infer<typeof PipesPartitionKeyRange>;

/** `{start, end}` of a time window, as Python `datetime.isoformat()` strings. */
export const PipesTimeWindow = z.looseObject({ start: z.string(), end: z.string() });
export type PipesTimeWindow = z.infer<typeof PipesTimeWindow>;

/**
 * The context data Dagster sends (`PipesContextData`). Dagster always sends all ten keys; keys
 * other implementations omit default to `null` / `{}`, and unknown keys from newer Dagster
 * versions are kept, so a relay passes the context on unchanged.
 */
export const PipesContextData = z.looseObject({
  asset_keys: z.array(z.string()).nullable().default(null),
  code_version_by_asset_key: z.record(z.string(), z.string().nullable()).nullable().default(null),
  provenance_by_asset_key: z.record(z.string(), PipesDataProvenance.nullable()).nullable().default(null),
  partition_key: z.string().nullable().default(null),
  partition_key_range: PipesPartitionKeyRange.nullable().default(null),
  partition_time_window: PipesTimeWindow.nullable().default(null),
  run_id: z.string(),
  job_name: z.string().nullable().default(null),
  retry_number: z.number().int().nonnegative(),
  extras: z
    .record(z.string(), z.unknown())
    .nullable()
    .default({})
    .transform((e) => e ?? {}),
});
export type PipesContextData = z.infer<typeof PipesContextData>;
/** What a host may write before defaults are applied. */
export type PipesContextDataInput = z.input<typeof PipesContextData>;

/** Context params (`DAGSTER_PIPES_CONTEXT`): `path` is checked before `data`, as in Python. */
export const PipesContextParams = z.union([
  z.looseObject({ path: z.string() }),
  z.looseObject({ data: z.record(z.string(), z.unknown()) }),
]);
export type PipesContextParams = z.infer<typeof PipesContextParams>;

/** Message params (`DAGSTER_PIPES_MESSAGES`), keys checked in the order `path`, `stdio`, `buffered_stdio`. */
export const PipesMessagesParams = z.looseObject({
  path: z.string().optional(),
  stdio: z.enum(['stdout', 'stderr']).optional(),
  buffered_stdio: z.enum(['stdout', 'stderr']).optional(),
  include_stdio_in_messages: z.boolean().optional(),
});
export type PipesMessagesParams = z.infer<typeof PipesMessagesParams>;
