import * as z from 'zod';
import { PipesError } from '../../errors.js';
import { RAW_VALUE_BY_TYPE } from '../../schemas/metadata.js';
import { toPlainJson } from './json-value.js';
import type { PipesMetadataEntry } from './normalize-metadata.js';

/** A column of a table schema (Dagster `TableColumn`). */
export interface PipesTableColumn {
  name: string;
  /** Free-form type name shown in the UI, e.g. `string`, `int`. */
  type: string;
  description?: string | null;
  tags?: Record<string, string> | null;
  constraints?: { nullable?: boolean; unique?: boolean; other?: string[] } | null;
}

/** One cell of a table record: Dagster's `TableRecord` takes only scalars. */
export type PipesTableCell = string | number | boolean | null;

/** A column another column depends on (Dagster `TableColumnDep`). */
export interface PipesTableColumnDep {
  /**
   * The upstream asset. A string is ONE key part (Dagster's `AssetKey.from_coercible` does not
   * split it); pass an array of parts for a multi-part key.
   */
  asset_key: string | readonly string[];
  column_name: string;
}

function entry<T extends keyof typeof RAW_VALUE_BY_TYPE>(
  type: T,
  rawValue: unknown,
  helper: string,
): PipesMetadataEntry<T> {
  const where = `PipesMetadataValues.${helper}()`;
  const plain = toPlainJson(rawValue, `the value passed to ${where}`);
  const check = RAW_VALUE_BY_TYPE[type].safeParse(plain);
  if (!check.success) {
    throw new PipesError(
      'ERR_PIPES_INVALID_METADATA',
      `Invalid value passed to ${where}:\n${z.prettifyError(check.error)}`,
      { cause: check.error },
    );
  }
  return { type, raw_value: rawValue };
}

function inferColumnType(records: readonly Record<string, PipesTableCell>[], column: string): string {
  for (const record of records) {
    const cell = record[column];
    if (typeof cell === 'string') return 'string';
    if (typeof cell === 'boolean') return 'bool';
    if (typeof cell === 'number') return Number.isInteger(cell) ? 'int' : 'float';
  }
  return 'string';
}

/**
 * Typed metadata entries (`{type, raw_value}`) for the worker API, like Python's `MetadataValue.*`.
 * Each helper checks its value at once.
 * @throws {PipesError} `ERR_PIPES_INVALID_METADATA` when a value does not fit its type.
 */
export const PipesMetadataValues = {
  /** Plain text (`TextMetadataValue`). */
  text: (value: string) => entry('text', value, 'text'),
  /** A URL (`UrlMetadataValue`). */
  url: (value: string) => entry('url', value, 'url'),
  /** A filesystem path (`PathMetadataValue`). */
  path: (value: string) => entry('path', value, 'path'),
  /** A path to a notebook (`NotebookMetadataValue`). */
  notebook: (value: string) => entry('notebook', value, 'notebook'),
  /** Markdown (`MarkdownMetadataValue`). */
  md: (value: string) => entry('md', value, 'md'),
  /** A JSON object or array (`JsonMetadataValue`). */
  json: (value: readonly unknown[] | Readonly<Record<string, unknown>>) => entry('json', value, 'json'),
  /** A float, sent as `1.0` even when whole (`FloatMetadataValue`). */
  float: (value: number) => entry('float', value, 'float'),
  /** An integer (`IntMetadataValue`). */
  int: (value: number) => entry('int', value, 'int'),
  /** A boolean (`BoolMetadataValue`). */
  bool: (value: boolean) => entry('bool', value, 'bool'),
  /** A point in time: seconds since the epoch, or a `Date` (`TimestampMetadataValue`). */
  timestamp: (value: number | Date) =>
    entry('timestamp', value instanceof Date ? value.getTime() / 1000 : value, 'timestamp'),
  /** A Dagster run id (`DagsterRunMetadataValue`). */
  dagsterRun: (runId: string) => entry('dagster_run', runId, 'dagsterRun'),
  /**
   * An asset key (`DagsterAssetMetadataValue`). Dagster splits the string on every `/` (unescaped),
   * so a part cannot contain `/`.
   */
  asset: (key: string | readonly string[]) => {
    if (typeof key !== 'string' && key.some((part) => part.includes('/'))) {
      throw new PipesError(
        'ERR_PIPES_INVALID_METADATA',
        `PipesMetadataValues.asset(): key part containing "/" in ${JSON.stringify(key)} cannot be expressed; Dagster splits asset metadata on every "/".`,
      );
    }
    return entry('asset', typeof key === 'string' ? key : key.join('/'), 'asset');
  },
  /** An explicit null (`NullMetadataValue`). */
  null: (): PipesMetadataEntry<'null'> => ({ type: 'null', raw_value: null }),
  /**
   * A table (`TableMetadataValue`). Without `schema`, columns are taken from the records' keys with
   * types `string`/`int`/`float`/`bool` inferred from the first non-null cell.
   */
  table: (records: readonly Record<string, PipesTableCell>[], schema?: readonly PipesTableColumn[]) => {
    const columns =
      schema ??
      [...new Set(records.flatMap((r) => Object.keys(r)))].map((name) => ({
        name,
        type: inferColumnType(records, name),
      }));
    return entry('table', { records, schema: columns }, 'table');
  },
  /** A table schema (`TableSchemaMetadataValue`). */
  tableSchema: (columns: readonly PipesTableColumn[]) => entry('table_schema', { columns }, 'tableSchema'),
  /** Column lineage (`TableColumnLineageMetadataValue`): for each column, the columns it derives from. */
  tableColumnLineage: (depsByColumn: Readonly<Record<string, readonly PipesTableColumnDep[]>>) =>
    entry('table_column_lineage', { deps_by_column: depsByColumn }, 'tableColumnLineage'),
} as const;
