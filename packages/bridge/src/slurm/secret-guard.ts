import type { SshConfig } from '../config/schema.js';
import { BridgeError } from '../errors.js';

// Variables that configure the bridge itself and may hold secrets; never exported to a job.
const BRIDGE_ONLY =
  /^(SLURM_PIPES_CONFIG_JSON|SLURM_PIPES_PAYLOAD_ENV_JSON|SLURM_SSH_(PASSWORD|KEY_PASSPHRASE|OTP)(_FILE)?)$/;

/** `extra_env` without the bridge's own secret-bearing variables, and the names left out. */
export function jobEnvironment(payloadEnv: Readonly<Record<string, string>>): {
  env: Record<string, string>;
  dropped: string[];
} {
  const env: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(payloadEnv)) {
    if (BRIDGE_ONLY.test(name)) dropped.push(name);
    else env[name] = value;
  }
  return { env, dropped };
}

/** The SSH secrets of the configuration (every hop), by label. */
export function sshSecrets(ssh: SshConfig | undefined, prefix = 'slurm.ssh'): Array<[string, string]> {
  if (ssh === undefined) return [];
  const own: Array<[string, string | undefined]> = [
    [`${prefix}.password`, ssh.password],
    [`${prefix}.keyPassphrase`, ssh.keyPassphrase],
    [`${prefix}.otp`, ssh.otp],
  ];
  return [
    ...own.filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].length >= 6),
    ...sshSecrets(ssh.jumpHost, `${prefix}.jumpHost`),
  ];
}

/**
 * Last guard before files are written to the cluster: none of `files` (label → content) may
 * contain a configured secret.
 * @throws {BridgeError} `ERR_BRIDGE_CONFIG` naming the file and the secret's setting, never its value.
 */
export function assertNoSecrets(
  files: Readonly<Record<string, string>>,
  secrets: ReadonlyArray<[string, string]>,
): void {
  for (const [file, content] of Object.entries(files)) {
    for (const [label, secret] of secrets) {
      if (content.includes(secret)) {
        throw new BridgeError(
          'ERR_BRIDGE_CONFIG',
          `Refusing to write ${file} to the cluster: it would contain the value of ${label}. Secrets stay on this machine; remove that value from extra_env and the Dagster context.`,
        );
      }
    }
  }
}
