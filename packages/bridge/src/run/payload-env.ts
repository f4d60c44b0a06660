import { DAGSTER_PIPES_CONTEXT_ENV_VAR, DAGSTER_PIPES_MESSAGES_ENV_VAR } from '@slurm-pipes/pipes-protocol';

// Variables that configure the bridge itself; the payload never sees them (they may hold secrets).
const BRIDGE_ONLY =
  /^(SLURM_PIPES_CONFIG_JSON|SLURM_PIPES_PAYLOAD_ENV_JSON|SLURM_SSH_(PASSWORD|KEY_PASSPHRASE|OTP))$/;

/**
 * The payload's environment: the bridge's own, less Dagster's bootstrap and the bridge's
 * secrets, plus `extra_env`, plus the fresh bootstrap of the bridge's session (merged last, as
 * Dagster's PipesSubprocessClient does).
 */
export function payloadEnvironment(
  base: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>>,
  bootstrap: { readonly DAGSTER_PIPES_CONTEXT: string; readonly DAGSTER_PIPES_MESSAGES: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k === DAGSTER_PIPES_CONTEXT_ENV_VAR || k === DAGSTER_PIPES_MESSAGES_ENV_VAR || BRIDGE_ONLY.test(k))
      continue;
    env[k] = v;
  }
  return { ...env, ...extra, ...bootstrap };
}
