/** Uploads smaller than this are not reported byte by byte. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 2_000;

/** `512 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * An `onProgress` callback that logs a long upload's progress at most every 2 s (percentage,
 * size, rate); small uploads stay silent.
 */
export function uploadProgressLogger(
  label: string,
  log: (line: string) => void,
  now: () => number = Date.now,
): (transferred: number, total: number) => void {
  const started = now();
  let lastLogged = started;
  return (transferred, total) => {
    if (total < PROGRESS_MIN_BYTES) return;
    const t = now();
    if (t - lastLogged < PROGRESS_INTERVAL_MS && transferred < total) return;
    lastLogged = t;
    const seconds = Math.max((t - started) / 1000, 0.001);
    const percent = total === 0 ? 100 : Math.floor((transferred / total) * 100);
    log(`uploading ${label}: ${percent}% of ${formatBytes(total)} (${formatBytes(transferred / seconds)}/s)`);
  };
}
