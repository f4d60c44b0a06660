// Payload and extra files are linked into the step's run directory by base name, next to the
// files slurm-pipes keeps there. A payload or extra file named like one of those must be refused
// before anything is uploaded: linked in, it would replace the job's context, its launcher, or the
// reattach records and lock that keep a step from being submitted twice.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNames, isReservedName } from '../src/slurm/payload/stage-payload.js';
import { acquireStepLock } from '../src/slurm/reattach/step-lock.js';
import { prepareRunDir, writeRemoteFile } from '../src/slurm/remote-files.js';
import { runDirFiles } from '../src/slurm/submit-step.js';
import { localExecutor } from './slurm/reattach-local-executor.js';

const quiet = () => {};

describe('files slurm-pipes keeps in the run directory', () => {
  let scratch: string;
  let written: string[];

  // What the real scripts leave in a run directory after a step was launched twice: the second
  // launch keeps the first job's record as job.<id>.json and holds the lock.
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'reserved-names-'));
    const runDir = join(scratch, 'runs', 'r', 'step');
    const exec = localExecutor();
    const files = runDirFiles(runDir);
    const lock = await acquireStepLock(exec, runDir, { log: quiet });
    await prepareRunDir(exec, runDir, '{}', []);
    await writeRemoteFile(exec, files.intent, '{"jobName": "slurm-pipes-s-1"}\n', 0o600, { durable: true });
    await writeRemoteFile(exec, files.script, '#!/bin/bash\n', 0o700);
    await writeRemoteFile(exec, files.record, '{\n  "jobId": "4242_7",\n  "jobName": "n"\n}\n', 0o600);
    await prepareRunDir(exec, runDir, '{}', []);
    await writeRemoteFile(exec, files.intent, '{"jobName": "slurm-pipes-s-2"}\n', 0o600, { durable: true });
    await writeRemoteFile(exec, files.record, '{\n  "jobId": "4243",\n  "jobName": "n"\n}\n', 0o600);
    written = (await readdir(runDir)).sort();
    await lock.release();
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('are all reserved, the lock and earlier jobs’ records included', () => {
    expect(written).toEqual(
      [
        '.lock',
        'context.json',
        'job.4242_7.json',
        'job.json',
        'job.sh',
        'messages.jsonl',
        'stderr',
        'stdout',
        'submit.json',
      ].sort(),
    );
    expect(written.filter((name) => !isReservedName(name))).toEqual([]);
    expect(
      [
        'job.previous.json',
        'context.json.tmp',
        'job.sh.tmp.812',
        'job.json.tmp.9',
        'submit.json.tmp.77',
      ].filter((name) => !isReservedName(name)),
    ).toEqual([]);
  });

  it('leaves similar names free', () => {
    const free = [
      'job.json.bak',
      'job.x.json',
      'jobs.json',
      'submit.json.txt',
      'lock',
      '.lock2',
      'Stdout',
      'data.csv',
    ];
    expect(free.filter((name) => isReservedName(name))).toEqual([]);
    expect(
      checkNames(
        'payload.py',
        free.map((name) => join(scratch, name)),
      ),
    ).toEqual(free.map((name) => join(scratch, name)));
  });

  it('refuses an extra file named like one, naming the file and the fix', () => {
    for (const name of [...written, 'job.17.json']) {
      const local = join(scratch, 'data', name);
      expect(() => checkNames('payload.py', ['other.txt', local]), name).toThrow(
        expect.objectContaining({
          code: 'ERR_BRIDGE_CONFIG',
          message: `extra file ${local} would land in the run directory as ${JSON.stringify(name)}, which is already a file slurm-pipes writes. Extra files are placed next to the payload by base name; rename it.`,
        }),
      );
    }
  });

  it('refuses a payload named like one', () => {
    for (const name of [...written, 'job.17.json']) {
      expect(() => checkNames(name, []), name).toThrow(
        expect.objectContaining({
          code: 'ERR_BRIDGE_PAYLOAD',
          message: `The payload would land in the run directory as ${JSON.stringify(name)}, which is a file slurm-pipes writes there. Rename the payload.`,
        }),
      );
    }
  });

  it('refuses two files of the same base name, or an extra file named like the payload', () => {
    expect(() => checkNames('train.py', ['a/train.py'])).toThrow(/which is already the payload/);
    expect(() => checkNames('train.py', ['a/data.csv', 'b/data.csv'])).toThrow(
      `extra file ${join(process.cwd(), 'b/data.csv')} would land in the run directory as "data.csv", which is already ${join(process.cwd(), 'a/data.csv')}.`,
    );
  });
});
