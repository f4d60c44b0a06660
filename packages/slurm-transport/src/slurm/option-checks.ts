// Validators shared by SlurmQueueConfig and extra_slurm_opts. Each names the key as the user wrote
// it (`queue.mem`, `extra_slurm_opts.time_limit`), echoes the value and says how to fix it.
import { parseTimeLimit, TIME_LIMIT_FORMATS } from './duration.js';
import { MEMORY_FORMATS, parseMemoryRequest } from './memory-size.js';

/** A JSON-ish rendering of `value` for messages, cut at 80 characters. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' || typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    text = String(value);
  }
  text ??= String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** True when `text` holds an ASCII control character (newline, tab, NUL, DEL, …). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

export function typeError(path: string, value: unknown, problem: string, fix: string): TypeError {
  return new TypeError(`${path}: ${problem}, got ${show(value)}. ${fix}`);
}

export function rangeError(path: string, value: unknown, problem: string, fix: string): RangeError {
  return new RangeError(`${path}: ${problem}, got ${show(value)}. ${fix}`);
}

/** A whole number ≥ `min`; digit strings are accepted since env vars and YAML often give them. */
export function checkWholeNumber(path: string, value: unknown, min: number, example: number): number {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number') {
    throw typeError(path, value, 'must be a whole number', `Write e.g. ${example}.`);
  }
  if (!Number.isSafeInteger(number) || number < min) {
    throw rangeError(path, value, `must be a whole number >= ${min}`, `Write e.g. ${example}.`);
  }
  return number;
}

/** A single-line string; `""` means "not set" and yields `undefined`. */
export function checkText(path: string, value: unknown, example: string): string | undefined {
  if (typeof value !== 'string') {
    throw typeError(path, value, 'must be a string', `Write e.g. ${show(example)}.`);
  }
  const trimmed = value.trim();
  if (hasControlCharacter(trimmed)) {
    throw rangeError(path, value, 'must not contain control characters such as newlines', 'Remove them.');
  }
  return trimmed === '' ? undefined : trimmed;
}

export function checkBoolean(path: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw typeError(
      path,
      value,
      'must be true or false',
      'Write true to ask for whole nodes, false otherwise.',
    );
  }
  return value;
}

/** A time limit in sbatch's formats; returns the canonical text and seconds (`Infinity` = none). */
export function checkTimeLimit(path: string, value: unknown): { text: string; seconds: number } {
  if (typeof value !== 'string') {
    const fix =
      typeof value === 'number'
        ? `A bare number is ambiguous; write the limit as a string, e.g. "${value}:00" for ${value} minutes or "${value}:00:00" for ${value} hours.`
        : 'Write e.g. "01:30:00" or "2-00:00:00".';
    throw typeError(path, value, 'must be a string', fix);
  }
  const seconds = parseTimeLimit(value);
  if (seconds === undefined) {
    throw rangeError(path, value, 'is not a Slurm time limit', `Use ${TIME_LIMIT_FORMATS}, e.g. "02:00:00".`);
  }
  if (seconds === 0) {
    throw rangeError(
      path,
      value,
      'is zero, which Slurm reads as "no limit"',
      'Write "UNLIMITED" if that is what you mean, or a real limit such as "00:30:00".',
    );
  }
  return { text: value.trim().toUpperCase() === 'INFINITE' ? 'UNLIMITED' : value.trim(), seconds };
}

/** A memory request as `--mem`/`--mem-per-cpu` take it; returns the canonical spelling. */
export function checkMemory(path: string, value: unknown): string {
  if (typeof value !== 'string') {
    const fix =
      typeof value === 'number'
        ? `Give the unit explicitly: write "${value}M" for ${value} megabytes or "${value}G" for ${value} gigabytes.`
        : `Write ${MEMORY_FORMATS}.`;
    throw typeError(path, value, 'must be a string with a unit', fix);
  }
  const parsed = parseMemoryRequest(value);
  if (parsed === undefined) {
    const bytesSuffix = /^\s*(\d+)\s*([KMGT])i?B\s*$/i.exec(value);
    const fix = bytesSuffix
      ? `Slurm takes no "B": write "${bytesSuffix[1]}${bytesSuffix[2]?.toUpperCase()}".`
      : `Write ${MEMORY_FORMATS}.`;
    throw rangeError(path, value, 'is not a Slurm memory size', fix);
  }
  return parsed.text;
}

// Signals a job can be sent (`kill -l` names without SIG), as accepted by `sbatch --signal`.
const SIGNAL_NAMES = new Set([
  'HUP',
  'INT',
  'QUIT',
  'ABRT',
  'KILL',
  'USR1',
  'SEGV',
  'USR2',
  'PIPE',
  'ALRM',
  'TERM',
  'CONT',
  'STOP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'XCPU',
  'XFSZ',
  'VTALRM',
  'PROF',
  'WINCH',
  'IO',
  'PWR',
  'SYS',
]);
// sbatch stores the lead time in 16 bits.
const MAX_SIGNAL_LEAD_SECONDS = 0xffff;

/** The parsed `signal_before_timeout`. */
export interface SignalBeforeTimeout {
  /** Signal name without `SIG` (`'USR1'`), or a number as text (`'10'`). */
  readonly signal: string;
  /** How many seconds before the time limit Slurm sends it (Slurm may send it up to 60 s early). */
  readonly seconds: number;
}

/** `SIG@SECONDS` (`USR1@300`, `SIGTERM@60`, `10@120`, optionally prefixed `B:`). */
export function checkSignalBeforeTimeout(path: string, value: unknown): SignalBeforeTimeout {
  const fix = 'Write SIGNAL@SECONDS, e.g. "USR1@300" to get SIGUSR1 five minutes before the time limit.';
  if (typeof value !== 'string') {
    throw typeError(path, value, 'must be a string', fix);
  }
  const match = /^(?:B:)?(?:SIG)?([A-Z0-9]+)@(\d+)$/i.exec(value.trim());
  if (!match) {
    throw rangeError(path, value, 'is not SIGNAL@SECONDS', fix);
  }
  const [, rawSignal = '', rawSeconds = ''] = match;
  const signal = rawSignal.toUpperCase();
  const number = /^\d+$/.test(signal) ? Number(signal) : undefined;
  if (number === undefined ? !SIGNAL_NAMES.has(signal) : number < 1 || number > 64) {
    throw rangeError(
      path,
      value,
      `names no signal ("${rawSignal}")`,
      `Use a name such as USR1, USR2, TERM or INT. ${fix}`,
    );
  }
  const seconds = Number(rawSeconds);
  if (seconds < 1 || seconds > MAX_SIGNAL_LEAD_SECONDS) {
    throw rangeError(path, value, `has a lead time outside 1..${MAX_SIGNAL_LEAD_SECONDS} seconds`, fix);
  }
  return { signal, seconds };
}

// Flags this package sets itself, or that break job tracking, with what to use instead.
const RESERVED_FLAGS: Readonly<Record<string, string>> = {
  '--job-name': 'the job name is set by slurm-pipes',
  '--chdir': 'the working directory is set by slurm-pipes',
  '--output': 'the stdout path is set by slurm-pipes',
  '--error': 'the stderr path is set by slurm-pipes',
  '--parsable': 'slurm-pipes always passes it',
  '--export': 'use the exportNone option of the submission instead',
  '--wrap': 'slurm-pipes submits its own job script',
  '--wait': 'it would block the submission; slurm-pipes watches the job itself',
  '--test-only': 'it submits nothing, so there would be no job to watch',
  '--array': 'job arrays are not supported: submit one job per asset',
  '--partition': 'use the partition key',
  '--nodes': 'use num_nodes (queue) or nodes (extra_slurm_opts)',
  '--cpus-per-task': 'use cpus (queue) or cpus_per_task (extra_slurm_opts)',
  '--gpus-per-node': 'use the gpus_per_node key',
  '--mem': 'use the mem key',
  '--mem-per-cpu': 'use the mem_per_cpu key',
  '--time': 'use the time_limit key',
  '--signal': 'use the signal_before_timeout key',
  '--qos': 'use the qos key',
  '--reservation': 'use the reservation key',
  '--account': 'use the account key',
  '--constraint': 'use the constraint key',
  '--exclusive': 'use the exclusive key',
};

/** Raw `--flag[=value]` strings for sbatch; each must be one argument starting with `--`. */
export function checkDirectives(path: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw typeError(
      path,
      value,
      'must be an array of strings',
      'Write e.g. ["--licenses=matlab:1", "--comment=nightly"].',
    );
  }
  return value.map((item: string, index) => {
    const itemPath = `${path}[${index}]`;
    const directive = item.trim();
    if (hasControlCharacter(directive)) {
      throw rangeError(
        itemPath,
        item,
        'must not contain control characters such as newlines',
        'Give one flag per array element.',
      );
    }
    const match = /^(--[A-Za-z][A-Za-z0-9-]*)(=.*)?$/s.exec(directive);
    if (!match) {
      const fix = directive.startsWith('#SBATCH')
        ? `Drop "#SBATCH": write ${show(directive.replace(/^#SBATCH\s+/, ''))}.`
        : directive.startsWith('-') && !directive.startsWith('--')
          ? 'Use the long form, e.g. "--partition=x" is a key of its own and "-w n1" is "--nodelist=n1".'
          : 'Write one long option per element, as "--flag" or "--flag=value" (no spaces around "=").';
      throw rangeError(itemPath, item, 'is not a long sbatch option ("--flag" or "--flag=value")', fix);
    }
    const flag = match[1] ?? '';
    const reserved = RESERVED_FLAGS[flag];
    if (reserved !== undefined) {
      throw rangeError(
        itemPath,
        item,
        `sets ${flag}, which cannot be given as a raw directive`,
        `${reserved[0]?.toUpperCase()}${reserved.slice(1)}.`,
      );
    }
    return directive;
  });
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The error for a key that is not one of `known`, with a "did you mean" where one is close. */
export function unknownKeyError(
  path: string,
  key: string,
  value: unknown,
  known: readonly string[],
  aliases: Readonly<Record<string, string>>,
): TypeError {
  const normalized = key.trim().toLowerCase().replaceAll('-', '_');
  const suggestion =
    aliases[normalized] ??
    (known.includes(normalized) ? normalized : undefined) ??
    known.find((candidate) => editDistance(normalized, candidate) <= 2);
  const hint = suggestion === undefined ? '' : `Did you mean "${suggestion}"? `;
  return new TypeError(
    `${path}: unknown key "${key}" (value ${show(value)}). ${hint}Known keys: ${known.join(', ')}.`,
  );
}

/** Checks that `input` is a plain object and returns its own enumerable entries. */
export function objectEntries(path: string, input: unknown): [string, unknown][] {
  if (input === undefined || input === null) {
    return [];
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw typeError(path, input, 'must be an object of key/value pairs', 'Pass e.g. {"mem": "8G"}.');
  }
  return Object.entries(input);
}
