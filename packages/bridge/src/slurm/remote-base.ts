import { posix } from 'node:path';
import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../errors.js';
import { hasControlCharacter } from './control-chars.js';

/** Where slurm-pipes keeps its files on the cluster unless `slurm.remoteBase` says otherwise. */
export const DEFAULT_REMOTE_BASE = '$HOME/.slurm-pipes';

const HOME_PREFIX = /^(?:\$HOME|\$\{HOME\}|~)(?=\/|$)/;

/** True when `remoteBase` needs the remote `$HOME` to be resolved (it starts with `$HOME`, `${HOME}` or `~`, or is relative). */
export function needsRemoteHome(remoteBase: string): boolean {
  return HOME_PREFIX.test(remoteBase) || !remoteBase.startsWith('/');
}

/**
 * Turns the configured remote base into an absolute, normalised path: a leading `$HOME`,
 * `${HOME}` or `~` becomes `home`, a relative path is taken relative to `home`. No other
 * expansion happens (the path is never given to a shell unquoted).
 * @throws {BridgeError} `ERR_BRIDGE_CONFIG` for an empty path or one with control characters.
 */
export function expandRemoteBase(remoteBase: string, home: string | undefined): string {
  if (remoteBase.trim() === '' || hasControlCharacter(remoteBase)) {
    throw new BridgeError(
      'ERR_BRIDGE_CONFIG',
      `slurm.remoteBase must be a non-empty path without control characters, got ${JSON.stringify(remoteBase)}.`,
    );
  }
  let path = remoteBase;
  if (needsRemoteHome(path)) {
    if (home === undefined) throw new TypeError('expandRemoteBase: home is required for this path');
    path = HOME_PREFIX.test(path) ? path.replace(HOME_PREFIX, home) : posix.join(home, path);
  }
  const normalised = posix.normalize(path).replace(/\/+$/, '');
  return normalised === '' ? '/' : normalised;
}

// `$HOME` on the login node as a connection's probe saw it, so resolving the base costs no command.
const probedHomes = new WeakMap<RemoteExecutor, string>();

/** Remembers the `$HOME` a command on `executor` printed (the connection probe runs `printenv HOME`). */
export function rememberRemoteHome(executor: RemoteExecutor, printed: string): void {
  const home = printed.trim();
  if (home.startsWith('/')) probedHomes.set(executor, home);
}

/**
 * The remote base directory, asking the login node for `$HOME` once (`printenv HOME`) when the
 * path needs it and the connection's probe did not already say.
 * @throws {BridgeError} `ERR_BRIDGE_CONFIG` when `$HOME` is unset or not absolute on the cluster.
 */
export async function resolveRemoteBase(
  executor: RemoteExecutor,
  configured: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const remoteBase = configured ?? DEFAULT_REMOTE_BASE;
  if (!needsRemoteHome(remoteBase)) return expandRemoteBase(remoteBase, undefined);
  const probed = probedHomes.get(executor);
  if (probed !== undefined) return expandRemoteBase(remoteBase, probed);
  const result = await executor.exec(['printenv', 'HOME'], {
    timeoutMs: 60_000,
    ...(signal === undefined ? {} : { signal }),
  });
  const home = result.stdout.trim();
  if (result.exitCode !== 0 || !home.startsWith('/')) {
    throw new BridgeError(
      'ERR_BRIDGE_CONFIG',
      `The login node reports no usable $HOME (${JSON.stringify(home)}), which the remote base ${JSON.stringify(remoteBase)} needs. Set slurm.remoteBase (SLURM_PIPES_REMOTE_BASE) to an absolute directory on a file system the compute nodes share.`,
    );
  }
  return expandRemoteBase(remoteBase, home);
}
