import * as z from 'zod';
import { PipesError } from '../../errors.js';
import { PipesFloat } from '../../json.js';
import { PIPES_METADATA_TYPES, type PipesMetadataType, RAW_VALUE_BY_TYPE } from '../../schemas/metadata.js';
import { toPlainJson } from './json-value.js';

/** A raw metadata value; Dagster infers its type (str→text, number→int/float, bool, list/object→json, null). */
export type PipesMetadataRawValue =
  | string
  | number
  | boolean
  | null
  | PipesFloat
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/** A typed metadata entry as the worker API accepts it: exactly `{type, raw_value}`. */
export interface PipesMetadataEntry<T extends PipesMetadataType = PipesMetadataType> {
  type: T;
  raw_value: unknown;
}

/** Metadata as the worker API accepts it. `undefined` values are dropped, as JSON.stringify does. */
export type PipesMetadataInput = Readonly<
  Record<string, PipesMetadataRawValue | PipesMetadataEntry | undefined>
>;

/** One normalized entry, ready for `stringifyJson` (a `float` raw value is a {@link PipesFloat}). */
export interface NormalizedMetadataValue {
  raw_value: unknown;
  type: PipesMetadataType;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(PIPES_METADATA_TYPES);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function invalid(message: string): PipesError {
  return new PipesError('ERR_PIPES_INVALID_METADATA', message);
}

// Dagster's TableRecord holds only str | int | float | bool | None values.
function checkTableRecords(table: { records: Record<string, unknown>[] }, where: string): void {
  table.records.forEach((record, i) => {
    for (const [column, cell] of Object.entries(record)) {
      if (cell !== null && typeof cell === 'object') {
        throw invalid(
          `Invalid raw value for metadata type \`table\` at ${where}: records[${i}].${column} is an ${Array.isArray(cell) ? 'array' : 'object'}; table cells must be strings, numbers, booleans or null.`,
        );
      }
    }
  });
}

function normalizeTyped(value: Record<string, unknown>, key: string, method: string, param: string) {
  const keys = Object.keys(value).sort();
  if (keys.length !== 2 || keys[0] !== 'raw_value' || keys[1] !== 'type') {
    throw invalid(
      `Invalid type for parameter \`${param}\` of \`${method}\`. Expected values that are either raw metadata values or objects with schema \`{raw_value: ..., type: ...}\`. Got \`${param}.${key}\` = ${JSON.stringify(value)}. To send an arbitrary object, wrap it: {type: 'json', raw_value: …} (PipesMetadataValues.json(…)).`,
    );
  }
  const type = value.type;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    throw invalid(
      `Invalid value for parameter \`${param}.${key}.type\` of \`${method}\`. Expected one of \`[${PIPES_METADATA_TYPES.join(', ')}]\`, got \`${String(type)}\`.${type === 'job' ? ' Dagster has no `job` metadata type; send the job name as text.' : ''}`,
    );
  }
  const metadataType = type as PipesMetadataType;
  if (metadataType === 'null') return { raw_value: null, type: metadataType };
  const where = `\`${param}.${key}.raw_value\` of \`${method}\``;
  const plain = toPlainJson(value.raw_value, where);
  const check = RAW_VALUE_BY_TYPE[metadataType].safeParse(plain);
  if (!check.success) {
    throw invalid(
      `Invalid raw value for metadata type \`${metadataType}\` at ${where}:\n${z.prettifyError(check.error)}`,
    );
  }
  if (metadataType === 'table') checkTableRecords(plain as { records: Record<string, unknown>[] }, where);
  // JSON.stringify(1.0) is "1", which Python reads as int and Dagster's float check rejects.
  if (metadataType === 'float') return { raw_value: new PipesFloat(plain as number), type: metadataType };
  return { raw_value: value.raw_value, type: metadataType };
}

/**
 * Normalizes worker metadata to wire entries. Mirrors dagster_pipes._normalize_param_metadata:
 * a plain-object value must be exactly `{type, raw_value}` with a known type tag; any other value
 * becomes `{raw_value, type: '__infer__'}`. Additionally checks each raw value against its type
 * (`RAW_VALUE_BY_TYPE`) and refuses NaN/±Infinity, so Dagster's reader never sees a bad message.
 * Returns `null` for empty metadata (Python sends falsy metadata as `None`).
 * @throws {PipesError} `ERR_PIPES_INVALID_METADATA` saying which entry is wrong and how to fix it.
 */
export function normalizeMetadata(
  metadata: PipesMetadataInput | null | undefined,
  method: string,
  param = 'metadata',
): Record<string, NormalizedMetadataValue> | null {
  if (metadata === null || metadata === undefined) return null;
  if (!isPlainObject(metadata)) {
    throw invalid(
      `Invalid type for parameter \`${param}\` of \`${method}\`. Expected a plain object mapping names to values, got ${Array.isArray(metadata) ? 'an array' : typeof metadata}.`,
    );
  }
  const out: Record<string, NormalizedMetadataValue> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined) continue;
    if (isPlainObject(value)) {
      out[key] = normalizeTyped(value, key, method, param);
    } else {
      toPlainJson(value, `\`${param}.${key}\` of \`${method}\``);
      out[key] = { raw_value: value, type: '__infer__' };
    }
  }
  return Object.keys(out).length === 0 ? null : out;
}
