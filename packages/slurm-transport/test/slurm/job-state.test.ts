import { describe, expect, it } from 'vitest';
import {
  compactJobState,
  describeJobState,
  describePendingReason,
  isFailedJobState,
  isSuccessfulJobState,
  isTerminalJobState,
  JOB_STATES,
  type JobState,
  jobPhase,
  normalizeJobState,
} from '../../src/slurm/index.js';

describe('normalizeJobState', () => {
  it.each<[string, JobState]>([
    ['PENDING', 'PENDING'],
    ['PD', 'PENDING'],
    ['pending', 'PENDING'],
    ['R', 'RUNNING'],
    ['CONFIGURING', 'CONFIGURING'],
    ['CF', 'CONFIGURING'],
    ['COMPLETING', 'COMPLETING'],
    ['CG', 'COMPLETING'],
    ['COMPLETED', 'COMPLETED'],
    ['CD', 'COMPLETED'],
    ['FAILED', 'FAILED'],
    ['F', 'FAILED'],
    ['TIMEOUT', 'TIMEOUT'],
    ['TO', 'TIMEOUT'],
    ['OUT_OF_MEMORY', 'OUT_OF_MEMORY'],
    ['OOM', 'OUT_OF_MEMORY'],
    ['NODE_FAIL', 'NODE_FAIL'],
    ['NF', 'NODE_FAIL'],
    ['CANCELLED', 'CANCELLED'],
    ['CANCELLED by 1000', 'CANCELLED'],
    ['CANCELLED by 0', 'CANCELLED'],
    ['CA', 'CANCELLED'],
    ['PREEMPTED', 'PREEMPTED'],
    ['BOOT_FAIL', 'BOOT_FAIL'],
    ['DEADLINE', 'DEADLINE'],
    ['REQUEUED', 'REQUEUED'],
    ['RQ', 'REQUEUED'],
    ['REQUEUE_FED', 'REQUEUE_FED'],
    ['REQUEUE_HOLD', 'REQUEUE_HOLD'],
    ['RESIZING', 'RESIZING'],
    ['REVOKED', 'REVOKED'],
    ['SIGNALING', 'SIGNALING'],
    ['SPECIAL_EXIT', 'SPECIAL_EXIT'],
    ['STAGE_OUT', 'STAGE_OUT'],
    ['STOPPED', 'STOPPED'],
    ['SUSPENDED', 'SUSPENDED'],
    ['S', 'SUSPENDED'],
    ['RESV_DEL_HOLD', 'RESV_DEL_HOLD'],
    // sacct column truncation
    ['CANCELLED+', 'CANCELLED'],
    ['OUT_OF_ME+', 'OUT_OF_MEMORY'],
    ['REQUEUE_H+', 'REQUEUE_HOLD'],
    ['COMPLET+', 'UNKNOWN'],
    // scontrol / --json comma lists: flags win in squeue's order
    ['CANCELLED,COMPLETING', 'COMPLETING'],
    ['PENDING,POWER_UP_NODE', 'PENDING'],
    ['FAILED,LAUNCH_FAILED', 'FAILED'],
    ['  RUNNING\n', 'RUNNING'],
    ['', 'UNKNOWN'],
    ['WEIRD_NEW_STATE', 'UNKNOWN'],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeJobState(raw)).toBe(expected);
  });
});

describe('state predicates', () => {
  const terminal: JobState[] = [
    'COMPLETED',
    'FAILED',
    'TIMEOUT',
    'OUT_OF_MEMORY',
    'NODE_FAIL',
    'CANCELLED',
    'PREEMPTED',
    'BOOT_FAIL',
    'DEADLINE',
    'REVOKED',
  ];

  it.each(JOB_STATES)('%s is classified consistently', (state) => {
    expect(isTerminalJobState(state)).toBe(terminal.includes(state));
    expect(isSuccessfulJobState(state)).toBe(state === 'COMPLETED');
    expect(isFailedJobState(state)).toBe(terminal.includes(state) && state !== 'COMPLETED');
  });

  it.each<[JobState, string]>([
    ['PENDING', 'queued'],
    ['REQUEUE_HOLD', 'queued'],
    ['SPECIAL_EXIT', 'queued'],
    ['CONFIGURING', 'active'],
    ['RUNNING', 'active'],
    ['COMPLETING', 'active'],
    ['SUSPENDED', 'active'],
    ['TIMEOUT', 'finished'],
    ['UNKNOWN', 'unknown'],
  ])('jobPhase(%s) = %s', (state, phase) => {
    expect(jobPhase(state)).toBe(phase);
  });

  it('round-trips every compact code', () => {
    for (const state of JOB_STATES.filter((s) => s !== 'UNKNOWN')) {
      expect(normalizeJobState(compactJobState(state))).toBe(state);
    }
    expect(compactJobState('UNKNOWN')).toBe('?');
  });
});

describe('describeJobState', () => {
  it('has a meaning for every state and a fix for every failure', () => {
    for (const state of JOB_STATES) {
      const description = describeJobState(state);
      expect(description.meaning.length).toBeGreaterThan(10);
      if (isFailedJobState(state) || state === 'REQUEUE_HOLD' || state === 'SPECIAL_EXIT') {
        expect(description.fix, state).toBeDefined();
      }
    }
    expect(describeJobState('COMPLETED').fix).toBeUndefined();
  });

  it('points OUT_OF_MEMORY at mem / mem_per_cpu and TIMEOUT at time_limit / signal_before_timeout', () => {
    expect(describeJobState('OUT_OF_MEMORY').fix).toMatch(/\bmem\b.*mem_per_cpu/);
    expect(describeJobState('TIMEOUT').fix).toMatch(/time_limit.*signal_before_timeout/);
  });
});

describe('describePendingReason', () => {
  it.each([
    ['Resources', false],
    ['Priority', false],
    ['PartitionTimeLimit', true],
    ['JobHeldUser', true],
    ['QOSMaxJobsPerUserLimit', false],
    ['AssocGrpCpuLimit', false],
    ['QOSMaxWallDurationPerJobLimit', true],
    ['DependencyNeverSatisfied', true],
    ['SomethingNew', false],
  ])('%s → blocked=%s', (reason, blocked) => {
    const description = describePendingReason(reason);
    expect(description.blocked).toBe(blocked);
    expect(description.reason).toBe(reason);
    if (blocked) expect(description.fix).toBeDefined();
  });
});
