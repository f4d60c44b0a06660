// Slurm sizes are binary: K = 1024, M = 1024², and so on.
const UNIT_POWER: Readonly<Record<string, number>> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5 };

/** The forms {@link parseMemoryRequest} accepts, for error messages. */
export const MEMORY_FORMATS =
  'a whole number with an optional K, M, G or T suffix (no "B"), e.g. "4096M" or "32G"; no suffix means megabytes';

/**
 * Parses a memory request as `sbatch --mem`/`--mem-per-cpu` does: a whole number with an optional
 * `K`/`M`/`G`/`T` suffix (any case); no suffix means megabytes.
 * @returns the canonical spelling (upper-case suffix) and the size in MiB (rounded up), or
 *   `undefined` for anything sbatch would reject, e.g. `"4GB"`, `"4.5G"` or `"4 G"`.
 */
export function parseMemoryRequest(text: string): { text: string; mebibytes: number } | undefined {
  const match = /^(\d+)([KMGT])?$/i.exec(text.trim());
  if (!match) {
    return undefined;
  }
  const [, digits = '0', unit = 'M'] = match;
  const power = UNIT_POWER[unit.toUpperCase()] ?? 2;
  return {
    text: `${digits}${match[2] === undefined ? '' : unit.toUpperCase()}`,
    mebibytes: Math.ceil(Number(digits) * 1024 ** (power - 2)),
  };
}

/**
 * Parses a size as `sacct` prints it (MaxRSS, MaxVMSize, AveRSS): `1234K`, `12.50M`, `1.20G`, or a
 * bare number of bytes.
 * @returns bytes (rounded), or `undefined` for `""`, `Unknown`, `None` and other non-sizes.
 */
export function parseSacctSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([KMGTP])?$/i.exec(text.trim());
  if (!match) {
    return undefined;
  }
  const [, value = '0', unit = ''] = match;
  return Math.round(Number(value) * 1024 ** (UNIT_POWER[unit.toUpperCase()] ?? 0));
}
