import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { PipesError } from '../errors.js';
import { PipesContextData } from '../schemas/context.js';
import type { PipesRawParams } from './params-loader.js';

/** Context data as loaded: validated, and exactly as Dagster sent it. */
export interface LoadedContextData {
  /** Validated, with defaults for keys older or non-Python hosts omit. */
  data: PipesContextData;
  /** The parsed JSON object unchanged, for relaying to another process. */
  raw: Record<string, unknown>;
}

/** Options for {@link loadContextData}. */
export interface LoadContextDataOptions {
  /** Reads the `path` file. @default fs.readFileSync(path, 'utf8') */
  readFile?: (path: string) => string;
}

const FILE_PATH_KEY = 'path';
const DIRECT_KEY = 'data';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function readContextFile(path: unknown, readFile: (path: string) => string): unknown {
  if (typeof path !== 'string') {
    throw new PipesError(
      'ERR_PIPES_INVALID_CONTEXT',
      `Context params key "path" must be a string, got ${JSON.stringify(path)}. The orchestration side's context injector sent malformed params.`,
    );
  }
  let text: string;
  try {
    text = readFile(path);
  } catch (cause) {
    throw new PipesError(
      'ERR_PIPES_INVALID_CONTEXT',
      `Cannot read the Pipes context file ${path}: ${(cause as Error).message}. The file is written by Dagster for the life of the session; run the process on a host that shares that filesystem, or use PipesEnvContextInjector.`,
      { cause },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PipesError('ERR_PIPES_INVALID_CONTEXT', `The Pipes context file ${path} is not JSON.`, {
      cause,
    });
  }
}

/**
 * Loads the context data the context params point at. Mirrors dagster_pipes.PipesDefaultContextLoader:
 * `path` (a UTF-8 JSON file) is checked before `data` (the context inline).
 * @throws {PipesError} `ERR_PIPES_INVALID_CONTEXT` when neither key is present, the file cannot be
 * read, or the data does not match `PipesContextData`.
 */
export function loadContextData(
  params: PipesRawParams,
  options: LoadContextDataOptions = {},
): LoadedContextData {
  let raw: unknown;
  if (FILE_PATH_KEY in params) {
    raw = readContextFile(params[FILE_PATH_KEY], options.readFile ?? ((p) => readFileSync(p, 'utf8')));
  } else if (DIRECT_KEY in params) {
    raw = params[DIRECT_KEY];
  } else {
    throw new PipesError(
      'ERR_PIPES_INVALID_CONTEXT',
      `Invalid params for PipesDefaultContextLoader, expected key "path" or "data", received ${JSON.stringify(params)}. The orchestration side uses a context injector this loader does not support.`,
    );
  }
  if (!isPlainObject(raw)) {
    throw new PipesError(
      'ERR_PIPES_INVALID_CONTEXT',
      `Pipes context data must be a JSON object, got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}.`,
    );
  }
  const parsed = PipesContextData.safeParse(raw);
  if (!parsed.success) {
    throw new PipesError(
      'ERR_PIPES_INVALID_CONTEXT',
      `Pipes context data does not match PipesContextData:\n${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  return { data: parsed.data, raw };
}
