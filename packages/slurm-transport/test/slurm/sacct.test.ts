import { describe, expect, it } from 'vitest';
import { getJobMetrics, parseSacctMetrics } from '../../src/slurm/index.js';
import { FakeExecutor, failed, ok } from './fake-executor.js';

// `sacct --jobs=4242 --noheader --parsable2 --format=JobID,State,ExitCode,Elapsed,TotalCPU,Start,End,
//  NodeList,NNodes,AllocCPUS,MaxRSS,Reason` on Slurm 22.05 for a two-node job with one srun step.
const FINISHED = [
  '4242|COMPLETED|0:0|00:01:05|01:42.250|2024-05-01T10:00:00|2024-05-01T10:01:05|n[1-2]|2|4||None',
  '4242.batch|COMPLETED|0:0|00:01:05|00:51.100|2024-05-01T10:00:00|2024-05-01T10:01:05|n1|1|2|150324K|',
  '4242.extern|COMPLETED|0:0|00:01:05|00:00.002|2024-05-01T10:00:00|2024-05-01T10:01:05|n[1-2]|2|4|884K|',
  '4242.0|COMPLETED|0:0|00:01:00|00:51.148|2024-05-01T10:00:03|2024-05-01T10:01:03|n[1-2]|2|4|1.50G|',
  '',
].join('\n');

describe('parseSacctMetrics', () => {
  it('summarises a finished job over all its steps', () => {
    const metrics = parseSacctMetrics('4242', FINISHED);
    expect(metrics).toMatchObject({
      jobId: '4242',
      state: 'COMPLETED',
      rawState: 'COMPLETED',
      exitCode: { code: 0, signal: 0 },
      elapsedSeconds: 65,
      startTime: '2024-05-01T10:00:00',
      endTime: '2024-05-01T10:01:05',
      nodeList: 'n[1-2]',
      nodes: 2,
      allocCpus: 4,
      totalCpuSeconds: 102.25,
      maxRssBytes: Math.round(1.5 * 1024 ** 3),
      reason: undefined,
    });
    expect(metrics?.cpuEfficiency).toBeCloseTo(102.25 / (65 * 4), 6);
    expect(metrics?.steps.map((step) => [step.stepId, step.maxRssBytes])).toEqual([
      ['batch', 150_324 * 1024],
      ['extern', 884 * 1024],
      ['0', Math.round(1.5 * 1024 ** 3)],
    ]);
  });

  it('handles a pending job: Unknown times, no nodes, no memory', () => {
    const metrics = parseSacctMetrics(
      '4243',
      '4243|PENDING|0:0|00:00:00|00:00:00|Unknown|Unknown|None assigned|1|2||Resources\n',
    );
    expect(metrics).toMatchObject({
      state: 'PENDING',
      elapsedSeconds: 0,
      startTime: undefined,
      endTime: undefined,
      nodeList: undefined,
      maxRssBytes: undefined,
      cpuEfficiency: undefined,
      reason: 'Resources',
      steps: [],
    });
  });

  it('handles failures, signals, multi-day times and sums step CPU when the job row has none', () => {
    const metrics = parseSacctMetrics(
      '77',
      [
        '77|CANCELLED by 1000|0:15|1-02:03:04||2024-05-01T10:00:00|2024-05-02T12:03:04|n1|1|8||None',
        '77.batch|CANCELLED|0:15|1-02:03:04|10:00:00|2024-05-01T10:00:00|2024-05-02T12:03:04|n1|1|8|2.25G|',
        '77.0|OUT_OF_MEMORY|0:125|1-02:00:00|1-00:00:00|2024-05-01T10:00:10|2024-05-02T12:00:10|n1|1|8|7.90G|',
      ].join('\n'),
    );
    expect(metrics).toMatchObject({
      state: 'CANCELLED',
      rawState: 'CANCELLED by 1000',
      exitCode: { code: 0, signal: 15 },
      elapsedSeconds: 93_784,
      totalCpuSeconds: 36_000 + 86_400,
      maxRssBytes: Math.round(7.9 * 1024 ** 3),
    });
    expect(metrics?.cpuEfficiency).toBeCloseTo(122_400 / (93_784 * 8), 6);
    expect(metrics?.steps[1]).toMatchObject({
      stepId: '0',
      state: 'OUT_OF_MEMORY',
      exitCode: { code: 0, signal: 125 },
    });
  });

  it('caps the CPU efficiency at 1 against rounding', () => {
    const metrics = parseSacctMetrics('5', '5|COMPLETED|0:0|00:00:01|00:02.100|x|y|n1|1|2||None\n');
    expect(metrics?.cpuEfficiency).toBe(1);
  });

  it('returns undefined without an allocation row', () => {
    expect(parseSacctMetrics('1', '')).toBeUndefined();
    expect(parseSacctMetrics('1', '12|COMPLETED|0:0|00:00:01|00:00.000|a|b|n1|1|1||None\n')).toBeUndefined();
  });

  it('rejects rows with the wrong number of fields', () => {
    expect(() => parseSacctMetrics('1', '1|COMPLETED|0:0\n')).toThrow(
      /Could not parse line 1 of sacct output/,
    );
  });
});

describe('getJobMetrics', () => {
  it('runs one sacct with the metrics format', async () => {
    const executor = new FakeExecutor({ sacct: ok(FINISHED) });
    const metrics = await getJobMetrics(executor, '4242');
    expect(metrics.state).toBe('COMPLETED');
    expect(executor.calls.map((call) => call.argv)).toEqual([
      [
        'sacct',
        '--jobs=4242',
        '--noheader',
        '--parsable2',
        '--format=JobID,State,ExitCode,Elapsed,TotalCPU,Start,End,NodeList,NNodes,AllocCPUS,MaxRSS,Reason',
      ],
    ]);
  });

  it('explains disabled accounting', async () => {
    const executor = new FakeExecutor({
      sacct: failed('sacct: error: Slurm accounting storage is disabled\n'),
    });
    await expect(getJobMetrics(executor, '1')).rejects.toMatchObject({
      code: 'ERR_SLURM_QUERY',
      message: expect.stringContaining(
        'Slurm accounting storage is disabled on this cluster. Fix: job metrics need slurmdbd',
      ),
    });
  });

  it('explains a missing record (accounting lag)', async () => {
    const executor = new FakeExecutor({ sacct: ok('') });
    await expect(getJobMetrics(executor, '1')).rejects.toMatchObject({
      code: 'ERR_SLURM_QUERY',
      message: expect.stringMatching(/^sacct has no record of job 1\. Fix: accounting can lag/),
    });
  });

  it('reports sacct failures', async () => {
    const executor = new FakeExecutor({ sacct: failed('sacct: error: slurmdbd: Connection refused\n') });
    await expect(getJobMetrics(executor, '1')).rejects.toMatchObject({
      code: 'ERR_SLURM_QUERY',
      exitCode: 1,
    });
  });

  it('rejects a bad id', async () => {
    await expect(getJobMetrics(new FakeExecutor(), '1 2')).rejects.toThrow(TypeError);
  });
});
