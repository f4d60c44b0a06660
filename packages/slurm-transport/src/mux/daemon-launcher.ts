import { spawn } from 'node:child_process';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import type { Logger } from '../ssh/logger.js';
import { lockHolder, lockIsStale } from './daemon-lock.js';
import { ensurePrivateDir, MUX_DIR_ENV, type MuxPaths } from './mux-paths.js';
import { type DialResult, MuxSocket } from './mux-socket.js';
import { muxError } from './wire-errors.js';

/** How {@link dialDaemon} reaches (and maybe starts) the daemon. */
export interface DialOptions {
  /** Command starting a daemon; without it only a running daemon is used. */
  daemonCommand: readonly string[] | undefined;
  /** Deadline for a started daemon to accept connections, in ms. */
  startTimeoutMs: number;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/**
 * Connects to the daemon at `paths`, starting it with `daemonCommand` (detached, output to its
 * log, unref'd) when none answers: no socket, or a socket nobody listens on (a dead daemon's,
 * which the new daemon replaces). Many processes may do this at once: a `.starting` file created
 * exclusively lets only one of them start a daemon while the others wait for the socket, and the
 * daemon's own lock would still keep a second daemon from serving.
 * @throws {SlurmTransportError} `ERR_MUX` naming the cause, the command and the log file.
 */
export async function dialDaemon(paths: MuxPaths, options: DialOptions): Promise<MuxSocket> {
  await ensurePrivateDir(paths.dir);
  const first = await MuxSocket.dial(paths, options.startTimeoutMs);
  if (first.ok) {
    return first.socket;
  }
  const command = options.daemonCommand;
  if (command === undefined || command.length === 0) {
    throw muxError(`${first.error.message} No daemonCommand was given to start one.`, first.error);
  }
  const display = command.join(' ');
  const starting = `${paths.lockPath}.starting`;
  const deadline = performance.now() + options.startTimeoutMs;
  let started: StartedDaemon | undefined;
  let last: DialResult = first;
  try {
    for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 200)) {
      if (last.ok) {
        return last.socket;
      }
      const holder = await lockHolder(paths.lockPath);
      if (
        started === undefined &&
        last.reason !== 'unauthorized' &&
        (await lockIsStale(paths.lockPath)) &&
        (await claimStart(starting, options.startTimeoutMs))
      ) {
        started = await startDaemon(command, paths, options);
      }
      if (started?.exit !== undefined && holder === undefined) {
        throw muxError(
          `The multiplexing daemon \`${display}\` exited (${started.exit}) without serving ${paths.socketPath}. ` +
            `Its log ${paths.logPath} ends with:\n${await logTail(paths.logPath)}`,
          last.error,
        );
      }
      if (performance.now() >= deadline) {
        throw muxError(
          `The multiplexing daemon did not accept connections on ${paths.socketPath} within ` +
            `${options.startTimeoutMs} ms (${last.error.message}). ` +
            `${started === undefined ? 'Another process was starting it' : `Started \`${display}\``}; see ${paths.logPath}.`,
          last.error,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      last = await MuxSocket.dial(paths, Math.max(1, Math.round(deadline - performance.now())));
    }
  } finally {
    if (started !== undefined) await unlink(starting).catch(() => {});
  }
}

// Creates the `.starting` claim; one left by a starter that died is ignored after `staleMs`.
async function claimStart(path: string, staleMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await (await open(path, 'wx', 0o600)).close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || Date.now() - info.mtimeMs < staleMs) return false;
    await unlink(path).catch(() => {});
  }
  return false;
}

interface StartedDaemon {
  /** How the daemon process ended, once it did (a loser of the lock race exits at once). */
  exit: string | undefined;
}

async function startDaemon(
  command: readonly string[],
  paths: MuxPaths,
  options: DialOptions,
): Promise<StartedDaemon> {
  const [file, ...args] = command as [string, ...string[]];
  const log = await open(paths.logPath, 'a', 0o600);
  const started: StartedDaemon = { exit: undefined };
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...options.env, [MUX_DIR_ENV]: paths.dir },
    });
    child.once('error', (error) => {
      started.exit = `spawn failed: ${error.message}`;
    });
    child.once('exit', (code, signal) => {
      started.exit = signal === null ? `exit code ${code}` : `signal ${signal}`;
    });
    child.unref();
    options.logger.info(
      `Started the SSH multiplexing daemon (pid ${child.pid ?? '?'}): ${command.join(' ')}`,
    );
  } finally {
    await log.close();
  }
  return started;
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}
