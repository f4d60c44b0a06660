import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveBackoff } from '../../src/ssh/backoff.js';

describe('backoff', () => {
  it('grows exponentially up to the cap, with jitter taken off the top', () => {
    const backoff = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, factor: 2, jitter: 0.5 });
    expect([1, 2, 3, 4, 5, 10].map((attempt) => backoffDelay(attempt, backoff, () => 0))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(2, backoff, () => 1)).toBe(100);
  });

  it('names the bad option', () => {
    expect(() => resolveBackoff({ factor: 0.5 })).toThrow('reconnect.factor must be >= 1, got 0.5');
    expect(() => resolveBackoff({ jitter: 2 })).toThrow(/reconnect.jitter/);
  });
});
