import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';

const NOT_FOUND = 127;

function execOptions(signal: AbortSignal | undefined) {
  return { timeoutMs: 60_000, ...(signal === undefined ? {} : { signal }) };
}

/**
 * Whether the cluster's Python can import `dagster_pipes` (checked once, on the login node).
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when that Python is not there at all.
 */
export async function remoteHasDagsterPipes(
  executor: RemoteExecutor,
  python: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const result = await executor.exec([python, '-c', 'import dagster_pipes'], execOptions(signal));
  if (result.exitCode === NOT_FOUND) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `${python} is not on the cluster's PATH (checked on the login node with a non-login bash). Fix: install Python 3 there, or set the remote Python to its absolute path.`,
    );
  }
  return result.exitCode === 0;
}

/**
 * Checks that `node` runs on the cluster and returns its version (e.g. `v20.11.1`).
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` naming the fix when it does not.
 */
export async function checkRemoteNode(
  executor: RemoteExecutor,
  node: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const script = 'command -v "$1" >/dev/null && "$1" --version';
  const result = await executor.exec(
    ['bash', '--noprofile', '--norc', '-c', script, 'slurm-pipes', node],
    execOptions(signal),
  );
  const version = result.stdout.trim();
  if (result.exitCode !== 0 || !/^v\d+/.test(version)) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `JavaScript/TypeScript payloads need Node.js on the cluster, but \`${node}\` is not on the PATH of a non-login bash on the login node (command -v ${node} failed). Fix: install Node.js 20 or newer on the cluster (a shared module or a user install under $HOME), and make sure it is found without \`module load\`; or run the payload in local mode.`,
    );
  }
  const major = Number(/^v(\d+)/.exec(version)?.[1]);
  if (major < 18) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `Node.js on the cluster is ${version}; slurm-pipes payloads need 18 or newer (20 recommended). Fix: install a newer Node.js on the cluster.`,
    );
  }
  return version;
}
