import type { PipesException } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { describeExitCode, jobExitCode, jobFailureException } from '../../src/slurm/job-failure.js';

const base = {
  jobId: '123',
  runDir: '/home/u/.slurm-pipes/runs/r/step-abc',
  stderrTail: ['Traceback (most recent call last):', '  File "p.py", line 3', 'ValueError: boom'],
  cancelledByBridge: false,
};

describe('jobFailureException', () => {
  it('names state, exit code, reason, meaning, fix, run dir and the stderr tail', () => {
    const exception = jobFailureException(
      { ...base, state: 'FAILED', exitCode: { code: 1, signal: 0 }, reason: 'NonZeroExitCode' },
      null,
    );
    expect(exception.name).toBe('SlurmJobFailed');
    expect(exception.message).toMatchInlineSnapshot(`
      "Slurm job 123 ended FAILED (exit code 1, reason NonZeroExitCode).
      The batch script exited with a non-zero code, or a job step could not be launched.
      Fix: Read the job’s stderr file for the error; the exit code says which command failed.
      Run directory on the cluster: /home/u/.slurm-pipes/runs/r/step-abc (job.sh, stdout, stderr, messages.jsonl).
      Last 3 line(s) of the job's stderr:
        | Traceback (most recent call last):
        |   File "p.py", line 3
        | ValueError: boom
      "
    `);
  });

  it.each([
    ['TIMEOUT', /time_limit/],
    ['OUT_OF_MEMORY', /Raise mem/],
    ['NODE_FAIL', /Re-run the job/],
    ['PREEMPTED', /not preemptible/],
    ['BOOT_FAIL', /failed to boot/],
    ['DEADLINE', /--deadline/],
    ['CANCELLED', /sacct -j 123/],
  ] as const)('explains %s with its fix', (state, fix) => {
    const exception = jobFailureException({ ...base, state, exitCode: undefined, reason: undefined }, null);
    expect(exception.message).toContain(`Slurm job 123 ended ${state} (unknown exit code)`);
    expect(exception.message).toMatch(fix);
  });

  it("carries the payload's exception as the cause", () => {
    const payload: PipesException = {
      message: 'ValueError: boom\n',
      stack: ['  File "p.py", line 3\n'],
      name: 'ValueError',
      cause: null,
      context: null,
    };
    const exception = jobFailureException(
      { ...base, state: 'FAILED', exitCode: { code: 1, signal: 0 }, reason: undefined },
      payload,
    );
    expect(exception.cause).toBe(payload);
  });

  it('says when slurm-pipes cancelled the job, and when stderr is empty', () => {
    const exception = jobFailureException(
      {
        ...base,
        state: 'CANCELLED',
        exitCode: { code: 0, signal: 15 },
        reason: undefined,
        cancelledByBridge: true,
        stderrTail: [],
      },
      null,
    );
    expect(exception.name).toBe('SlurmJobCancelled');
    expect(exception.message).toContain('was cancelled by slurm-pipes because the step was terminated');
    expect(exception.message).toContain("The job's stderr is empty.");
  });
});

describe('jobExitCode', () => {
  it.each([
    [{ state: 'COMPLETED', exitCode: { code: 0, signal: 0 }, cancelledByBridge: false }, 0],
    [{ state: 'FAILED', exitCode: { code: 3, signal: 0 }, cancelledByBridge: false }, 3],
    [{ state: 'TIMEOUT', exitCode: { code: 0, signal: 15 }, cancelledByBridge: false }, 143],
    [{ state: 'OUT_OF_MEMORY', exitCode: { code: 0, signal: 0 }, cancelledByBridge: false }, 1],
    [{ state: 'CANCELLED', exitCode: { code: 0, signal: 15 }, cancelledByBridge: true }, 130],
    [{ state: 'NODE_FAIL', exitCode: undefined, cancelledByBridge: false }, 1],
  ] as const)('%j → %i', (outcome, code) => {
    expect(jobExitCode(outcome)).toBe(code);
  });

  it('describes exit codes', () => {
    expect(describeExitCode({ code: 0, signal: 9 })).toBe('exit code 0, signal 9');
    expect(describeExitCode(undefined)).toBe('unknown exit code');
  });
});
