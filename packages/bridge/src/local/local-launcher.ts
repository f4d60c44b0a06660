import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { BridgeError } from '../errors.js';

/** How a payload process ended. */
export interface PayloadExit {
  /** Exit code, or null when a signal ended it. */
  exitCode: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  /** True when the bridge stopped it (abort / termination request). */
  stopped: boolean;
}

/** Options for {@link launchLocalPayload}. */
export interface LocalLaunchOptions {
  argv: readonly string[];
  /** Complete environment of the payload. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the payload's stdout goes. @default process.stdout */
  stdout?: Writable;
  /** Where the payload's stderr goes. @default process.stderr */
  stderr?: Writable;
  /** Aborting sends SIGTERM, then SIGKILL after `terminationGraceMs`. */
  signal?: AbortSignal;
  /** @default 10000 */
  terminationGraceMs?: number;
}

/** A running local payload. */
export interface LocalPayload {
  readonly pid: number;
  /** Resolves when the process has exited and its output is flushed. */
  readonly exited: Promise<PayloadExit>;
}

/**
 * Starts a payload as a child process, forwarding its output as it comes.
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when the program cannot be started.
 */
export async function launchLocalPayload(options: LocalLaunchOptions): Promise<LocalPayload> {
  const [command, ...args] = options.argv;
  if (command === undefined) throw new BridgeError('ERR_BRIDGE_USAGE', 'Empty payload command.');
  const child: ChildProcess = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (cause) =>
      reject(
        new BridgeError(
          'ERR_BRIDGE_PAYLOAD',
          `Cannot start payload ${command}: ${cause.message}. Check that it is installed and on PATH.`,
          {
            cause,
          },
        ),
      ),
    );
  });
  child.stdout?.pipe(options.stdout ?? process.stdout, { end: false });
  child.stderr?.pipe(options.stderr ?? process.stderr, { end: false });

  let stopped = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    stopped = true;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.terminationGraceMs ?? 10_000);
    killTimer.unref();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const exited = new Promise<PayloadExit>((resolve) => {
    child.once('close', (exitCode, signal) => {
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode, signal, stopped });
    });
  });
  return { pid: child.pid as number, exited };
}

/** A one-line description of how a payload ended, for errors and the Pipes exception. */
export function describeExit(exit: PayloadExit): string {
  if (exit.signal !== null)
    return `was ended by ${exit.signal}${exit.stopped ? ' (stopped by slurm-pipes)' : ''}`;
  return `exited with code ${exit.exitCode}`;
}
