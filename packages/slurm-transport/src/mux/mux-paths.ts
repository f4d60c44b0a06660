import { lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { muxError } from './wire-errors.js';
import { MUX_PROTOCOL_VERSION } from './wire-frames.js';

/** The files of a multiplexing daemon, all in one private directory. */
export interface MuxPaths {
  /** The directory (mode 0700, owned by the user). */
  dir: string;
  /** The daemon's unix socket (mode 0600). */
  socketPath: string;
  /** The random token clients present (mode 0600). */
  tokenPath: string;
  /** Single-instance lock holding the daemon's pid. */
  lockPath: string;
  /** The daemon's log (no secrets). */
  logPath: string;
}

/** Options of {@link resolveMuxPaths}. */
export interface MuxPathOptions {
  /**
   * Directory of the socket, token, lock and log. An explicit directory must give a socket path
   * shorter than 100 bytes.
   * @default `$SLURM_PIPES_MUX_DIR`, else `$XDG_RUNTIME_DIR/slurm-pipes`, else
   *   `~/.cache/slurm-pipes/mux`; `/tmp/slurm-pipes-<uid>` when those give a socket path too long
   */
  dir?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Environment variable naming the daemon directory; set for a daemon started by a client. */
export const MUX_DIR_ENV = 'SLURM_PIPES_MUX_DIR';

// sun_path holds 108 bytes on Linux and 104 on macOS, terminator included; OpenSSH's ControlPath
// rule in the reference (`ssh_control.py`) uses the same 100-character bound.
const MAX_SOCKET_PATH_BYTES = 100;

/**
 * Where the daemon for this user lives.
 * @throws {RangeError} when an explicit `dir` gives a socket path of 100 bytes or more.
 */
export function resolveMuxPaths(options: MuxPathOptions = {}): MuxPaths {
  const env = options.env ?? process.env;
  const explicit = options.dir ?? nonEmpty(env[MUX_DIR_ENV]);
  if (explicit !== undefined) {
    const paths = pathsIn(resolve(explicit));
    if (!fits(paths)) {
      throw new RangeError(
        `The multiplexing directory ${JSON.stringify(explicit)} gives a socket path of ${Buffer.byteLength(paths.socketPath)} bytes; ` +
          `unix sockets need fewer than ${MAX_SOCKET_PATH_BYTES}. Choose a shorter directory.`,
      );
    }
    return paths;
  }
  const runtime = nonEmpty(env.XDG_RUNTIME_DIR);
  const preferred = pathsIn(
    runtime !== undefined && isAbsolute(runtime)
      ? join(runtime, 'slurm-pipes')
      : join(homedir(), '.cache', 'slurm-pipes', 'mux'),
  );
  return fits(preferred) ? preferred : pathsIn(`/tmp/slurm-pipes-${process.getuid?.() ?? 'user'}`);
}

function pathsIn(dir: string): MuxPaths {
  const base = join(dir, `mux-v${MUX_PROTOCOL_VERSION}`);
  return {
    dir,
    socketPath: `${base}.sock`,
    tokenPath: `${base}.token`,
    lockPath: `${base}.lock`,
    logPath: `${base}.log`,
  };
}

function fits(paths: MuxPaths): boolean {
  return Buffer.byteLength(paths.socketPath) < MAX_SOCKET_PATH_BYTES;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Creates `dir` (mode 0700) if missing and checks it is private: a real directory (not a
 * symlink), owned by this user, without group or other permissions. Only this user (and root)
 * can then reach the socket inside, which is what keeps other users off the daemon: Node cannot
 * read the peer's uid of a unix socket (`SO_PEERCRED`), so the directory is the uid check, and the
 * token a second one.
 * @throws {SlurmTransportError} `ERR_MUX` naming the problem and the fix.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw muxError(`Cannot create the multiplexing directory ${dir}: ${(error as Error).message}`, error);
  }
  const info = await lstat(dir);
  const uid = process.getuid?.();
  const problem = !info.isDirectory()
    ? 'it is not a directory (a symlink is refused)'
    : uid !== undefined && info.uid !== uid
      ? `it is owned by uid ${info.uid}, not by you (uid ${uid})`
      : (info.mode & 0o077) !== 0
        ? `its mode is ${(info.mode & 0o777).toString(8)}; group and others must have no access (chmod 700)`
        : undefined;
  if (problem !== undefined) {
    throw muxError(`Refusing to use the multiplexing directory ${dir}: ${problem}.`);
  }
}
