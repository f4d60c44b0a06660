import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StopRequested } from '../../src/run/stop-request.js';
import { findJobByName } from '../../src/slurm/reattach/find-job-by-name.js';
import { detachException, detachReason, recordedOutcome } from '../../src/slurm/reattach/job-outcome.js';
import {
  parseStepRecords,
  readStepRecords,
  type StepJobRecord,
  type StepRecords,
  withCollected,
  withDetach,
  writeJobRecord,
  writeSubmitIntent,
} from '../../src/slurm/reattach/job-record.js';
import { planLaunch } from '../../src/slurm/reattach/launch-plan.js';
import { recoverJobByName } from '../../src/slurm/reattach/recover-by-name.js';
import { prepareRunDir } from '../../src/slurm/remote-files.js';
import { localExecutor, scriptedExecutor } from './reattach-local-executor.js';

const job = (extra: Partial<StepJobRecord> = {}): StepJobRecord => ({
  jobId: '42',
  jobName: 'slurm-pipes-a-0123abcd',
  ...extra,
});
const records = (extra: Partial<StepRecords> = {}): StepRecords => ({
  record: undefined,
  intent: undefined,
  unreadable: [],
  ...extra,
});

describe('planLaunch', () => {
  it.each([
    ['nothing there: submit', records(), 'submit'],
    ['a job nobody collected: reattach', records({ record: job() }), 'reattach'],
    [
      'a detached job: reattach',
      records({ record: job({ detached: [{ at: 'x', reason: 'SIGTERM' }] }) }),
      'reattach',
    ],
    [
      'a collected job: submit anew',
      records({ record: job({ collected: { at: 'x', state: 'FAILED' } }) }),
      'submit',
    ],
    [
      'only submit.json (died between sbatch and job.json): find by name',
      records({ intent: { jobName: 'slurm-pipes-a-ffff0000' } }),
      'find-by-name',
    ],
    [
      'a collected job and a later launch that died after sbatch: find by name',
      records({
        record: job({ collected: { at: 'x' } }),
        intent: { jobName: 'slurm-pipes-a-ffff0000' },
      }),
      'find-by-name',
    ],
    [
      'a collected job and its own submit.json: submit anew',
      records({ record: job({ collected: { at: 'x' } }), intent: { jobName: 'slurm-pipes-a-0123abcd' } }),
      'submit',
    ],
    ['an unreadable job.json: refuse', records({ unreadable: ['job.json: not JSON'] }), 'refuse'],
    [
      'an unreadable submit.json: refuse',
      records({ record: job({ collected: { at: 'x' } }), unreadable: ['submit.json: not JSON'] }),
      'refuse',
    ],
  ])('%s', (_name, input, kind) => {
    expect(planLaunch(input).kind).toBe(kind);
  });
});

describe('parseStepRecords', () => {
  const sep = '\n\x1e\n';
  it('reads present, absent and broken records apart', () => {
    expect(parseStepRecords(`absent\n${sep}absent\n${sep}`)).toEqual(records());
    const both = parseStepRecords(
      `present\n{"jobId":"7","jobName":"n","extra":1}\n${sep}present\n{"jobName":"n"}\n${sep}`,
    );
    expect(both.record).toEqual({ jobId: '7', jobName: 'n', extra: 1 });
    expect(both.intent).toEqual({ jobName: 'n' });
    const broken = parseStepRecords(`present\n{"jobId":"7"${sep}present\n{"jobId":"x; rm -rf /"}${sep}`);
    expect(broken.record).toBeUndefined();
    expect(broken.unreadable).toHaveLength(2);
    expect(broken.unreadable[0]).toMatch(/^job\.json: not JSON/);
    expect(broken.unreadable[1]).toMatch(/^submit\.json: /);
  });

  it('refuses a job id that is not one', () => {
    expect(parseStepRecords(`present\n{"jobId":"1;2"}${sep}absent\n${sep}`).unreadable).toHaveLength(1);
  });
});

describe('record updates', () => {
  it('keeps unknown fields and appends detach events', () => {
    const base = { ...job(), fromNewerBridge: true } as StepJobRecord;
    const at = new Date('2026-01-01T00:00:00Z');
    const detached = withDetach(withDetach(base, 'SIGTERM', at), 'run limit', at);
    expect(detached.fromNewerBridge).toBe(true);
    expect(detached.detached?.map((e) => e.reason)).toEqual(['SIGTERM', 'run limit']);
    const collected = withCollected(detached, 'COMPLETED', 'run-2', at);
    expect(collected.collected).toEqual({
      at: '2026-01-01T00:00:00.000Z',
      state: 'COMPLETED',
      runId: 'run-2',
    });
    expect(planLaunch(records({ record: collected })).kind).toBe('submit');
  });

  it.each([
    [
      { final: undefined, detached: true },
      new StopRequested('SIGTERM'),
      { kind: 'detached', reason: 'SIGTERM' },
    ],
    [
      { final: undefined, detached: true, limitReached: 'queue' as const },
      undefined,
      { kind: 'detached', reason: 'queue limit' },
    ],
    [{ final: undefined, detached: false }, new StopRequested('SIGINT'), { kind: 'unsettled' }],
  ])('classifies %o', (followed, reason, outcome) => {
    expect(recordedOutcome(followed, undefined, reason)).toEqual(outcome);
  });

  it('says in the detach exception that the job keeps running and a re-launch reattaches', () => {
    expect(detachReason({}, new StopRequested('SIGTERM'))).toBe('SIGTERM');
    const { message, name } = detachException('42', 'SIGTERM', '/r/job.json');
    expect(name).toBe('SlurmJobDetached');
    expect(message).toMatch(/^Slurm job 42 keeps running: slurm-pipes received SIGTERM/);
    expect(message).toMatch(/A re-launch of this step .* reattaches to it/);
    expect(message).toContain('never submitted again');
    expect(message).toContain('scancel 42');
  });
});

describe('records on a real file system', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reattach-records-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes job.json and submit.json atomically (0600, no temporary left) and reads them back', async () => {
    const exec = localExecutor();
    const runDir = join(dir, 'runs', 'r', 'step');
    const record = join(runDir, 'job.json');
    const intent = join(runDir, 'submit.json');
    expect(await readStepRecords(exec, record, intent)).toEqual(records());
    await writeSubmitIntent(exec, intent, 'slurm-pipes-step-00000000');
    await writeJobRecord(exec, record, job({ jobName: 'slurm-pipes-step-00000000' }));
    const read = await readStepRecords(exec, record, intent);
    expect(read.record).toEqual(job({ jobName: 'slurm-pipes-step-00000000' }));
    expect(read.intent?.jobName).toBe('slurm-pipes-step-00000000');
    expect(read.intent?.pid).toBe(process.pid);
    expect((await stat(record)).mode & 0o777).toBe(0o600);
    expect((await readdir(runDir)).sort()).toEqual(['job.json', 'submit.json']);
    expect(exec.calls.some((argv) => argv.some((a) => a.includes('sync --')))).toBe(true);
  });

  it('keeps the previous job record as job.<id>.json when the step is prepared anew', async () => {
    const exec = localExecutor();
    const runDir = join(dir, 'step');
    await writeJobRecord(exec, join(runDir, 'job.json'), job({ jobId: '1234', collected: { at: 'x' } }));
    await writeSubmitIntent(exec, join(runDir, 'submit.json'), 'old');
    await writeFile(join(runDir, 'messages.jsonl'), 'old message\n');
    await prepareRunDir(exec, runDir, '{"run_id":"r"}', []);
    expect((await readdir(runDir)).sort()).toEqual([
      'context.json',
      'job.1234.json',
      'messages.jsonl',
      'stderr',
      'stdout',
    ]);
    expect(await readFile(join(runDir, 'messages.jsonl'), 'utf8')).toBe('');
    expect(JSON.parse(await readFile(join(runDir, 'job.1234.json'), 'utf8')).jobId).toBe('1234');
  });
});

describe('findJobByName', () => {
  it('asks squeue first, then sacct, and retries before answering "none"', async () => {
    const fromQueue = scriptedExecutor((argv) => ({ stdout: argv[0] === 'squeue' ? '77\n' : '' }));
    expect(await findJobByName(fromQueue, 'n')).toBe('77');
    expect(fromQueue.calls).toHaveLength(1);
    expect(fromQueue.calls[0]).toContain('--name=n');

    const fromAccounting = scriptedExecutor((argv) => ({ stdout: argv[0] === 'sacct' ? '70\n71\n' : '' }));
    expect(await findJobByName(fromAccounting, 'n')).toBe('71');

    const none = scriptedExecutor(() => ({ stdout: '' }));
    expect(await findJobByName(none, 'n', { retries: 2, retryDelayMs: 0 })).toBeUndefined();
    expect(none.calls).toHaveLength(6);
  });

  it('fails rather than answering "none" when Slurm does not answer', async () => {
    const down = scriptedExecutor(() => ({
      exitCode: 1,
      stderr: 'slurm_load_jobs error: Unable to contact slurm controller',
    }));
    await expect(findJobByName(down, 'n')).rejects.toMatchObject({ code: 'ERR_BRIDGE_RELAY' });
  });
});

describe('recoverJobByName (a launch died between sbatch and job.json)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reattach-recover-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // squeue and sacct answer from `known`; everything else runs on this machine.
  function cluster(known: Record<string, string>) {
    const local = localExecutor();
    return {
      exec: (argv: readonly string[], options?: Parameters<typeof local.exec>[1]) => {
        if (argv[0] !== 'squeue' && argv[0] !== 'sacct') return local.exec(argv, options);
        const name = argv.find((a) => a.startsWith('--name='))?.slice('--name='.length) ?? '';
        return Promise.resolve({ stdout: known[name] ?? '', stderr: '', exitCode: 0, signal: null });
      },
    };
  }
  const launch = (jobName: string, lines: string[] = []) => ({
    jobName,
    runDir: dir,
    files: {
      messages: join(dir, 'messages.jsonl'),
      stdout: join(dir, 'stdout'),
      stderr: join(dir, 'stderr'),
      record: join(dir, 'job.json'),
      intent: join(dir, 'submit.json'),
    },
    log: (line: string) => lines.push(line),
  });

  it('writes the missing job.json of a job Slurm knows by its name', async () => {
    const found = await recoverJobByName(
      cluster({ 'slurm-pipes-a-1': '88\n' }),
      launch('slurm-pipes-a-1'),
      (jobId) => job({ jobId, jobName: 'slurm-pipes-a-1' }),
    );
    expect(found).toMatchObject({ jobId: '88', recoveredByName: true });
    expect(JSON.parse(await readFile(join(dir, 'job.json'), 'utf8'))).toMatchObject({ jobId: '88' });
  });

  it('lets the caller submit when the launch died before sbatch (no job, no output)', async () => {
    const lines: string[] = [];
    const found = await recoverJobByName(cluster({}), launch('slurm-pipes-a-2', lines), () => job());
    expect(found).toBeUndefined();
    expect(lines.join('\n')).toMatch(/stopped before Slurm accepted its job/);
  }, 15_000);

  it('refuses when a job ran (its output is there) but Slurm forgot it', async () => {
    await writeFile(join(dir, 'stdout'), 'the payload ran\n');
    await expect(recoverJobByName(cluster({}), launch('slurm-pipes-a-3'), () => job())).rejects.toMatchObject(
      {
        code: 'ERR_BRIDGE_RELAY',
        message: expect.stringMatching(/Nothing was submitted, so the step does not run twice/),
      },
    );
  }, 15_000);
});
