import type { ExecResult, JobState, JobStateChange, RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { describe, expect, it } from 'vitest';
import { followJob } from '../../src/slurm/follow-job.js';
import { RequeueTracker } from '../../src/slurm/requeue-tracker.js';
import { waitProgressLine } from '../../src/slurm/wait-progress.js';

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0, signal: null });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function change(state: JobState, previousState?: JobState, reason?: string): JobStateChange {
  return {
    jobId: '9',
    state,
    reason,
    previousState,
    status: { jobId: '9', state, reason } as unknown as JobStateChange['status'],
    summary: reason === undefined ? state : `${state} (${reason})`,
    terminal: state === 'COMPLETED' || state === 'NODE_FAIL',
    observedAt: Date.now(),
  };
}

describe('RequeueTracker', () => {
  it('counts a return to the queue after the job held an allocation, once per requeue', () => {
    const tracker = new RequeueTracker();
    expect(tracker.observe(change('PENDING'))).toBeUndefined();
    expect(tracker.observe(change('RUNNING', 'PENDING'))).toBeUndefined();
    const line = tracker.observe(change('PENDING', 'RUNNING', 'BeginTime'));
    expect(line).toMatch(/^Slurm job 9 was requeued \(RUNNING → PENDING\), requeue 1: .*same job id/);
    expect(line).toContain('scancel 9');
    // Still queued (reason changes): not another requeue.
    expect(tracker.observe(change('PENDING', 'PENDING', 'Priority'))).toBeUndefined();
    expect(tracker.observe(change('COMPLETING', 'PENDING'))).toBeUndefined();
    expect(tracker.observe(change('REQUEUE_HOLD', 'COMPLETING'))).toMatch(/requeue 2/);
    expect(tracker.requeues).toBe(2);
  });

  it('sees no requeue for a job that only waits and ends', () => {
    const tracker = new RequeueTracker();
    for (const state of ['PENDING', 'PENDING', 'COMPLETED'] as const) tracker.observe(change(state));
    expect(tracker.requeues).toBe(0);
  });
});

describe('waitProgressLine', () => {
  it('names the wait, and for a held job the release command', () => {
    expect(waitProgressLine(change('PENDING', 'RUNNING', 'BeginTime'), 61_000)).toMatch(
      /^still waiting after 61 s: Slurm job 9 PENDING \(BeginTime\): Its --begin time/,
    );
    expect(waitProgressLine(change('PENDING', 'RUNNING', 'job requeued in held state'), 120_000)).toMatch(
      /held.*Fix: Release it with `scontrol release 9`/,
    );
  });

  it('says nothing once the job runs or ended', () => {
    expect(waitProgressLine(change('RUNNING', 'PENDING'), 90_000)).toBeUndefined();
    expect(waitProgressLine(change('COMPLETED', 'RUNNING'), 90_000)).toBeUndefined();
  });
});

describe('followJob through a requeue', () => {
  it('keeps following the same job id back through PENDING, logs the requeue and progress, and returns the final state', async () => {
    const control = { line: 'RUNNING|None|n1' };
    const executor: RemoteExecutor = {
      async exec(argv) {
        return argv[0] === 'squeue' ? ok(`9|${control.line}\n`) : ok('');
      },
    };
    const logs: string[] = [];
    const follower = followJob({
      executor,
      jobId: '9',
      signal: new AbortController().signal,
      log: (line) => logs.push(line),
      initialIntervalMs: 1,
      maxIntervalMs: 2,
      progressIntervalMs: 20,
    });
    await sleep(30);
    control.line = 'PENDING|job requeued in held state|';
    while (!logs.some((l) => l.startsWith('still waiting after'))) await sleep(5);
    control.line = 'RUNNING|None|n2';
    await sleep(30);
    control.line = 'COMPLETED|None|n2';
    const followed = await follower.done;
    expect(followed.final?.state).toBe('COMPLETED');
    expect(followed.requeues).toBe(1);
    expect(logs).toContain('Slurm job 9 RUNNING on n1');
    expect(logs.some((l) => l.startsWith('Slurm job 9 was requeued (RUNNING → PENDING), requeue 1'))).toBe(
      true,
    );
    expect(
      logs.some((l) => /still waiting after \d+ s: .*Fix: Release it with `scontrol release 9`/.test(l)),
    ).toBe(true);
    expect(logs.at(-1)).toMatch(/Slurm job 9 COMPLETED/);
  });
});
