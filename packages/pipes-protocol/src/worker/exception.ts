import { inspect } from 'node:util';
import { PipesException } from '../schemas/exception.js';

const MAX_CAUSE_DEPTH = 16;

// Python names the class; for JS, `name` unless it is the inherited default "Error".
function errorName(error: Error): string {
  if (typeof error.name === 'string' && error.name !== '' && error.name !== 'Error') return error.name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof ctor === 'string' && ctor !== '' ? ctor : 'Error';
}

// V8 frames ("    at f (file:1:2)"), each ending in "\n" as Python's formatted frames do, so
// Dagster's "".join(stack) prints one frame per line. Order is V8's: innermost call first.
function stackFrames(stack: unknown): string[] {
  if (typeof stack !== 'string') return [];
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => `  ${line.trim()}\n`);
}

function convert(value: unknown, seen: Set<unknown>, depth: number): PipesException {
  if (value instanceof Error) {
    seen.add(value);
    const name = errorName(value);
    const hasCause = 'cause' in value && value.cause !== undefined && value.cause !== null;
    const cause =
      hasCause && !seen.has(value.cause) && depth < MAX_CAUSE_DEPTH
        ? convert(value.cause, seen, depth + 1)
        : null;
    return {
      message: value.message === '' ? `${name}\n` : `${name}: ${value.message}\n`,
      stack: stackFrames(value.stack),
      name,
      cause,
      context: null,
    };
  }
  const text = typeof value === 'string' ? value : inspect(value, { depth: 4, breakLength: Infinity });
  return { message: `${text}\n`, stack: [], name: null, cause: null, context: null };
}

/**
 * Converts a thrown value into Dagster's `PipesException`, like dagster_pipes._pipes_exc_from_tb:
 * `message` is `"<Name>: <message>\n"` (`"<Name>\n"` when empty), `stack` the V8 frames as strings
 * (innermost first), `name` the error's name, `cause` the `Error.cause` chain (recursively, cycles
 * cut), `context` null (JavaScript has no implicit exception context). A value that already is a
 * `PipesException` is returned as is; a non-Error becomes `{message: String(value) + "\n", name: null}`.
 */
export function toPipesException(value: unknown): PipesException {
  if (!(value instanceof Error)) {
    const already = PipesException.safeParse(value);
    if (already.success) return already.data;
  }
  return convert(value, new Set(), 0);
}
