import { PipesError } from '../errors.js';
import {
  DAGSTER_PIPES_CONTEXT_ENV_VAR,
  DAGSTER_PIPES_CONTEXT_FLAG,
  DAGSTER_PIPES_MESSAGES_ENV_VAR,
  DAGSTER_PIPES_MESSAGES_FLAG,
  decodeParam,
} from '../params/encoding.js';

/** A decoded bootstrap param dict (context params or message params). */
export type PipesRawParams = Record<string, unknown>;

/**
 * Where the two bootstrap params come from. Mirrors dagster_pipes.PipesParamsLoader.
 */
export interface PipesParamsLoader {
  /** Human-readable origin used in error messages, e.g. `environment variable DAGSTER_PIPES_CONTEXT`. */
  readonly contextSource: string;
  /** Origin of the message params, for error messages. */
  readonly messagesSource: string;
  /** True when this process was launched by Dagster through this loader's channel. */
  isDagsterPipesProcess(): boolean;
  /**
   * Decodes the context params.
   * @throws {PipesError} `ERR_PIPES_INVALID_PARAMS` when missing or not a base64+zlib JSON object.
   */
  loadContextParams(): PipesRawParams;
  /**
   * Decodes the message params.
   * @throws {PipesError} `ERR_PIPES_INVALID_PARAMS` when missing or not a base64+zlib JSON object.
   */
  loadMessagesParams(): PipesRawParams;
}

function decodeObject(encoded: string | undefined, source: string): PipesRawParams {
  if (encoded === undefined) {
    throw new PipesError(
      'ERR_PIPES_INVALID_PARAMS',
      `${source} is missing. Dagster sets both bootstrap params together; launch the process through a Pipes client (or set it from session.get_bootstrap_env_vars()).`,
    );
  }
  const value = decodeParam(encoded, source);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PipesError(
      'ERR_PIPES_INVALID_PARAMS',
      `${source} must decode to a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}.`,
    );
  }
  return value as PipesRawParams;
}

/**
 * Reads the params from `DAGSTER_PIPES_CONTEXT` / `DAGSTER_PIPES_MESSAGES` in a mapping.
 * Mirrors dagster_pipes.PipesEnvVarParamsLoader: a Pipes process iff `DAGSTER_PIPES_CONTEXT` is set.
 * @param env the mapping to read. @default process.env
 */
export function createEnvParamsLoader(
  env: Readonly<Record<string, string | undefined>> = process.env,
): PipesParamsLoader {
  const contextSource = `environment variable ${DAGSTER_PIPES_CONTEXT_ENV_VAR}`;
  const messagesSource = `environment variable ${DAGSTER_PIPES_MESSAGES_ENV_VAR}`;
  return {
    contextSource,
    messagesSource,
    isDagsterPipesProcess: () => env[DAGSTER_PIPES_CONTEXT_ENV_VAR] !== undefined,
    loadContextParams: () => decodeObject(env[DAGSTER_PIPES_CONTEXT_ENV_VAR], contextSource),
    loadMessagesParams: () => decodeObject(env[DAGSTER_PIPES_MESSAGES_ENV_VAR], messagesSource),
  };
}

// Like argparse.parse_known_args: `--flag value` or `--flag=value`, the last occurrence wins.
function findFlagValue(argv: readonly string[], flag: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg === flag) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new PipesError(
          'ERR_PIPES_INVALID_PARAMS',
          `CLI argument ${flag} has no value; pass the encoded param as the next argument.`,
        );
      }
      found = next;
      i++;
    } else if (arg.startsWith(`${flag}=`)) {
      found = arg.slice(flag.length + 1);
    }
  }
  return found;
}

/**
 * Reads the params from `--dagster-pipes-context <v>` / `--dagster-pipes-messages <v>`.
 * Mirrors dagster_pipes.PipesCliArgsParamsLoader: a Pipes process iff the exact token
 * `--dagster-pipes-context` is in argv (the `--flag=value` form is read but not detected).
 * @param argv the arguments to read. @default process.argv
 */
export function createCliArgsParamsLoader(argv: readonly string[] = process.argv): PipesParamsLoader {
  const contextSource = `CLI argument ${DAGSTER_PIPES_CONTEXT_FLAG}`;
  const messagesSource = `CLI argument ${DAGSTER_PIPES_MESSAGES_FLAG}`;
  return {
    contextSource,
    messagesSource,
    isDagsterPipesProcess: () => argv.includes(DAGSTER_PIPES_CONTEXT_FLAG),
    loadContextParams: () => decodeObject(findFlagValue(argv, DAGSTER_PIPES_CONTEXT_FLAG), contextSource),
    loadMessagesParams: () => decodeObject(findFlagValue(argv, DAGSTER_PIPES_MESSAGES_FLAG), messagesSource),
  };
}

/** Options for {@link createDefaultParamsLoader}. */
export interface DefaultParamsLoaderOptions {
  /** Environment to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Arguments to read. @default process.argv */
  argv?: readonly string[];
}

/**
 * The environment loader when `DAGSTER_PIPES_CONTEXT` is set, else the CLI-argument loader when
 * `--dagster-pipes-context` is present, else the environment loader (which then reports "not a
 * Pipes process"). Python's default is the environment loader only; the CLI fallback is additive.
 */
export function createDefaultParamsLoader(options: DefaultParamsLoaderOptions = {}): PipesParamsLoader {
  const envLoader = createEnvParamsLoader(options.env ?? process.env);
  if (envLoader.isDagsterPipesProcess()) return envLoader;
  const cliLoader = createCliArgsParamsLoader(options.argv ?? process.argv);
  return cliLoader.isDagsterPipesProcess() ? cliLoader : envLoader;
}
