import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { muxError } from './wire-errors.js';

/** The single-instance lock of a daemon. */
export interface DaemonLock {
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>;
}

// A lock whose holder is alive but whose socket stays dead this long is taken to belong to a
// reused pid, not to a daemon (a live daemon listens within milliseconds of locking).
const REUSED_PID_AGE_MS = 30_000;
const BREAK_LOCK_STALE_MS = 10_000;

/**
 * Takes the lock at `lockPath` (a file holding the pid, created with `link()` so it appears with
 * its content, atomically). A lock of a dead process is stale and broken; breaking is itself
 * serialised by a `.break` file, so two contenders never both break and both win.
 * `socketAnswers` tells whether a daemon answers on the socket (for the reused-pid case).
 * @throws {SlurmTransportError} `ERR_MUX` when another live daemon holds the lock.
 */
export async function acquireDaemonLock(
  lockPath: string,
  socketAnswers: () => Promise<boolean>,
): Promise<DaemonLock> {
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const temporary = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, mine, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, lockPath);
      return { release: () => releaseIfMine(lockPath, mine) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw muxError(`Cannot create the daemon lock ${lockPath}: ${(error as Error).message}`, error);
      }
    } finally {
      await unlink(temporary).catch(() => {});
    }
    const held = await readLock(lockPath);
    if (held === undefined) {
      continue;
    }
    if (isAlive(held.pid) && !(await looksReused(lockPath, socketAnswers))) {
      throw muxError(`Another multiplexing daemon (pid ${held.pid}) already holds ${lockPath}.`);
    }
    await breakStaleLock(lockPath, held.content);
  }
  throw muxError(`Could not take the daemon lock ${lockPath}: it keeps changing hands.`);
}

/** The pid in the lock file, if the file exists and the pid is alive. */
export async function lockHolder(lockPath: string): Promise<number | undefined> {
  const held = await readLock(lockPath);
  return held !== undefined && isAlive(held.pid) ? held.pid : undefined;
}

/**
 * True when a new daemon should be started: nobody holds the lock, or its holder has held it for
 * over 30 s (a daemon that old whose socket does not answer is a reused pid; the daemon's own
 * {@link acquireDaemonLock} checks that again before breaking the lock).
 */
export async function lockIsStale(lockPath: string): Promise<boolean> {
  if ((await lockHolder(lockPath)) === undefined) {
    return true;
  }
  const info = await stat(lockPath).catch(() => undefined);
  return info === undefined || Date.now() - info.mtimeMs > REUSED_PID_AGE_MS;
}

async function readLock(lockPath: string): Promise<{ pid: number; content: string } | undefined> {
  try {
    const content = await readFile(lockPath, 'utf8');
    const pid = Number.parseInt(content, 10);
    return { pid: Number.isSafeInteger(pid) && pid > 0 ? pid : 0, content };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid <= 0) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function looksReused(lockPath: string, socketAnswers: () => Promise<boolean>): Promise<boolean> {
  const info = await stat(lockPath).catch(() => undefined);
  if (info === undefined || Date.now() - info.mtimeMs < REUSED_PID_AGE_MS) {
    return false;
  }
  for (let probe = 0; probe < 3; probe++) {
    if (await socketAnswers()) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return true;
}

async function breakStaleLock(lockPath: string, staleContent: string): Promise<void> {
  const breaker = `${lockPath}.break`;
  try {
    await writeFile(breaker, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    // Someone else is breaking it; a breaker that died mid-way leaves a file we clear after a while.
    const info = await stat(breaker).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > BREAK_LOCK_STALE_MS) {
      await unlink(breaker).catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
    return;
  }
  try {
    const current = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (current === staleContent) {
      await unlink(lockPath).catch(() => {});
    }
  } finally {
    await unlink(breaker).catch(() => {});
  }
}

async function releaseIfMine(lockPath: string, mine: string): Promise<void> {
  const current = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (current === mine) {
    await unlink(lockPath).catch(() => {});
  }
}
