import {
  DAGSTER_PIPES_CONTEXT_ENV_VAR,
  DAGSTER_PIPES_CONTEXT_FLAG,
  DAGSTER_PIPES_MESSAGES_ENV_VAR,
  DAGSTER_PIPES_MESSAGES_FLAG,
  encodeParam,
} from '../params/encoding.js';

/** The two bootstrap params, decoded (Dagster's `PipesSession.get_bootstrap_params()`). */
export interface PipesBootstrapParams {
  DAGSTER_PIPES_CONTEXT: Readonly<Record<string, unknown>>;
  DAGSTER_PIPES_MESSAGES: Readonly<Record<string, unknown>>;
}

/**
 * The two bootstrap env vars, each encoded with `encodeParam` (base64 of zlib of JSON). A type
 * alias, not an interface, so it is assignable to `Record<string, string>` (an env).
 */
export type PipesBootstrapEnv = {
  DAGSTER_PIPES_CONTEXT: string;
  DAGSTER_PIPES_MESSAGES: string;
};

/**
 * Encodes context params and message params into the two env vars the external process reads.
 * Merge them last into the child's environment, as Dagster's subprocess client does.
 */
export function encodeBootstrapEnv(params: PipesBootstrapParams): PipesBootstrapEnv {
  return {
    [DAGSTER_PIPES_CONTEXT_ENV_VAR]: encodeParam(params.DAGSTER_PIPES_CONTEXT),
    [DAGSTER_PIPES_MESSAGES_ENV_VAR]: encodeParam(params.DAGSTER_PIPES_MESSAGES),
  } as PipesBootstrapEnv;
}

/**
 * The CLI-argument form of {@link encodeBootstrapEnv}:
 * `['--dagster-pipes-context', <encoded>, '--dagster-pipes-messages', <encoded>]`.
 */
export function encodeBootstrapCliArgs(params: PipesBootstrapParams): string[] {
  const env = encodeBootstrapEnv(params);
  return [
    DAGSTER_PIPES_CONTEXT_FLAG,
    env.DAGSTER_PIPES_CONTEXT,
    DAGSTER_PIPES_MESSAGES_FLAG,
    env.DAGSTER_PIPES_MESSAGES,
  ];
}
