import type { RemoteExecutor, RemoteTransport } from '@slurm-pipes/slurm-transport';
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

const MIN_NODE_MAJOR = 18;
const UNAME_MACHINE: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  ppc64: 'ppc64le',
};

/** The version `node --version` prints on the cluster, or undefined when there is none. */
async function remoteNodeVersion(executor: RemoteExecutor, node: string, signal: AbortSignal | undefined) {
  const script = 'command -v "$1" >/dev/null && "$1" --version';
  const result = await executor.exec(
    ['bash', '--noprofile', '--norc', '-c', script, 'slurm-pipes', node],
    execOptions(signal),
  );
  const version = result.stdout.trim();
  return result.exitCode === 0 && /^v\d+/.test(version) ? version : undefined;
}

/**
 * The Node.js to run JS/TS payloads with on the cluster: `node` there when it is 18 or newer,
 * else this machine's own Node binary, shipped once into the content-addressed cache (same
 * operating system and CPU required; the official Linux builds need only glibc and libstdc++).
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when neither can run there, naming the fix.
 */
export async function ensureRemoteNode(
  transport: RemoteTransport,
  node: string,
  cacheDir: string,
  signal: AbortSignal | undefined,
  log: (line: string) => void,
): Promise<string> {
  const version = await remoteNodeVersion(transport, node, signal);
  if (version !== undefined && Number(/^v(\d+)/.exec(version)?.[1]) >= MIN_NODE_MAJOR) return node;
  const uname = (await transport.exec(['uname', '-s', '-m'], execOptions(signal))).stdout.trim();
  const wanted = `Linux ${UNAME_MACHINE[process.arch] ?? process.arch}`;
  if (process.platform !== 'linux' || uname !== wanted) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `The cluster has no Node.js ${MIN_NODE_MAJOR}+ (${version ?? `\`${node}\` not found`}), and this machine's Node (${process.platform} ${process.arch}) cannot run on it (${uname || 'unknown system'}). Fix: install Node.js 20 on the cluster, or set slurm.node to one.`,
    );
  }
  const shipped = await transport.uploadFile(process.execPath, cacheDir, {
    name: 'node',
    mode: 0o700,
    ...(signal === undefined ? {} : { signal }),
  });
  const check = await remoteNodeVersion(transport, shipped.remotePath, signal);
  if (check === undefined) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `This machine's Node.js ${process.version}, shipped to ${shipped.remotePath}, does not run on the cluster (its C library may be older). Fix: install Node.js 20 on the cluster, or set slurm.node to one.`,
    );
  }
  log(
    `the cluster has no Node.js ${MIN_NODE_MAJOR}+ (${version ?? `\`${node}\` not found`}); using this machine's ${process.version} shipped to ${shipped.remotePath}${shipped.uploaded ? '' : ' (cached)'}`,
  );
  return shipped.remotePath;
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
  const version = (await remoteNodeVersion(executor, node, signal)) ?? '';
  if (!/^v\d+/.test(version)) {
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
