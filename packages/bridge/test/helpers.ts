import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixture = (name: string) => join(repoRoot, 'packages/bridge/test/fixtures', name);
export const cliPath = join(repoRoot, 'packages/bridge/src/cli.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI from source (tsx) as a child process; `onSpawn` gets the child (e.g. to signal it). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onSpawn?: (child: import('node:child_process').ChildProcess) => void,
): Promise<CliResult> {
  const base = { ...process.env };
  delete base.DAGSTER_PIPES_CONTEXT;
  delete base.DAGSTER_PIPES_MESSAGES;
  for (const k of Object.keys(base))
    if (k.startsWith('SLURM_PIPES_') || k.startsWith('SLURM_SSH_')) delete base[k];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@slurm-pipes/source', '--import', 'tsx', cliPath, ...args],
      {
        cwd: repoRoot,
        env: { ...base, ...env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Parses `--json` output lines. */
export function jsonEvents(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
