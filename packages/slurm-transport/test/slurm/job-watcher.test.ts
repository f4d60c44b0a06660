import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSlurmTransportError, SlurmTransportError } from '../../src/errors.js';
import { type JobStateChange, JobWaitTimeoutError, JobWatcher, watchJobs } from '../../src/slurm/index.js';
import { FakeExecutor, failed, ok } from './fake-executor.js';

// A scripted cluster: `squeue` answers from `queue`, `sacct` from `accounting`, for the ids asked.
function fakeCluster() {
  const queue = new Map<string, string>();
  const accounting = new Map<string, string>();
  const idsOf = (argv: readonly string[]) =>
    (argv.find((arg) => arg.startsWith('--jobs='))?.slice('--jobs='.length) ?? '').split(',');
  const executor = new FakeExecutor({
    squeue: (argv) =>
      ok(
        idsOf(argv)
          .filter((id) => queue.has(id))
          .map((id) => `${id}|${queue.get(id)}\n`)
          .join(''),
      ),
    sacct: (argv) =>
      ok(
        idsOf(argv)
          .filter((id) => accounting.has(id))
          .map((id) => `${id}|${accounting.get(id)}\n`)
          .join(''),
      ),
  });
  return { queue, accounting, executor };
}

function collect(iterable: AsyncIterable<JobStateChange>) {
  const result = { events: [] as JobStateChange[], error: undefined as unknown, done: false };
  const finished = (async () => {
    try {
      for await (const event of iterable) result.events.push(event);
    } catch (error) {
      result.error = error;
    } finally {
      result.done = true;
    }
  })();
  return Object.assign(result, { finished });
}

const summaries = (events: readonly JobStateChange[]) => events.map((e) => `${e.jobId} ${e.summary}`);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('JobWatcher', () => {
  it('emits state and reason transitions, polls fast after changes and backs off when idle', async () => {
    const { queue, accounting, executor } = fakeCluster();
    queue.set('1', 'PENDING|Priority|');
    const watcher = new JobWatcher(executor);
    const watch = collect(watcher.watch('1'));

    await vi.advanceTimersByTimeAsync(0);
    expect(summaries(watch.events)).toEqual(['1 PENDING (Priority)']);
    expect(watch.events[0]?.previousState).toBeUndefined();

    queue.set('1', 'PENDING|Resources|');
    await vi.advanceTimersByTimeAsync(1000);
    expect(summaries(watch.events)).toEqual(['1 PENDING (Priority)', '1 PENDING (Resources)']);

    // Nothing changes: 1000 → 1500 → 2250 → 3375 → 5000 (cap) → 5000.
    await vi.advanceTimersByTimeAsync(20_000);
    const times = executor.calls.map((call) => call.at);
    expect(times).toEqual([0, 1000, 2000, 3500, 5750, 9125, 14_125, 19_125]);

    queue.set('1', 'RUNNING|None|n1');
    await vi.advanceTimersByTimeAsync(5000);
    expect(watch.events.at(-1)).toMatchObject({
      state: 'RUNNING',
      previousState: 'PENDING',
      terminal: false,
    });

    queue.set('1', 'COMPLETED|None|n1');
    accounting.set('1', 'COMPLETED|0:0|None|n1');
    await vi.advanceTimersByTimeAsync(1000);
    await watch.finished;
    expect(summaries(watch.events)).toEqual([
      '1 PENDING (Priority)',
      '1 PENDING (Resources)',
      '1 RUNNING on n1',
      '1 COMPLETED, exit 0',
    ]);
    expect(watch.events.at(-1)).toMatchObject({
      terminal: true,
      status: { exitCode: { code: 0, signal: 0 } },
    });
    expect(watch.error).toBeUndefined();
    expect(watcher.size).toBe(0);

    const calls = executor.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(executor.calls.length).toBe(calls);
    expect(executor.argvs('scancel')).toEqual([]);
  });

  it('shares one batched query per tick across every watch', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    queue.set('2', 'PENDING|Resources|');
    queue.set('3', 'PENDING|Priority|');
    const watcher = new JobWatcher(executor);
    const a = collect(watcher.watch('1'));
    const b = collect(watcher.watch(['2', '3']));

    await vi.advanceTimersByTimeAsync(0);
    expect(executor.argvs('squeue')).toHaveLength(1);
    expect(executor.argvs('squeue')[0]).toContain('--jobs=1,2,3');

    queue.set('1', 'COMPLETED|None|n1');
    await vi.advanceTimersByTimeAsync(1000);
    await a.finished;
    expect(summaries(a.events)).toEqual(['1 RUNNING on n1', '1 COMPLETED']);

    await vi.advanceTimersByTimeAsync(1000);
    expect(executor.argvs('squeue').at(-1)).toContain('--jobs=2,3');
    expect(executor.argvs('squeue')).toHaveLength(3);
    expect(summaries(b.events)).toEqual(['2 PENDING (Resources)', '3 PENDING (Priority)']);
    expect(b.done).toBe(false);
    watcher.close();
    await b.finished;
    expect(b.error).toBeUndefined();
  });

  it('raises a queue timeout without cancelling anything', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('9', 'PENDING|Resources|');
    const watcher = new JobWatcher(executor);
    const watch = collect(watcher.watch('9', { queueTimeoutMs: 10_000 }));

    await vi.advanceTimersByTimeAsync(9999);
    expect(watch.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await watch.finished;
    expect(watch.error).toBeInstanceOf(JobWaitTimeoutError);
    expect(watch.error).toMatchObject({
      code: 'ERR_SLURM_WAIT_TIMEOUT',
      jobId: '9',
      limit: 'queue',
      limitMs: 10_000,
      lastStatus: { state: 'PENDING', reason: 'Resources' },
    });
    expect((watch.error as Error).message).toMatchInlineSnapshot(
      `"Job 9 is still queued after 00:00:10 (queueTimeoutMs=10000; state: PENDING (Resources)). It was not cancelled. Fix: cancel it (cancelJob) or keep waiting (watch it again); to start sooner ask for fewer resources, a shorter time_limit, or another partition/qos."`,
    );
    expect(executor.argvs('scancel')).toEqual([]);
    expect(watcher.size).toBe(0);
  });

  it('counts the run timeout from when the job was first seen started', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('5', 'PENDING|Priority|');
    const watcher = new JobWatcher(executor);
    const watch = collect(watcher.watch('5', { runTimeoutMs: 5000, queueTimeoutMs: 60_000 }));
    await vi.advanceTimersByTimeAsync(0);
    queue.set('5', 'RUNNING|None|n2');
    await vi.advanceTimersByTimeAsync(1000); // seen running at t=1000
    await vi.advanceTimersByTimeAsync(4999);
    expect(watch.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await watch.finished;
    expect(watch.error).toMatchObject({ limit: 'run', jobId: '5', lastStatus: { state: 'RUNNING' } });
    expect(executor.argvs('scancel')).toEqual([]);
  });

  it('stops one watch on its abort signal with ERR_ABORTED and keeps the others', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    queue.set('2', 'RUNNING|None|n2');
    const watcher = new JobWatcher(executor);
    const controller = new AbortController();
    const a = collect(watcher.watch('1', { signal: controller.signal }));
    const b = collect(watcher.watch('2'));
    await vi.advanceTimersByTimeAsync(0);
    controller.abort(new Error('user pressed Terminate'));
    await a.finished;
    expect(isSlurmTransportError(a.error, 'ERR_ABORTED')).toBe(true);
    expect((a.error as Error).cause).toMatchObject({ message: 'user pressed Terminate' });
    expect(watcher.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(executor.argvs('squeue').at(-1)).toContain('--jobs=2');
    expect(b.done).toBe(false);
    watcher.close();
    await b.finished;
  });

  it('aborting the watcher rejects every watch and aborts the query in flight', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const executor = new FakeExecutor({
      squeue: () =>
        new Promise(() => {
          // never answers
        }),
    });
    const exec = executor.exec.bind(executor);
    executor.exec = (argv, options) => {
      seen = options?.signal;
      return exec(argv, options);
    };
    const watcher = new JobWatcher(executor, { signal: controller.signal });
    const watch = collect(watcher.watch('3'));
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    await watch.finished;
    expect(isSlurmTransportError(watch.error, 'ERR_ABORTED')).toBe(true);
    expect(seen?.aborted).toBe(true);
    const late = collect(watcher.watch('4'));
    await late.finished;
    expect(isSlurmTransportError(late.error, 'ERR_ABORTED')).toBe(true);
  });

  it('retries failed queries, then fails every watch with the last error', async () => {
    const onQueryError = vi.fn();
    const broken = failed('slurm_load_jobs error: Socket timed out on send/recv operation\n');
    const flaky = new FakeExecutor({ squeue: [broken, broken, ok('1|RUNNING|None|n1\n')] });
    const watcher = new JobWatcher(flaky, { maxConsecutiveFailures: 2, onQueryError });
    const watch = collect(watcher.watch('1'));
    // Failed polls back off like idle ones: t=0, 1500, 3750.
    await vi.advanceTimersByTimeAsync(3750);
    expect(flaky.calls.map((call) => call.at)).toEqual([0, 1500, 3750]);
    expect(onQueryError).toHaveBeenCalledTimes(2);
    expect(onQueryError.mock.calls[1]?.[1]).toBe(2);
    expect(summaries(watch.events)).toEqual(['1 RUNNING on n1']);
    watcher.close();
    await watch.finished;

    const dead = new FakeExecutor({ squeue: broken });
    const strict = new JobWatcher(dead, { maxConsecutiveFailures: 2 });
    const failing = collect(strict.watch('1'));
    await vi.advanceTimersByTimeAsync(10_000);
    await failing.finished;
    expect(dead.argvs('squeue')).toHaveLength(3);
    expect(failing.error).toMatchObject({
      code: 'ERR_SLURM_QUERY',
      message: expect.stringContaining('Fix: slurmctld is down'),
    });
  });

  it('fails a watch whose job neither squeue nor sacct knows', async () => {
    const { executor } = fakeCluster();
    const watcher = new JobWatcher(executor, { maxUnknownPolls: 3 });
    const watch = collect(watcher.watch('404'));
    await vi.advanceTimersByTimeAsync(10_000);
    await watch.finished;
    expect(executor.argvs('squeue')).toHaveLength(3);
    expect(executor.argvs('sacct')).toHaveLength(3);
    expect(watch.error).toMatchObject({
      code: 'ERR_SLURM_QUERY',
      message: expect.stringMatching(
        /^Job 404 is unknown to both squeue and sacct \(3 polls in a row\)\. Fix: check the job id/,
      ),
    });
  });

  it('stops polling when the caller breaks out', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    const watcher = new JobWatcher(executor);
    const iterator = watcher.watch('1');
    await vi.advanceTimersByTimeAsync(0);
    for await (const event of iterator) {
      expect(event.state).toBe('RUNNING');
      break;
    }
    expect(watcher.size).toBe(0);
    const calls = executor.calls.length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(executor.calls.length).toBe(calls);
  });

  it('polls at once on refresh()', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    const watcher = new JobWatcher(executor, { initialIntervalMs: 2000, maxIntervalMs: 30_000 });
    const watch = collect(watcher.watch('1'));
    await vi.advanceTimersByTimeAsync(100);
    expect(executor.calls.map((call) => call.at)).toEqual([0]);
    queue.set('1', 'COMPLETED|None|n1');
    watcher.refresh();
    await vi.advanceTimersByTimeAsync(0);
    await watch.finished;
    expect(executor.argvs('squeue').map((_, i) => executor.calls[i]?.at)).toEqual([0, 100]);
    expect(watch.events.at(-1)?.state).toBe('COMPLETED');
  });

  it('after expectEnd() polls every endingIntervalMs for endingWindowMs, then backs off again', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    const watcher = new JobWatcher(executor, { endingIntervalMs: 20, endingWindowMs: 100 });
    const watch = collect(watcher.watch('1'));
    await vi.advanceTimersByTimeAsync(500);
    watcher.expectEnd(); // at 500: the payload sent `closed`, but its job keeps running
    await vi.advanceTimersByTimeAsync(2000);
    const times = executor.argvs('squeue').map((_, i) => executor.calls[i]?.at);
    // 0, then 500 (at once) and every 20 ms until 600, then the normal 1000 ms interval, growing.
    expect(times).toEqual([0, 500, 520, 540, 560, 580, 600, 1600]);
    queue.set('1', 'COMPLETED|None|n1');
    await vi.advanceTimersByTimeAsync(5000);
    await watch.finished;
    expect(watch.events.at(-1)?.state).toBe('COMPLETED');
  });

  it('polls closely while a job is COMPLETING, so its end is seen within endingIntervalMs', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'COMPLETING|None|n1');
    const watcher = new JobWatcher(executor, { endingIntervalMs: 20 });
    const watch = collect(watcher.watch('1'));
    await vi.advanceTimersByTimeAsync(50);
    queue.set('1', 'COMPLETED|None|n1');
    await vi.advanceTimersByTimeAsync(20);
    await watch.finished;
    expect(executor.argvs('squeue').map((_, i) => executor.calls[i]?.at)).toEqual([0, 20, 40, 60]);
    expect(watch.events.at(-1)?.state).toBe('COMPLETED');
  });

  it('with exitCodes: false asks sacct only about jobs squeue no longer lists', async () => {
    const { queue, accounting, executor } = fakeCluster();
    queue.set('1', 'COMPLETED|None|n1');
    accounting.set('2', 'FAILED|1:0|None|n2');
    const watcher = new JobWatcher(executor, { exitCodes: false });
    const watch = collect(watcher.watch(['1', '2']));
    await vi.advanceTimersByTimeAsync(0);
    await watch.finished;
    expect(executor.argvs('sacct')).toHaveLength(1);
    expect(executor.argvs('sacct')[0]?.find((arg) => arg.startsWith('--jobs='))).toBe('--jobs=2');
    expect(watch.events.map((e) => [e.jobId, e.state, e.status.exitCode])).toEqual([
      ['1', 'COMPLETED', undefined],
      ['2', 'FAILED', { code: 1, signal: 0 }],
    ]);
  });

  it('validates its options', () => {
    const executor = new FakeExecutor();
    expect(() => new JobWatcher(executor, { backoffFactor: 0.5 })).toThrow(/backoffFactor must be >= 1/);
    expect(() => new JobWatcher(executor, { initialIntervalMs: 10_000, maxIntervalMs: 5000 })).toThrow(
      /maxIntervalMs \(5000\) must be >= initialIntervalMs \(10000\)/,
    );
    expect(() => new JobWatcher(executor, { initialIntervalMs: Number.NaN })).toThrow(RangeError);
    expect(() => new JobWatcher(executor).watch('1', { queueTimeoutMs: 0 })).toThrow(
      /queueTimeoutMs must be a positive/,
    );
    expect(() => new JobWatcher(executor).watch('x')).toThrow(TypeError);
  });

  it('is disposable, and close() ends watches normally', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'PENDING|Priority|');
    let watch: ReturnType<typeof collect>;
    {
      using watcher = new JobWatcher(executor);
      watch = collect(watcher.watch('1'));
      await vi.advanceTimersByTimeAsync(0);
    }
    await watch.finished;
    expect(watch.error).toBeUndefined();
    expect(summaries(watch.events)).toEqual(['1 PENDING (Priority)']);
  });
});

describe('watchJobs', () => {
  it('watches a fixed set of jobs to the end with a watcher of its own', async () => {
    const { queue, accounting, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    accounting.set('2', 'OUT_OF_MEMORY|0:125|OutOfMemory|n2');
    const watch = collect(watchJobs(executor, ['1', '2'], { initialIntervalMs: 500, maxIntervalMs: 500 }));
    await vi.advanceTimersByTimeAsync(0);
    queue.set('1', 'FAILED|NonZeroExitCode|n1');
    accounting.set('1', 'FAILED|3:0|NonZeroExitCode|n1');
    await vi.advanceTimersByTimeAsync(500);
    await watch.finished;
    expect(summaries(watch.events)).toEqual([
      '1 RUNNING on n1',
      '2 OUT_OF_MEMORY (OutOfMemory), signal 125',
      '1 FAILED (NonZeroExitCode), exit 3',
    ]);
    expect(watch.error).toBeUndefined();
  });

  it('rejects with ERR_ABORTED on its signal', async () => {
    const { queue, executor } = fakeCluster();
    queue.set('1', 'RUNNING|None|n1');
    const controller = new AbortController();
    const watch = collect(watchJobs(executor, '1', { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    await watch.finished;
    expect(watch.error).toBeInstanceOf(SlurmTransportError);
    expect(watch.error).toMatchObject({ code: 'ERR_ABORTED' });
  });
});
