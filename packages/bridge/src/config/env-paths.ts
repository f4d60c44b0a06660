/** Env var → config path. SSH variables use the SLURM_SSH_ prefix of dagster-slurm. */
export const ENV_PATHS: ReadonlyArray<readonly [variable: string, path: string]> = [
  ['SLURM_PIPES_MODE', 'mode'],
  ['SLURM_PIPES_PYTHON', 'local.python'],
  ['SLURM_PIPES_NODE', 'local.node'],
  ['SLURM_PIPES_TERMINATION_GRACE_MS', 'terminationGraceMs'],
  ['SLURM_PIPES_REMOTE_BASE', 'slurm.remoteBase'],
  ['SLURM_PIPES_REMOTE_PYTHON', 'slurm.python'],
  ['SLURM_PIPES_REMOTE_NODE', 'slurm.node'],
  ['SLURM_SSH_HOST', 'slurm.ssh.host'],
  ['SLURM_SSH_PORT', 'slurm.ssh.port'],
  ['SLURM_SSH_USER', 'slurm.ssh.user'],
  ['SLURM_SSH_KEY', 'slurm.ssh.keyPath'],
  ['SLURM_SSH_KEY_PASSPHRASE', 'slurm.ssh.keyPassphrase'],
  ['SLURM_SSH_PASSWORD', 'slurm.ssh.password'],
  ['SLURM_SSH_OTP', 'slurm.ssh.otp'],
  ['SLURM_SSH_HOST_KEY_CHECKING', 'slurm.ssh.hostKeyPolicy'],
  ['SLURM_SSH_KNOWN_HOSTS', 'slurm.ssh.knownHostsPath'],
];

/** The environment variable that sets the config field at `path`, if there is one. */
export function envVariableFor(path: string): string | undefined {
  return ENV_PATHS.find(([, p]) => p === path)?.[0];
}
