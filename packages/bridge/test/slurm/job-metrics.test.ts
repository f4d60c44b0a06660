import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchFinalJobMetrics, hostlistCount } from '../../src/slurm/job-metrics.js';

describe('hostlistCount', () => {
  it.each([
    ['n1', 1],
    ['n[1-2]', 2],
    ['n[1-3,7]', 4],
    ['n[01-10]', 10],
    ['a[1-2]b[1-3],c', 7],
    ['node1,node2,gpu[1-4]', 6],
  ])('%s names %i hosts', (list, count) => {
    expect(hostlistCount(list)).toBe(count);
  });

  it.each([[''], ['n[3-1]'], ['n[x]']])('rejects %j', (list) => {
    expect(hostlistCount(list)).toBeUndefined();
  });
});

// sacct on a cluster whose accounting catches up with a job's end: each call takes `latencyMs`,
// and answers with the row that was current when the call started.
function laggingSacct(latencyMs: number, finalFrom: number) {
  const calls: number[] = [];
  const row = (jobState: string) =>
    [
      `7|${jobState}|0:0|00:00:01|00:00.500|2026-11-22T10:00:00|2026-11-22T10:00:01|n1|1|1||None`,
      '7.batch|COMPLETED|0:0|00:00:01|00:00.500|2026-11-22T10:00:00|2026-11-22T10:00:01|n1|1|1|2048K|',
    ].join('\n');
  const executor: RemoteExecutor = {
    exec: async (argv: readonly string[]) => {
      expect(argv[0]).toBe('sacct');
      const at = Date.now();
      calls.push(at);
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      return {
        stdout: `${row(at >= finalFrom ? 'COMPLETED' : 'RUNNING')}\n`,
        stderr: '',
        exitCode: 0,
        signal: null,
      };
    },
  };
  return { executor, calls };
}

describe('fetchFinalJobMetrics', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('returns as soon as an answer is final', async () => {
    const { executor, calls } = laggingSacct(90, 0);
    const fetched = fetchFinalJobMetrics(executor, '7', { log: () => {} });
    await vi.advanceTimersByTimeAsync(90);
    expect((await fetched)?.state).toBe('COMPLETED');
    expect(calls).toEqual([0, 40]); // the second was already under way
  });

  it('has a second attempt under way when the first answer is a step behind', async () => {
    // Accounting has the job's end from t=30: the call at 0 answers RUNNING at 90, the one at 40
    // answers COMPLETED at 130 (chained attempts would answer at 90 + 40 + 90 = 220).
    const { executor, calls } = laggingSacct(90, 30);
    const fetched = fetchFinalJobMetrics(executor, '7', { log: () => {} });
    let settledAt: number | undefined;
    void fetched.then(() => {
      settledAt = Date.now();
    });
    await vi.advanceTimersByTimeAsync(500);
    expect((await fetched)?.state).toBe('COMPLETED');
    expect(settledAt).toBe(130);
    expect(calls.slice(0, 2)).toEqual([0, 40]);
    expect(calls.length).toBeLessThanOrEqual(3);
  });

  it('never has more than maxInFlight calls waiting, and returns the latest answer when none is final', async () => {
    const { executor, calls } = laggingSacct(1000, Number.POSITIVE_INFINITY);
    const fetched = fetchFinalJobMetrics(executor, '7', { log: () => {}, attempts: 4, maxInFlight: 2 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await fetched)?.state).toBe('RUNNING');
    expect(calls).toEqual([0, 40, 1000, 1160]); // delays 40, 80, 160 ms, each once a slot is free
  });

  it('logs and returns undefined when accounting is disabled, after one call', async () => {
    const lines: string[] = [];
    const executor: RemoteExecutor = {
      exec: async () => ({
        stdout: '',
        stderr: 'Slurm accounting storage is disabled',
        exitCode: 1,
        signal: null,
      }),
    };
    const fetched = fetchFinalJobMetrics(executor, '7', { log: (line) => lines.push(line) });
    await vi.advanceTimersByTimeAsync(100);
    expect(await fetched).toBeUndefined();
    expect(lines.join('\n')).toMatch(/no accounting for job 7 from sacct: .*disabled/i);
  });
});
