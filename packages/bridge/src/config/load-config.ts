import { readFileSync } from 'node:fs';
import type * as z from 'zod';
import { BridgeError } from '../errors.js';
import { envVariableFor } from './env-paths.js';
import { BridgeConfig } from './schema.js';

/** One layer of configuration and where it came from, for error messages. */
export interface ConfigLayer {
  /** Human label of the source, e.g. `--python` or `SLURM_PIPES_CONFIG_JSON`. */
  source: string;
  /** A partial configuration object (same shape as {@link BridgeConfig}). */
  values: Record<string, unknown>;
  /** Per-path source labels when one layer mixes sources (env vars, flags). */
  sources?: Map<string, string>;
}

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Objects are merged leaf by leaf and every leaf's path recorded, so an error about
// `slurm.ssh.port` names SLURM_SSH_PORT and not just the layer that first created `slurm`.
function mergeInto(target: Json, layer: Json, path: string[], record: (path: string[]) => void): void {
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const here = [...path, key];
    if (isPlainObject(value)) {
      const existing = target[key];
      const into = isPlainObject(existing) ? existing : {};
      target[key] = into;
      record(here);
      mergeInto(into, value, here, record);
    } else {
      target[key] = value;
      record(here);
    }
  }
}

/**
 * Merges configuration layers (lowest precedence first) and validates the result.
 * @throws {BridgeError} `ERR_BRIDGE_CONFIG` naming every bad field, its value, where it came from and the fix.
 */
export function resolveConfig(layers: readonly ConfigLayer[]): BridgeConfig {
  const merged: Json = {};
  const origin = new Map<string, string>();
  for (const layer of layers) {
    mergeInto(merged, layer.values, [], (path) => {
      const key = path.join('.');
      origin.set(key, layer.sources?.get(key) ?? layer.source);
    });
  }
  const result = BridgeConfig.safeParse(merged);
  if (result.success) return result.data;
  throw new BridgeError('ERR_BRIDGE_CONFIG', describeIssues(result.error, merged, origin), {
    cause: result.error,
  });
}

function describeIssues(error: z.ZodError, merged: Json, origin: Map<string, string>): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] as string;
      const where = origin.get([...path, key].join('.')) ?? 'defaults';
      const field = path.length === 0 ? 'the top level' : path.join('.');
      return `  - ${field} (from ${where}): unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}. Check the spelling; the fields are listed in the README (Configuration).`;
    }
    const field = path.join('.') || '(root)';
    const value = valueAt(merged, path);
    if (value === undefined && issue.code === 'invalid_type') return missingField(path, origin);
    let source = 'defaults';
    for (let i = path.length; i > 0; i--) {
      const s = origin.get(path.slice(0, i).join('.'));
      if (s !== undefined) {
        source = s;
        break;
      }
    }
    const shown = /password|passphrase|otp/i.test(field) ? '<hidden>' : JSON.stringify(value);
    return `  - ${field}${value === undefined ? '' : ` = ${shown}`} (from ${source}): ${issue.message}.`;
  });
  // Settings of the other mode are validated too; say so when they are what fails a local run.
  const mode = isPlainObject(merged) && merged.mode !== undefined ? merged.mode : 'local';
  if (mode === 'local' && error.issues.some((issue) => issue.path[0] === 'slurm')) {
    lines.push(
      '  This run is in local mode, which does not use the slurm settings: complete them, or remove them (such as SLURM_SSH_* variables this process inherited).',
    );
  }
  return `Invalid slurm-pipes configuration:\n${lines.join('\n')}`;
}

// A required field nobody set: name the settings that made it required and how to set it.
function missingField(path: readonly string[], origin: ReadonlyMap<string, string>): string {
  const field = path.join('.');
  const parent = path.slice(0, -1).join('.');
  const givenBy =
    parent === ''
      ? []
      : [...new Set([...origin].filter(([key]) => key.startsWith(`${parent}.`)).map(([, source]) => source))];
  const variable = envVariableFor(field);
  const why = givenBy.length === 0 ? '' : ` by the ${parent} settings given (${givenBy.join(', ')})`;
  const fix =
    variable === undefined
      ? `set ${field} in the configuration`
      : `set ${variable}, or ${field} in the configuration`;
  return `  - ${field} is missing, and required${why}. Fix: ${fix}.`;
}

function valueAt(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Reads a JSON configuration file as a layer. */
export function fileLayer(path: string): ConfigLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BridgeError(
      'ERR_BRIDGE_CONFIG',
      `Cannot read the configuration file ${path}: ${(cause as Error).message}. Check the path given to --config or SLURM_PIPES_CONFIG.`,
      { cause },
    );
  }
  return { source: `config file ${path}`, values: parseJsonObject(text, `config file ${path}`) };
}

/** Parses text that must be a JSON object. */
export function parseJsonObject(text: string, what: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `${what} is not valid JSON: ${(cause as Error).message}.`, {
      cause,
    });
  }
  if (!isPlainObject(parsed))
    throw new BridgeError(
      'ERR_BRIDGE_CONFIG',
      `${what} must be a JSON object, got ${JSON.stringify(parsed)}.`,
    );
  return parsed;
}
