// A RemoteExecutor that runs argv on this machine, so the remote scripts of the reattach records
// and the step lock are tested for real (bash, coreutils, a real file system) without SSH.
import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult, RemoteExecutor } from '@slurm-pipes/slurm-transport';

/** Runs each command locally; `calls` records every argv. */
export function localExecutor(): RemoteExecutor & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      calls.push([...argv]);
      return new Promise((resolve, reject) => {
        const [command = 'false', ...args] = argv;
        const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
        });
        child.stderr.on('data', (d: Buffer) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (exitCode, signal) => resolve({ stdout, stderr, exitCode, signal }));
        // A command that exits before reading its stdin closes the pipe: EPIPE is no failure here.
        child.stdin.on('error', () => {});
        child.stdin.end(options.stdin ?? '');
      });
    },
  };
}

/** A RemoteExecutor answering each command with `answer(argv)`. */
export function scriptedExecutor(answer: (argv: readonly string[]) => Partial<ExecResult>): RemoteExecutor & {
  calls: string[][];
} {
  const calls: string[][] = [];
  return {
    calls,
    async exec(argv) {
      calls.push([...argv]);
      return { stdout: '', stderr: '', exitCode: 0, signal: null, ...answer(argv) };
    },
  };
}
