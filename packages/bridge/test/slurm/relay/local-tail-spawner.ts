// A RemoteSpawner that runs the remote tail loop (bash) on this machine, with a switch to cut its
// "connection" (SIGKILL, the process's exit rejects with ERR_SSH_DISCONNECTED, as when sshd dies)
// and one to refuse new "connections" for a while (spawn rejects with ERR_SSH_CONNECT).
import { type ChildProcess, spawn } from 'node:child_process';
import type { RemoteExit, RemoteProcess, RemoteSpawner } from '@slurm-pipes/slurm-transport';
import { SlurmTransportError } from '@slurm-pipes/slurm-transport';

export interface LocalTailSpawner extends RemoteSpawner {
  /** Kills the running tail process as a dropped connection would. @returns true when one ran. */
  cut(): boolean;
  /** Refuses the next `count` spawns with `ERR_SSH_CONNECT`. */
  refuse(count: number): void;
  /** Makes the next spawn fail with `error` (e.g. a non-transient ERR_SSH_AUTH). */
  failNext(error: unknown): void;
  readonly spawns: number;
  readonly cuts: number;
  /** Kills what still runs. */
  close(): void;
}

export function localTailSpawner(): LocalTailSpawner {
  let current: { child: ChildProcess; lost: boolean } | undefined;
  let refusals = 0;
  let next: unknown;
  let spawns = 0;
  let cuts = 0;
  return {
    get spawns() {
      return spawns;
    },
    get cuts() {
      return cuts;
    },
    async spawn(argv, options = {}) {
      spawns += 1;
      if (next !== undefined) {
        const error = next;
        next = undefined;
        throw error;
      }
      if (refusals > 0) {
        refusals -= 1;
        throw new SlurmTransportError('ERR_SSH_CONNECT', 'connect ECONNREFUSED 127.0.0.1:2222');
      }
      // argv is `exec bash --noprofile --norc -c SCRIPT name args...`.
      const child = spawn(argv[1] as string, argv.slice(2), { stdio: ['pipe', 'pipe', 'pipe'] });
      const entry = { child, lost: false };
      current = entry;
      const exited = new Promise<RemoteExit>((resolve, reject) => {
        child.on('close', (exitCode, signal) => {
          if (current === entry) current = undefined;
          if (entry.lost) reject(new SlurmTransportError('ERR_SSH_DISCONNECTED', 'the connection was lost'));
          else resolve({ exitCode, signal: signal === null ? null : signal.replace(/^SIG/, '') });
        });
      });
      exited.catch(() => {});
      child.stdin.on('error', () => {});
      // As the SSH transports do: aborting the spawn's signal closes the channel.
      options.signal?.addEventListener('abort', () => child.kill('SIGKILL'), { once: true });
      const process: RemoteProcess = {
        stdout: child.stdout,
        stderr: child.stderr,
        stdin: child.stdin,
        exited,
        close() {
          child.stdin.end();
        },
      };
      return process;
    },
    cut() {
      const entry = current;
      if (entry === undefined) return false;
      cuts += 1;
      entry.lost = true;
      entry.child.kill('SIGKILL');
      return true;
    },
    refuse(count) {
      refusals = count;
    },
    failNext(error) {
      next = error;
    },
    close() {
      current?.child.kill('SIGKILL');
    },
  };
}
