import { PipesError } from './errors.js';

/**
 * A number that must reach Python as a `float` even when it is whole. `JSON.stringify(1.0)` is
 * `1`, which Python parses as `int`; Dagster's `float` metadata check then rejects it.
 */
export class PipesFloat {
  constructor(readonly value: number) {}
}

/** Options for {@link stringifyJson}. */
export interface StringifyJsonOptions {
  /**
   * Write like Python's `json.dumps` defaults: `", "` and `": "` separators and `\uXXXX` for
   * non-ASCII characters, so encoded params are byte-identical to Dagster's.
   * @default false
   */
  pythonStyle?: boolean;
}

// Mirrors json.dumps(ensure_ascii=True): every code unit above 0x7e becomes \uXXXX.
function escapeNonAscii(quoted: string): string {
  return quoted.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Serialises a JSON value. Unlike `JSON.stringify` it writes {@link PipesFloat} whole numbers as
 * `1.0`, and refuses NaN and ±Infinity (JSON has no such numbers; `JSON.stringify` would silently
 * turn them into `null`).
 * @throws {PipesError} `ERR_PIPES_INVALID_METADATA` for a non-finite number or a non-JSON value.
 */
export function stringifyJson(value: unknown, options: StringifyJsonOptions = {}): string {
  const python = options.pythonStyle === true;
  const comma = python ? ', ' : ',';
  const colon = python ? ': ' : ':';
  const str = (s: string) => (python ? escapeNonAscii(JSON.stringify(s)) : JSON.stringify(s));

  const write = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    if (v instanceof PipesFloat) {
      checkFinite(v.value, path);
      return Number.isInteger(v.value) ? `${v.value.toFixed(1)}` : JSON.stringify(v.value);
    }
    switch (typeof v) {
      case 'string':
        return str(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        checkFinite(v, path);
        return JSON.stringify(v);
      case 'bigint':
        return v.toString();
      case 'object': {
        if (Array.isArray(v)) return `[${v.map((x, i) => write(x, `${path}[${i}]`)).join(comma)}]`;
        const toJSON = (v as { toJSON?: () => unknown }).toJSON;
        if (typeof toJSON === 'function') return write(toJSON.call(v), path);
        const parts: string[] = [];
        for (const [k, x] of Object.entries(v)) {
          if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
          parts.push(`${str(k)}${colon}${write(x, `${path}.${k}`)}`);
        }
        return `{${parts.join(comma)}}`;
      }
      default:
        throw new PipesError(
          'ERR_PIPES_INVALID_METADATA',
          `Value at ${path || '(root)'} is a ${typeof v}, which JSON cannot carry. Pass strings, numbers, booleans, null, arrays or plain objects.`,
        );
    }
  };
  return write(value, '');
}

function checkFinite(n: number, path: string): void {
  if (!Number.isFinite(n)) {
    throw new PipesError(
      'ERR_PIPES_INVALID_METADATA',
      `Value at ${path || '(root)'} is ${n}, which JSON cannot carry and Dagster would not accept. Send a finite number, or null, or the value as text.`,
    );
  }
}
