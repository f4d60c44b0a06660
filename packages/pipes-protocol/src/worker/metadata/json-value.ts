import { PipesError } from '../../errors.js';
import { PipesFloat } from '../../json.js';

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/**
 * Checks that `value` is JSON Dagster can take: strings, finite numbers, {@link PipesFloat},
 * booleans, null, arrays, plain objects (undefined properties are dropped, as JSON.stringify does).
 * Returns a copy with every `PipesFloat` replaced by its number, for schema checks.
 * @throws {PipesError} `ERR_PIPES_INVALID_METADATA` naming the path of the first bad value.
 */
export function toPlainJson(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' || value instanceof PipesFloat) {
    const n = typeof value === 'number' ? value : value.value;
    if (!Number.isFinite(n)) {
      throw new PipesError(
        'ERR_PIPES_INVALID_METADATA',
        `${path} is ${n}, which JSON cannot carry and Dagster would not accept. Send a finite number, null, or the value as text.`,
      );
    }
    return n;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      if (item === undefined) {
        throw new PipesError('ERR_PIPES_INVALID_METADATA', `${path}[${i}] is undefined; use null.`);
      }
      return toPlainJson(item, `${path}[${i}]`);
    });
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = toPlainJson(item, `${path}.${key}`);
    }
    return out;
  }
  throw new PipesError(
    'ERR_PIPES_INVALID_METADATA',
    `${path} is a ${describe(value)}, which is not JSON. Convert it first (e.g. a Date with PipesMetadataValues.timestamp(date) or date.toISOString()).`,
  );
}
