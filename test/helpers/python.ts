import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The Python interpreter of the virtual environment `.ci/run` makes (with dagster and
 * dagster-pipes from PyPI), or `SLURM_PIPES_TEST_PYTHON`.
 */
export function venvPython(): string {
  return process.env.SLURM_PIPES_TEST_PYTHON ?? join(repoRoot, '.venv', 'bin', 'python');
}

/** Why Dagster can't be used from tests, or undefined when it can. */
export function dagsterMissing(): string | undefined {
  const python = venvPython();
  if (!existsSync(python))
    return `no Python virtual environment at ${python} (run: bash .ci/run, or make .venv with dagster)`;
  try {
    execFileSync(python, ['-c', 'import dagster, dagster_pipes'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return `${python} cannot import dagster and dagster_pipes (pip install "dagster==1.13.*" "dagster-pipes==1.13.*")`;
  }
}
