// A job killed by slurmstepd's polling memory enforcement (OverMemoryKill, clusters without cgroups)
// is recorded FAILED by Slurm; the step's exception explains it as OUT_OF_MEMORY. The stderr lines
// are those Slurm 22.05 wrote on the test cluster.
import { describe, expect, it } from 'vitest';
import { explainedJobState, jobFailureException } from '../../src/slurm/job-failure.js';

const killed = [
  'slurmstepd-n1: error: StepId=21.batch exceeded memory limit (324464640 > 52428800), being killed',
  'slurmstepd-n1: error: Exceeded job memory limit',
  'slurmstepd-n1: error: *** JOB 21 ON n1 CANCELLED AT 2026-11-22T19:10:19 ***',
];
const base = {
  jobId: '21',
  runDir: '/home/u/.slurm-pipes/runs/r/step-abc',
  exitCode: { code: 0, signal: 9 },
  reason: undefined,
  cancelledByBridge: false,
};

describe('explainedJobState', () => {
  it.each(['FAILED', 'CANCELLED'] as const)(
    'takes %s with slurmstepd’s memory kill as OUT_OF_MEMORY',
    (state) => {
      expect(explainedJobState({ state, stderrTail: killed, cancelledByBridge: false })).toBe(
        'OUT_OF_MEMORY',
      );
    },
  );

  it('keeps the recorded state otherwise', () => {
    const plain = ['Traceback (most recent call last):', 'MemoryError'];
    expect(explainedJobState({ state: 'FAILED', stderrTail: plain, cancelledByBridge: false })).toBe(
      'FAILED',
    );
    expect(explainedJobState({ state: 'COMPLETED', stderrTail: killed, cancelledByBridge: false })).toBe(
      'COMPLETED',
    );
    expect(explainedJobState({ state: 'CANCELLED', stderrTail: killed, cancelledByBridge: true })).toBe(
      'CANCELLED',
    );
    // Only slurmstepd's own line counts, not a payload quoting it mid-line.
    const quoted = ['print("slurmstepd: error: Exceeded job memory limit")'];
    expect(explainedJobState({ state: 'FAILED', stderrTail: quoted, cancelledByBridge: false })).toBe(
      'FAILED',
    );
  });
});

describe('jobFailureException for a memory kill', () => {
  it('names what Slurm recorded, OUT_OF_MEMORY, and the fix', () => {
    const exception = jobFailureException({ ...base, state: 'FAILED', stderrTail: killed }, null);
    expect(exception.name).toBe('SlurmJobFailed');
    expect(exception.message.split('\n').slice(0, 4)).toEqual([
      'Slurm job 21 ended FAILED (exit code 0, signal 9).',
      'slurmstepd killed it for exceeding its memory limit (see stderr below), so this is OUT_OF_MEMORY: Slurm records FAILED where memory is enforced by polling rather than cgroups.',
      'A process of the job used more memory than the job was allocated and was killed by the OOM killer.',
      'Fix: Raise mem (memory per node, e.g. "16G") or mem_per_cpu; the job’s MaxRSS (getJobMetrics) shows how much it used.',
    ]);
  });

  it('adds nothing when Slurm itself recorded OUT_OF_MEMORY', () => {
    const exception = jobFailureException({ ...base, state: 'OUT_OF_MEMORY', stderrTail: [] }, null);
    expect(exception.message).not.toContain('slurmstepd killed it');
    expect(exception.message).toMatch(/^Slurm job 21 ended OUT_OF_MEMORY .*\n.*OOM killer\.\nFix: Raise mem/);
  });
});
