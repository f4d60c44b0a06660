import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringifyJson } from '../json.js';
import type { PipesContextData } from '../schemas/context.js';
import { encodeBootstrapEnv, type PipesBootstrapEnv } from './bootstrap.js';
import { makePrivateTempDir, removeTempDir } from './private-temp-dir.js';

/** How the context data reaches the external process. */
export type PipesContextInjectorKind = 'env' | 'file';

/** Published context data: its params (`DAGSTER_PIPES_CONTEXT`) and its cleanup. */
export interface PipesContextInjection extends AsyncDisposable {
  readonly kind: PipesContextInjectorKind;
  /** `{data: <context>}` (env) or `{path: <file>}` (file). */
  readonly params: { readonly data: PipesContextData } | { readonly path: string };
  /** Where the context was put, for the "no messages received" diagnostic. */
  readonly debugText: string;
  /** Both encoded env vars: these context params plus the given message params. */
  bootstrapEnv(messagesParams: Readonly<Record<string, unknown>>): PipesBootstrapEnv;
  /** Removes what was published (the file injector's temp dir). Idempotent. */
  dispose(): Promise<void>;
}

function bootstrapEnvOf(params: PipesContextInjection['params']) {
  return (messagesParams: Readonly<Record<string, unknown>>): PipesBootstrapEnv =>
    encodeBootstrapEnv({ DAGSTER_PIPES_CONTEXT: params, DAGSTER_PIPES_MESSAGES: messagesParams });
}

/**
 * Puts the context data inline in the context params, `{data: ctx}`, so it travels inside the
 * `DAGSTER_PIPES_CONTEXT` env var. Mirrors Dagster's `PipesEnvContextInjector`. Nothing to clean up.
 */
export function injectContextInEnv(data: PipesContextData): PipesContextInjection {
  const params = { data };
  return {
    kind: 'env',
    params,
    bootstrapEnv: bootstrapEnvOf(params),
    debugText: 'Attempted to inject context directly, typically as an environment variable.',
    dispose: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
}

/** Options of {@link injectContextInFile}. */
export interface FileContextInjectionOptions {
  /**
   * Parent of the private temp dir.
   * @default os.tmpdir()
   */
  tmpDir?: string;
}

/**
 * Writes the context data as JSON to `<private temp dir>/context` (dir mode 0700, file mode 0600)
 * and puts `{path}` in the context params; `dispose()` removes the directory. Mirrors Dagster's
 * `PipesTempFileContextInjector`.
 * @throws {PipesError} `ERR_PIPES_INVALID_METADATA` when the data holds a non-JSON value or NaN.
 */
export async function injectContextInFile(
  data: PipesContextData,
  options: FileContextInjectionOptions = {},
): Promise<PipesContextInjection> {
  const json = stringifyJson(data);
  const dir = await makePrivateTempDir('slurm-pipes-context-', options.tmpDir);
  const path = join(dir, 'context');
  try {
    await writeFile(path, json, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  let disposed: Promise<void> | undefined;
  const dispose = () => {
    disposed ??= removeTempDir(dir);
    return disposed;
  };
  const params = { path };
  return {
    kind: 'file',
    params,
    bootstrapEnv: bootstrapEnvOf(params),
    debugText: `Attempted to inject context via file ${path}`,
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
