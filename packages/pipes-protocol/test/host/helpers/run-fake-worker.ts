import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One step of the fake worker's script (see fixtures/fake-worker.mjs). */
export type FakeWorkerStep =
  | { raw: string }
  | { method: string; params: unknown }
  | { echo: true }
  | { print: string }
  | { sleep: number }
  | { exit: number };

export const fakeWorkerPath = fileURLToPath(new URL('../fixtures/fake-worker.mjs', import.meta.url));

/** Spawns the fake worker with `env` merged last; stdout is piped, stderr inherited. */
export function spawnFakeWorker(steps: FakeWorkerStep[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [fakeWorkerPath, JSON.stringify(steps)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves with the exit code once the child exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/** A message line as Python's writer would write it (without the newline). */
export function messageLine(method: string, params: unknown): string {
  return JSON.stringify({ __dagster_pipes_version: '0.1', method, params });
}
