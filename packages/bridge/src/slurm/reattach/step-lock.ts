import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { posix } from 'node:path';
import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';

// One launch at a time decides and submits a step: `mkdir <run_dir>/.lock` is atomic on every
// POSIX file system (NFS included), unlike flock. The holder writes `owner` ("<token> <pid>
// <host>") into it and touches it while it holds the lock; a lock whose owner was not touched for
// `staleAfterMs` (two minutes), or whose owner process is gone from this machine, is broken.

/** Who holds a step's lock, as the remote side reported it. */
export interface LockHolder {
  /** Random token of the holder's launch; '' while the holder has not written its owner file yet. */
  token: string;
  pid: number | undefined;
  host: string | undefined;
  /** Seconds since the holder last touched the lock (measured on the cluster, so clocks may differ). */
  ageSeconds: number;
}

/** Options of {@link acquireStepLock}. */
export interface StepLockOptions {
  /** Stops waiting: the acquisition rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  log: (line: string) => void;
  /** A holder silent for this long is presumed dead (it refreshes every quarter of it). @default 120000 */
  staleAfterMs?: number;
  /** How long to wait for a live holder before failing. @default 600000 */
  waitTimeoutMs?: number;
  /** Delay between attempts while the lock is held. @default 1000 */
  pollMs?: number;
  /** This machine's name, compared with the holder's. @default os.hostname() */
  host?: string;
  /** Whether a process of this machine is alive. @default a `kill(pid, 0)` probe */
  isAlive?: (pid: number) => boolean;
}

/** A held lock; {@link StepLock.release} (or `await using`) lets the next launch in. */
export interface StepLock extends AsyncDisposable {
  readonly token: string;
  release(): Promise<void>;
}

/** A process of this machine is alive when signal 0 reaches it (EPERM: alive, someone else's). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses the try-lock script's answer (I/O-free): `acquired`, or `held <age> [<token> <pid> <host>]`. */
export function parseLockAnswer(stdout: string): 'acquired' | LockHolder | undefined {
  const line = stdout.trim();
  if (line === 'acquired') return 'acquired';
  const match = /^held (-?\d+)(?: (\S+)(?: (\d+))?(?: (\S+))?)?$/.exec(line);
  if (match === null) return undefined;
  return {
    ageSeconds: Number(match[1]),
    token: match[2] ?? '',
    pid: match[3] === undefined ? undefined : Number(match[3]),
    host: match[4],
  };
}

/**
 * Whether a holder is presumed dead (I/O-free): silent for longer than `staleAfterMs`, or a
 * process of this very machine that no longer exists (a bridge killed while holding the lock).
 */
export function isStale(
  holder: LockHolder,
  me: { host: string; staleAfterMs: number; isAlive: (pid: number) => boolean },
): boolean {
  if (holder.ageSeconds * 1000 > me.staleAfterMs) return true;
  return (
    holder.host === me.host &&
    holder.pid !== undefined &&
    holder.pid !== process.pid &&
    !me.isAlive(holder.pid)
  );
}

// mkdir fails either because the lock exists (held) or for a real reason (permissions, a file in
// the way). A lock released or broken between the failed mkdir and the check is neither: mkdir is
// tried again, and only a failure that persists with no lock there is reported (exit 4).
const TRY_LOCK = `set -u
umask 077
mkdir -p -- "$(dirname -- "$1")" || exit 3
got=0
n=0
while :; do
  if err=$(mkdir -- "$1" 2>&1); then got=1; break; fi
  [ -d "$1" ] && break
  n=$((n + 1))
  [ "$n" -lt 20 ] || { printf '%s\\n' "$err" >&2; exit 4; }
done
if [ "$got" = 1 ]; then
  printf '%s %s %s\\n' "$2" "$3" "$4" > "$1/owner.tmp" && mv -f -- "$1/owner.tmp" "$1/owner"
  echo acquired
  exit 0
fi
now=$(date +%s)
if [ -e "$1/owner" ]; then
  m=$(stat -c %Y -- "$1/owner" 2>/dev/null || echo "$now")
  o=$(head -n 1 -- "$1/owner" 2>/dev/null || true)
else
  m=$(stat -c %Y -- "$1" 2>/dev/null || echo "$now")
  o=''
fi
echo "held $((now - m)) $o"`;

// Breaks the lock "$1" only if it still belongs to token "$2" ('' = no owner file): renames it
// aside, checks the owner again and puts it back if a fresh holder got it in between.
const BREAK_LOCK = `set -u
owner() { o=$(head -n 1 -- "$1/owner" 2>/dev/null || true); printf '%s' "\${o%% *}"; }
[ "$(owner "$1")" = "$2" ] || { echo changed; exit 0; }
aside="$1.stale.$$.$(date +%s)"
mv -- "$1" "$aside" 2>/dev/null || { echo changed; exit 0; }
if [ "$(owner "$aside")" != "$2" ]; then
  [ -e "$1" ] || mv -- "$aside" "$1"
  echo changed
  exit 0
fi
rm -rf -- "$aside"
echo broken`;

const TOUCH_LOCK = `o=$(head -n 1 -- "$1/owner" 2>/dev/null || true)
if [ "\${o%% *}" = "$2" ]; then touch -- "$1/owner" && echo ok; else echo lost; fi`;

const RELEASE_LOCK = `o=$(head -n 1 -- "$1/owner" 2>/dev/null || true)
[ "\${o%% *}" = "$2" ] || exit 0
aside="$1.released.$$"
mv -- "$1" "$aside" && rm -rf -- "$aside"`;

async function run(executor: RemoteExecutor, script: string, args: string[], signal?: AbortSignal) {
  try {
    return await executor.exec(['bash', '--noprofile', '--norc', '-c', script, 'slurm-pipes-lock', ...args], {
      timeoutMs: 60_000,
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    // Whatever the transport makes of an abort, the caller sees why it was asked to stop.
    signal?.throwIfAborted();
    throw error;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Takes the lock `<runDir>/.lock`, waiting while a live launch holds it and breaking a stale one.
 * @throws the signal's reason when aborted; {@link BridgeError} `ERR_BRIDGE_RELAY` when the lock
 *   cannot be created or a live holder keeps it longer than `waitTimeoutMs`.
 */
export async function acquireStepLock(
  executor: RemoteExecutor,
  runDir: string,
  options: StepLockOptions,
): Promise<StepLock> {
  const { signal, log } = options;
  const lockDir = posix.join(runDir, '.lock');
  const token = randomBytes(8).toString('hex');
  const me = {
    host: options.host ?? hostname(),
    staleAfterMs: options.staleAfterMs ?? 120_000,
    isAlive: options.isAlive ?? processIsAlive,
  };
  const deadline = Date.now() + (options.waitTimeoutMs ?? 600_000);
  let announced = false;
  for (;;) {
    signal?.throwIfAborted();
    const result = await run(executor, TRY_LOCK, [lockDir, token, String(process.pid), me.host], signal);
    const answer = result.exitCode === 0 ? parseLockAnswer(result.stdout) : undefined;
    if (answer === undefined) {
      throw new BridgeError(
        'ERR_BRIDGE_RELAY',
        `Could not create the lock ${lockDir} on the cluster (exit code ${result.exitCode ?? `signal ${result.signal}`}): ${result.stderr.trim() || result.stdout.trim() || '(no output)'}. Check that the remote base directory is writable.`,
      );
    }
    if (answer === 'acquired') return heldLock(executor, lockDir, token, me.staleAfterMs, log);
    const who = `${answer.host ?? 'an unknown host'}${answer.pid === undefined ? '' : ` pid ${answer.pid}`}`;
    if (isStale(answer, me)) {
      log(`breaking the stale lock ${lockDir} of ${who} (last sign of life ${answer.ageSeconds} s ago)`);
      await run(executor, BREAK_LOCK, [lockDir, answer.token], signal);
      continue;
    }
    if (Date.now() > deadline) {
      throw new BridgeError(
        'ERR_BRIDGE_RELAY',
        `Another launch of this step (${who}) has held ${lockDir} for longer than ${Math.round((options.waitTimeoutMs ?? 600_000) / 1000)} s. Nothing was submitted. If no other slurm-pipes process runs this step, remove the directory and launch again.`,
      );
    }
    if (!announced) log(`another launch of this step (${who}) holds ${lockDir}; waiting for it`);
    announced = true;
    await sleep(options.pollMs ?? 1000, signal);
  }
}

function heldLock(
  executor: RemoteExecutor,
  lockDir: string,
  token: string,
  staleAfterMs: number,
  log: (line: string) => void,
): StepLock {
  let released: Promise<void> | undefined;
  const heartbeat = setInterval(
    () => {
      run(executor, TOUCH_LOCK, [lockDir, token]).then(
        (result) => {
          if (released === undefined && result.stdout.trim() === 'lost') {
            log(`the lock ${lockDir} was taken over by another launch`);
          }
        },
        (error: unknown) => log(`could not refresh the lock ${lockDir}: ${(error as Error).message}`),
      );
    },
    Math.max(1000, Math.floor(staleAfterMs / 4)),
  );
  heartbeat.unref();
  const release = () => {
    released ??= (async () => {
      clearInterval(heartbeat);
      try {
        await run(executor, RELEASE_LOCK, [lockDir, token]);
      } catch (error) {
        log(
          `could not release the lock ${lockDir} (the next launch breaks it once stale): ${(error as Error).message}`,
        );
      }
    })();
    return released;
  };
  return { token, release, [Symbol.asyncDispose]: release };
}
