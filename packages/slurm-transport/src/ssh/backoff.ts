/** Exponential backoff with jitter, as used between reconnect attempts. */
export interface BackoffOptions {
  /**
   * Delay before the first retry, in milliseconds.
   * @default 250
   */
  initialDelayMs?: number;
  /**
   * Upper bound of a single delay, in milliseconds.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Multiplier between consecutive delays.
   * @default 2
   */
  factor?: number;
  /**
   * Fraction of each delay that is randomised (0 = none, 1 = anywhere between 0 and the delay).
   * @default 0.25
   */
  jitter?: number;
}

/** {@link BackoffOptions} with every default applied. */
export type ResolvedBackoff = Readonly<Required<BackoffOptions>>;

/** Applies defaults and validates `options`. @throws {RangeError} naming the bad option. */
export function resolveBackoff(options: BackoffOptions = {}, prefix = 'reconnect'): ResolvedBackoff {
  const resolved = {
    initialDelayMs: options.initialDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.25,
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${prefix}.${key} must be a finite number >= 0, got ${String(value)}`);
    }
  }
  if (resolved.factor < 1) {
    throw new RangeError(`${prefix}.factor must be >= 1, got ${resolved.factor}`);
  }
  if (resolved.jitter > 1) {
    throw new RangeError(`${prefix}.jitter must be between 0 and 1, got ${resolved.jitter}`);
  }
  return Object.freeze(resolved);
}

/** Delay before retry number `attempt` (1-based); `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  backoff: ResolvedBackoff,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    backoff.maxDelayMs,
    backoff.initialDelayMs * backoff.factor ** Math.max(0, attempt - 1),
  );
  return Math.round(base * (1 - backoff.jitter * random()));
}
