import { PipesError } from '../errors.js';
import type { PipesContextData } from '../schemas/context.js';
import { loadPipesBootstrap, type PipesBootstrapOptions } from './bootstrap.js';
import { type MessageWriterChannelOptions, openMessageWriterChannel } from './channels/open-channel.js';
import { PipesContext, type PipesContextInit } from './context/pipes-context.js';
import { installProcessHooks } from './context/process-hooks.js';
import { createDefaultParamsLoader } from './params-loader.js';

/** Options for {@link openDagsterPipes}. */
export interface OpenDagsterPipesOptions extends PipesBootstrapOptions, MessageWriterChannelOptions {
  /**
   * Install process hooks that close the session on an uncaught error, SIGTERM/SIGINT and exit
   * (see `installProcessHooks`). @default true
   */
  processHooks?: boolean;
}

/** Text of Python's DagsterPipesWarning for a process not launched by Dagster. */
export const ORCHESTRATION_INACTIVE_WARNING =
  'This process was not launched by a Dagster orchestration process. All calls to the `dagster-pipes` context or attempts to initialize `dagster-pipes` abstractions are no-ops.';

// On globalThis so two copies of this module (source and dist) still share one context.
const SINGLETON = Symbol.for('@slurm-pipes/pipes-protocol.PipesContext');
type Holder = { [SINGLETON]?: PipesContext };

const NOOP_DATA: PipesContextData = {
  asset_keys: null,
  code_version_by_asset_key: null,
  provenance_by_asset_key: null,
  partition_key: null,
  partition_key_range: null,
  partition_time_window: null,
  run_id: '',
  job_name: null,
  retry_number: 0,
  extras: {},
};

/**
 * Builds a context over a channel you opened (no singleton, no process hooks); writes `opened`.
 * For tests and embedding; workers use {@link openDagsterPipes}.
 */
export function createPipesContext(init: PipesContextInit): PipesContext {
  return new PipesContext(init);
}

/**
 * Opens the Dagster Pipes session of this process (dagster_pipes.open_dagster_pipes): loads the
 * params and context, opens the message channel, sends `opened`. A singleton: later calls return
 * the same context and ignore their options. Outside a Pipes process, emits Python's
 * `DagsterPipesWarning` and returns a no-op context (reports are dropped; accessors see an
 * empty context).
 * @throws {PipesError} `ERR_PIPES_INVALID_PARAMS`, `ERR_PIPES_INVALID_CONTEXT` when Dagster's
 * params or context cannot be loaded.
 */
export function openDagsterPipes(options: OpenDagsterPipesOptions = {}): PipesContext {
  const holder = globalThis as Holder;
  const existing = holder[SINGLETON];
  if (existing) return existing;

  const paramsLoader = options.paramsLoader ?? createDefaultParamsLoader(options);
  let context: PipesContext;
  if (paramsLoader.isDagsterPipesProcess()) {
    const bootstrap = loadPipesBootstrap({ ...options, paramsLoader });
    const channel = openMessageWriterChannel(bootstrap.messagesParams, options);
    let removeHooks: (() => void) | undefined;
    context = new PipesContext({ data: bootstrap.contextData, channel, onClose: () => removeHooks?.() });
    if (options.processHooks !== false) removeHooks = installProcessHooks(context);
  } else {
    process.emitWarning(ORCHESTRATION_INACTIVE_WARNING, { type: 'DagsterPipesWarning' });
    context = new PipesContext({ data: NOOP_DATA, channel: null });
  }
  holder[SINGLETON] = context;
  return context;
}

/** Whether {@link openDagsterPipes} has been called in this process. */
export function isPipesContextInitialized(): boolean {
  return (globalThis as Holder)[SINGLETON] !== undefined;
}

/**
 * The context {@link openDagsterPipes} opened (Python's `PipesContext.get()`).
 * @throws {PipesError} `ERR_PIPES_UNDEFINED` before `openDagsterPipes()` was called.
 */
export function getPipesContext(): PipesContext {
  const context = (globalThis as Holder)[SINGLETON];
  if (!context) {
    throw new PipesError(
      'ERR_PIPES_UNDEFINED',
      'PipesContext has not been initialized. You must call `openDagsterPipes()`.',
    );
  }
  return context;
}

/**
 * Runs `main` inside a Pipes session: opens it, awaits `main(context)`, closes it. When `main`
 * throws, `closed` carries the error (message, stack, cause chain), `process.exitCode` becomes 1
 * so Dagster's step fails, and the error is rethrown.
 * @throws whatever `main` throws; `PipesError` as {@link openDagsterPipes}.
 */
export async function runDagsterPipes<T>(
  main: (context: PipesContext) => T | Promise<T>,
  options: OpenDagsterPipesOptions = {},
): Promise<T> {
  const context = openDagsterPipes(options);
  let result: T;
  try {
    result = await main(context);
  } catch (error) {
    process.exitCode = 1;
    await context.close(error);
    throw error;
  }
  await context.close();
  return result;
}
