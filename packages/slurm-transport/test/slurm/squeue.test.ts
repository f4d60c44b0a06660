import { describe, expect, it } from 'vitest';
import { isSlurmTransportError } from '../../src/errors.js';
import {
  formatJobStatus,
  type JobStatus,
  parseSacctStates,
  parseSqueueOutput,
  queryJobStates,
} from '../../src/slurm/index.js';
import { FakeExecutor, failed, ok } from './fake-executor.js';

// `squeue --jobs=... --states=all --noheader --format=%i|%T|%r|%N` on Slurm 22.05.
const SQUEUE = [
  '101|PENDING|Resources|',
  '102|PENDING|Priority|',
  '103|RUNNING|None|n1',
  '104|COMPLETING|None|n[1-2]',
  '105|COMPLETED|None|n2',
  '108|PENDING|QOSMaxJobsPerUserLimit|',
  '',
].join('\n');

// `sacct --jobs=... --allocations --noheader --parsable2 --format=JobID,State,ExitCode,Reason,NodeList`.
const SACCT = [
  '105|COMPLETED|0:0|None|n2',
  '106|CANCELLED by 1000|0:15|None|n1',
  '107|OUT_OF_MEMORY|0:125|OutOfMemory|n2',
  '109|FAILED|2:0|NonZeroExitCode|n1',
  '',
].join('\n');

describe('parseSqueueOutput', () => {
  it('parses every row, mapping None and empty fields to undefined', () => {
    expect(parseSqueueOutput(SQUEUE)).toEqual([
      {
        jobId: '101',
        state: 'PENDING',
        rawState: 'PENDING',
        reason: 'Resources',
        nodes: undefined,
        source: 'squeue',
      },
      {
        jobId: '102',
        state: 'PENDING',
        rawState: 'PENDING',
        reason: 'Priority',
        nodes: undefined,
        source: 'squeue',
      },
      {
        jobId: '103',
        state: 'RUNNING',
        rawState: 'RUNNING',
        reason: undefined,
        nodes: 'n1',
        source: 'squeue',
      },
      {
        jobId: '104',
        state: 'COMPLETING',
        rawState: 'COMPLETING',
        reason: undefined,
        nodes: 'n[1-2]',
        source: 'squeue',
      },
      {
        jobId: '105',
        state: 'COMPLETED',
        rawState: 'COMPLETED',
        reason: undefined,
        nodes: 'n2',
        source: 'squeue',
      },
      {
        jobId: '108',
        state: 'PENDING',
        rawState: 'PENDING',
        reason: 'QOSMaxJobsPerUserLimit',
        nodes: undefined,
        source: 'squeue',
      },
    ]);
  });

  it('handles array and heterogeneous job ids and CRLF', () => {
    expect(parseSqueueOutput('200_3|RUNNING|None|n1\r\n201+1|PENDING|None|\n').map((s) => s.jobId)).toEqual([
      '200_3',
      '201+1',
    ]);
  });

  it('returns nothing for empty output', () => {
    expect(parseSqueueOutput('')).toEqual([]);
    expect(parseSqueueOutput('\n\n')).toEqual([]);
  });

  it.each([
    ['JOBID|STATE|REASON|NODELIST', /expected a job id such as 123/],
    ['101|PENDING|Resources', /line 1 of squeue output "101\|PENDING\|Resources"/],
    ['101||Resources|', /expected a job state/],
  ])('rejects %j with ERR_SLURM_QUERY and the zod issues', (line, message) => {
    let error: unknown;
    try {
      parseSqueueOutput(line);
    } catch (e) {
      error = e;
    }
    expect(isSlurmTransportError(error, 'ERR_SLURM_QUERY')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).cause).toBeDefined();
  });
});

describe('parseSacctStates', () => {
  it('parses states with exit codes and skips step rows', () => {
    const rows = parseSacctStates(`${SACCT}106.batch|CANCELLED|0:15||n1\n`);
    expect(rows.map((row) => [row.jobId, row.state, row.rawState, row.exitCode, row.reason])).toEqual([
      ['105', 'COMPLETED', 'COMPLETED', { code: 0, signal: 0 }, undefined],
      ['106', 'CANCELLED', 'CANCELLED by 1000', { code: 0, signal: 15 }, undefined],
      ['107', 'OUT_OF_MEMORY', 'OUT_OF_MEMORY', { code: 0, signal: 125 }, 'OutOfMemory'],
      ['109', 'FAILED', 'FAILED', { code: 2, signal: 0 }, 'NonZeroExitCode'],
    ]);
  });
});

describe('queryJobStates', () => {
  it('asks squeue once for all jobs and sacct once for the forgotten and finished ones', async () => {
    const executor = new FakeExecutor({ squeue: ok(SQUEUE), sacct: ok(SACCT) });
    const ids = ['101', '102', '103', '104', '105', '106', '107', '108', '110'];
    const states = await queryJobStates(executor, ids);

    expect(executor.calls.map((call) => call.argv)).toEqual([
      ['squeue', `--jobs=${ids.join(',')}`, '--states=all', '--noheader', '--format=%i|%T|%r|%N'],
      [
        'sacct',
        '--jobs=105,106,107,110',
        '--allocations',
        '--noheader',
        '--parsable2',
        '--format=JobID,State,ExitCode,Reason,NodeList',
      ],
    ]);
    expect([...states.keys()].sort()).toEqual(['101', '102', '103', '104', '105', '106', '107', '108']);
    expect(states.get('101')).toMatchObject({ state: 'PENDING', reason: 'Resources', source: 'squeue' });
    expect(states.get('105')).toMatchObject({
      state: 'COMPLETED',
      source: 'squeue',
      exitCode: { code: 0, signal: 0 },
    });
    expect(states.get('106')).toMatchObject({
      state: 'CANCELLED',
      source: 'sacct',
      exitCode: { code: 0, signal: 15 },
    });
    expect(states.get('107')).toMatchObject({ state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', nodes: 'n2' });
    expect(states.has('109')).toBe(false); // sacct row for a job nobody asked about
    expect(states.has('110')).toBe(false);
  });

  it('skips sacct when squeue knows every job and none finished', async () => {
    const executor = new FakeExecutor({ squeue: ok('101|PENDING|Resources|\n103|RUNNING|None|n1\n') });
    const states = await queryJobStates(executor, ['101', '103', '101']);
    expect(states.size).toBe(2);
    expect(executor.argvs('sacct')).toHaveLength(0);
    expect(executor.argvs('squeue')[0]).toContain('--jobs=101,103');
  });

  it('runs nothing for an empty list', async () => {
    const executor = new FakeExecutor();
    expect((await queryJobStates(executor, [])).size).toBe(0);
    expect(executor.calls).toHaveLength(0);
  });

  it('treats squeue "Invalid job id specified" as "not in squeue" and falls back to sacct', async () => {
    const executor = new FakeExecutor({
      squeue: failed('slurm_load_jobs error: Invalid job id specified\n'),
      sacct: ok('106|CANCELLED by 1000|0:15|None|n1\n'),
    });
    const states = await queryJobStates(executor, ['106']);
    expect(states.get('106')).toMatchObject({
      state: 'CANCELLED',
      rawState: 'CANCELLED by 1000',
      source: 'sacct',
    });
  });

  it('tolerates disabled accounting', async () => {
    const executor = new FakeExecutor({
      squeue: ok('103|RUNNING|None|n1\n'),
      sacct: failed('sacct: error: Slurm accounting storage is disabled\n'),
    });
    const states = await queryJobStates(executor, ['103', '999']);
    expect([...states.keys()]).toEqual(['103']);
  });

  it('fails with ERR_SLURM_QUERY when squeue fails', async () => {
    const executor = new FakeExecutor({
      squeue: failed('slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n'),
    });
    await expect(queryJobStates(executor, ['1'])).rejects.toMatchObject({
      code: 'ERR_SLURM_QUERY',
      message: expect.stringMatching(
        /^squeue could not list jobs 1 \(exit code 1\)\.\nsqueue said: slurm_load_jobs error: Unable to contact slurm controller \(connect failure\)\nFix: slurmctld is down/,
      ),
    });
  });

  it('fails with ERR_SLURM_QUERY when sacct cannot reach slurmdbd', async () => {
    const executor = new FakeExecutor({
      squeue: ok(''),
      sacct: failed('sacct: error: Problem talking to the database: Connection refused\n'),
    });
    await expect(queryJobStates(executor, ['1'])).rejects.toMatchObject({
      code: 'ERR_SLURM_QUERY',
      message: expect.stringContaining('Fix: slurmdbd (accounting) is not reachable'),
    });
  });

  it('rejects ids that are not job ids before running anything', async () => {
    const executor = new FakeExecutor();
    await expect(queryJobStates(executor, ['12; rm -rf ~'])).rejects.toThrow(TypeError);
    expect(executor.calls).toHaveLength(0);
  });
});

describe('formatJobStatus', () => {
  const base: JobStatus = {
    jobId: '1',
    state: 'PENDING',
    rawState: 'PENDING',
    reason: 'Resources',
    nodes: undefined,
    source: 'squeue',
  };
  it.each<[Partial<JobStatus>, string]>([
    [{}, 'PENDING (Resources)'],
    [{ state: 'RUNNING', reason: undefined, nodes: 'n[1-2]' }, 'RUNNING on n[1-2]'],
    [
      { state: 'FAILED', reason: 'NonZeroExitCode', nodes: 'n1', exitCode: { code: 1, signal: 0 } },
      'FAILED (NonZeroExitCode), exit 1',
    ],
    [{ state: 'CANCELLED', reason: undefined, exitCode: { code: 0, signal: 15 } }, 'CANCELLED, signal 15'],
  ])('%j → %s', (patch, text) => {
    expect(formatJobStatus({ ...base, ...patch })).toBe(text);
  });
});
