import * as z from 'zod';

/** The 17 metadata type tags real Dagster accepts (`PipesMetadataType`). `job` is not one of them. */
export const PIPES_METADATA_TYPES = [
  '__infer__',
  'text',
  'url',
  'path',
  'notebook',
  'json',
  'md',
  'float',
  'int',
  'bool',
  'dagster_run',
  'asset',
  'null',
  'table',
  'table_schema',
  'table_column_lineage',
  'timestamp',
] as const;
export type PipesMetadataType = (typeof PIPES_METADATA_TYPES)[number];

const TableColumn = z.object({
  name: z.string(),
  type: z.string(),
  description: z.string().nullable().optional(),
  tags: z.record(z.string(), z.string()).nullable().optional(),
  constraints: z
    .object({
      nullable: z.boolean().optional(),
      unique: z.boolean().optional(),
      other: z.array(z.string()).optional(),
    })
    .nullable()
    .optional(),
});

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const jsonish: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), finite, z.boolean(), z.null(), z.array(jsonish), z.record(z.string(), jsonish)]),
);

/** What `raw_value` must be for each type tag, as Dagster's host converts it. */
export const RAW_VALUE_BY_TYPE: Record<PipesMetadataType, z.ZodType<unknown>> = {
  __infer__: jsonish,
  text: z.string(),
  url: z.string(),
  path: z.string(),
  notebook: z.string(),
  json: z.union([z.array(jsonish), z.record(z.string(), jsonish)]),
  md: z.string(),
  float: finite,
  int: z.number().int(),
  bool: z.boolean(),
  dagster_run: z.string(),
  asset: z.string(),
  null: z.unknown(),
  table: z.object({ records: z.array(z.record(z.string(), jsonish)), schema: z.array(TableColumn) }),
  table_schema: z.object({ columns: z.array(TableColumn) }),
  table_column_lineage: z.object({
    deps_by_column: z.record(
      z.string(),
      // A string is one key part on the host (AssetKey.from_coercible); a list gives several parts.
      z.array(z.object({ asset_key: z.union([z.string(), z.array(z.string())]), column_name: z.string() })),
    ),
  }),
  timestamp: finite,
};

/** One metadata entry on the wire: `{raw_value, type}` with `raw_value` checked against `type`. */
export const PipesMetadataValue = z
  .strictObject({ raw_value: z.unknown(), type: z.enum(PIPES_METADATA_TYPES) })
  .superRefine((v, ctx) => {
    const result = RAW_VALUE_BY_TYPE[v.type].safeParse(v.raw_value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({
          ...issue,
          path: ['raw_value', ...issue.path],
          message: `${issue.message} (for type "${v.type}")`,
        } as never);
      }
    }
  });
export type PipesMetadataValue = { raw_value: unknown; type: PipesMetadataType };

/** A metadata mapping on the wire. */
export const PipesMetadata = z.record(z.string(), PipesMetadataValue);
export type PipesMetadata = Record<string, PipesMetadataValue>;
