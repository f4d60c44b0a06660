import { shellJoin, shellQuote } from '@slurm-pipes/slurm-transport';
import { replaceControlCharacters } from '../control-chars.js';

/** What the batch script of a step does. */
export interface BashLauncherSpec {
  /** Directory the payload runs in (the step's run directory). */
  runDir: string;
  /** `extra_env`: exported first, so the bootstrap variables below win over it. */
  payloadEnv: Readonly<Record<string, string>>;
  /**
   * The Pipes bootstrap variables (`DAGSTER_PIPES_CONTEXT`, `DAGSTER_PIPES_MESSAGES`) and the timeout
   * signal's (`SLURM_PIPES_TIMEOUT_SIGNAL(_SECONDS)`), exported last.
   */
  bootstrapEnv: Readonly<Record<string, string>>;
  /** Directories put in front of `PYTHONPATH` (e.g. a shipped `dagster_pipes`). @default [] */
  pythonPath?: readonly string[];
  /** The payload command: interpreter, payload and arguments. */
  argv: readonly string[];
  /** One comment line saying what the script is for (control characters are dropped). */
  description?: string;
  /**
   * The messages file the payload appends to. When Slurm requeues the job, the rerun appends to
   * the file the first run wrote; if that run died mid-line, the script ends the line first, so the
   * rerun's first message is not glued onto the cut-off one (which the relay then reports as
   * malformed, alone). @default none: nothing is checked
   */
  messagesFile?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function exportLine(name: string, value: string, where: string): string {
  if (!ENV_NAME.test(name)) {
    throw new TypeError(
      `${where}: ${JSON.stringify(name)} is not a valid environment variable name (letters, digits and _, not starting with a digit).`,
    );
  }
  return `export ${name}=${shellQuote(value)}`;
}

/**
 * The Slurm batch script that starts a payload, as dagster-slurm's BashLauncher: strict bash,
 * every value exported through {@link shellQuote} (so quotes, `$(…)`, backticks, newlines and
 * non-ASCII arrive verbatim and nothing in them runs), `cd` into the run directory, then `exec`
 * the payload so it receives Slurm's signals directly.
 * @throws {TypeError} for an invalid variable name, a NUL byte in a value, or an empty argv.
 */
export function buildBashLauncher(spec: BashLauncherSpec): string {
  if (spec.argv.length === 0) throw new TypeError('buildBashLauncher: argv must name the payload command.');
  const lines = ['#!/bin/bash'];
  if (spec.description !== undefined) {
    lines.push(`# ${replaceControlCharacters(spec.description, ' ')}`);
  }
  lines.push('set -euo pipefail', 'umask 077');
  for (const [name, value] of Object.entries(spec.payloadEnv))
    lines.push(exportLine(name, value, 'extra_env'));
  const pythonPath = spec.pythonPath ?? [];
  if (pythonPath.length > 0) {
    const dirs = shellQuote(pythonPath.join(':'));
    lines.push(`export PYTHONPATH=${dirs}"\${PYTHONPATH:+:\${PYTHONPATH}}"`);
  }
  for (const [name, value] of Object.entries(spec.bootstrapEnv))
    lines.push(exportLine(name, value, 'bootstrap'));
  if (spec.messagesFile !== undefined) {
    const file = shellQuote(spec.messagesFile);
    // `$(tail -c 1 f)` is empty when the last byte is a newline (command substitution drops it).
    lines.push(`if [[ -s ${file} && -n "$(tail -c 1 ${file})" ]]; then printf '\\n' >>${file}; fi`);
  }
  lines.push(`cd ${shellQuote(spec.runDir)}`, `exec ${shellJoin(spec.argv)}`, '');
  return lines.join('\n');
}
