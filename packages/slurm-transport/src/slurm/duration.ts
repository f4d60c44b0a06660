// Slurm writes durations in two dialects: what `sbatch --time` accepts (a bare number means minutes)
// and what `squeue`/`sacct` print (`[D-]HH:MM:SS`, `MM:SS.mmm` for TotalCPU under an hour).

const UNLIMITED_WORDS = new Set(['UNLIMITED', 'INFINITE', '-1']);

// Mirrors Slurm's time_str2secs: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
// days-hours:minutes, days-hours:minutes:seconds.
const TIME_LIMIT_FORMS: ReadonlyArray<readonly [RegExp, (parts: number[]) => number | undefined]> = [
  [/^(\d+)$/, ([m = 0]) => m * 60],
  [/^(\d+):(\d{1,2})$/, ([m = 0, s = 0]) => (s < 60 ? m * 60 + s : undefined)],
  [
    /^(\d+):(\d{1,2}):(\d{1,2})$/,
    ([h = 0, m = 0, s = 0]) => (m < 60 && s < 60 ? h * 3600 + m * 60 + s : undefined),
  ],
  [/^(\d+)-(\d{1,2})$/, ([d = 0, h = 0]) => (h < 24 ? d * 86_400 + h * 3600 : undefined)],
  [
    /^(\d+)-(\d{1,2}):(\d{1,2})$/,
    ([d = 0, h = 0, m = 0]) => (h < 24 && m < 60 ? d * 86_400 + h * 3600 + m * 60 : undefined),
  ],
  [
    /^(\d+)-(\d{1,2}):(\d{1,2}):(\d{1,2})$/,
    ([d = 0, h = 0, m = 0, s = 0]) =>
      h < 24 && m < 60 && s < 60 ? d * 86_400 + h * 3600 + m * 60 + s : undefined,
  ],
];

/** The forms {@link parseTimeLimit} accepts, for error messages. */
export const TIME_LIMIT_FORMATS =
  'HH:MM:SS, D-HH:MM:SS, D-HH:MM, D-HH, MM:SS, MM (minutes) or UNLIMITED (also "infinite")';

/**
 * Parses a time limit the way `sbatch --time` does. A bare number means minutes.
 * @returns seconds; `Infinity` for `UNLIMITED`/`INFINITE` (any case); `undefined` when `text` is
 *   not a Slurm time limit (including out-of-range fields such as `00:75:00`).
 */
export function parseTimeLimit(text: string): number | undefined {
  const trimmed = text.trim();
  if (UNLIMITED_WORDS.has(trimmed.toUpperCase())) {
    return Number.POSITIVE_INFINITY;
  }
  for (const [pattern, toSeconds] of TIME_LIMIT_FORMS) {
    const match = pattern.exec(trimmed);
    if (match) {
      return toSeconds(match.slice(1).map(Number));
    }
  }
  return undefined;
}

/**
 * Parses a duration as `squeue` and `sacct` print it: `D-HH:MM:SS`, `HH:MM:SS`, `MM:SS.mmm`
 * (sacct's TotalCPU under an hour), optionally with fractional seconds.
 * @returns seconds (fractional for `.mmm`), or `undefined` for `""`, `Unknown`, `INVALID`, `None`
 *   and anything else that is not a duration.
 */
export function parseSlurmDuration(text: string): number | undefined {
  const trimmed = text.trim();
  const long = /^(?:(\d+)-)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(trimmed);
  if (long) {
    const [, d = '0', h = '0', m = '0', s = '0'] = long;
    return Number(d) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  const short = /^(\d+):(\d{2}(?:\.\d+)?)$/.exec(trimmed);
  if (short) {
    const [, m = '0', s = '0'] = short;
    return Number(m) * 60 + Number(s);
  }
  return undefined;
}

/**
 * Formats whole seconds as Slurm does: `HH:MM:SS`, or `D-HH:MM:SS` from one day on;
 * `UNLIMITED` for `Infinity`. Fractions are rounded up, as Slurm never grants less than asked.
 */
export function formatSlurmDuration(seconds: number): string {
  if (seconds === Number.POSITIVE_INFINITY) {
    return 'UNLIMITED';
  }
  const total = Math.ceil(seconds);
  const days = Math.floor(total / 86_400);
  const pad = (n: number) => String(n).padStart(2, '0');
  const clock = `${pad(Math.floor((total % 86_400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days > 0 ? `${days}-${clock}` : clock;
}
