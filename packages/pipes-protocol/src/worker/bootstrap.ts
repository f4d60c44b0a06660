import { PipesError } from '../errors.js';
import type { PipesContextData } from '../schemas/context.js';
import { type LoadContextDataOptions, loadContextData } from './context-loader.js';
import {
  createDefaultParamsLoader,
  type DefaultParamsLoaderOptions,
  type PipesParamsLoader,
  type PipesRawParams,
} from './params-loader.js';

/** Everything Dagster handed this process, decoded. */
export interface PipesBootstrap {
  /** Decoded `DAGSTER_PIPES_CONTEXT`, e.g. `{path: '/tmp/x/context'}`. */
  contextParams: PipesRawParams;
  /** Decoded `DAGSTER_PIPES_MESSAGES`, e.g. `{path: '/tmp/x/messages', include_stdio_in_messages: false}`. */
  messagesParams: PipesRawParams;
  /** The context data, validated. */
  contextData: PipesContextData;
  /** The context data exactly as Dagster wrote it (for relaying unchanged). */
  rawContextData: Record<string, unknown>;
}

/** Options for {@link loadPipesBootstrap} and {@link isDagsterPipesProcess}. */
export interface PipesBootstrapOptions extends DefaultParamsLoaderOptions, LoadContextDataOptions {
  /** Where the params come from. @default {@link createDefaultParamsLoader}({env, argv}) */
  paramsLoader?: PipesParamsLoader;
}

/** True when the process was launched by a Dagster Pipes client (env var or CLI argument). */
export function isDagsterPipesProcess(options: PipesBootstrapOptions = {}): boolean {
  return (options.paramsLoader ?? createDefaultParamsLoader(options)).isDagsterPipesProcess();
}

/**
 * Loads both params and the context data, in Python's order (context params, message params,
 * context data). The low-level entry point for relays; workers use `openDagsterPipes()`.
 * @throws {PipesError} `ERR_PIPES_INVALID_PARAMS` when this is not a Pipes process or a param is
 * malformed; `ERR_PIPES_INVALID_CONTEXT` when the context data cannot be loaded.
 */
export function loadPipesBootstrap(options: PipesBootstrapOptions = {}): PipesBootstrap {
  const loader = options.paramsLoader ?? createDefaultParamsLoader(options);
  if (!loader.isDagsterPipesProcess()) {
    throw new PipesError(
      'ERR_PIPES_INVALID_PARAMS',
      `This process was not launched by Dagster Pipes: ${loader.contextSource} is not set. Launch it through a Pipes client, which sets DAGSTER_PIPES_CONTEXT and DAGSTER_PIPES_MESSAGES.`,
    );
  }
  const contextParams = loader.loadContextParams();
  const messagesParams = loader.loadMessagesParams();
  const { data, raw } = loadContextData(contextParams, options);
  return { contextParams, messagesParams, contextData: data, rawContextData: raw };
}
