import { describe, expect, it } from 'vitest';
import { buildScancelArgv, cancelJob } from '../../src/slurm/index.js';
import { FakeExecutor, failed, ok } from './fake-executor.js';

describe('buildScancelArgv', () => {
  it.each([
    [{}, ['scancel', '--verbose', '42']],
    [{ killSignal: 'USR1' as const }, ['scancel', '--verbose', '--signal=USR1', '42']],
    [
      { killSignal: 'TERM' as const, batchOnly: true },
      ['scancel', '--verbose', '--signal=TERM', '--batch', '42'],
    ],
  ])('%j', (options, argv) => {
    expect(buildScancelArgv('42', options)).toEqual(argv);
  });

  it('rejects bad options', () => {
    expect(() => buildScancelArgv('42', { batchOnly: true })).toThrow(/batchOnly needs killSignal/);
    expect(() => buildScancelArgv('42', { killSignal: 'SIGTERM' as never })).toThrow(
      /killSignal must be one of TERM/,
    );
    expect(() => buildScancelArgv('4 2')).toThrow(TypeError);
  });
});

describe('cancelJob', () => {
  it('requests the cancellation', async () => {
    const executor = new FakeExecutor({ scancel: ok('', 'scancel: Terminating job 42\n') });
    await expect(cancelJob(executor, '42')).resolves.toBe('requested');
    expect(executor.argvs('scancel')).toEqual([['scancel', '--verbose', '42']]);
  });

  // Slurm 22.05 prints these (after "scancel: Terminating job 42") and exits 0.
  it.each([
    'scancel: Terminating job 42\nscancel: error: Kill job error on job id 42: Job/step already completing or completed\n',
    'scancel: Terminating job 42\nscancel: error: Kill job error on job id 42: Invalid job id specified\n',
  ])('treats %j as already finished, whatever the exit code', async (stderr) => {
    await expect(cancelJob(new FakeExecutor({ scancel: failed(stderr) }), '42')).resolves.toBe(
      'already-finished',
    );
    await expect(cancelJob(new FakeExecutor({ scancel: ok('', stderr) }), '42')).resolves.toBe(
      'already-finished',
    );
  });

  it('fails with ERR_SLURM_CANCEL and a fix otherwise', async () => {
    const executor = new FakeExecutor({
      scancel: failed('scancel: error: Kill job error on job id 42: Access/permission denied\n'),
    });
    await expect(cancelJob(executor, '42')).rejects.toMatchObject({
      code: 'ERR_SLURM_CANCEL',
      message: expect.stringMatching(
        /^scancel could not cancel job 42 \(exit code 1\)\.\n.*\nFix: Only the job’s owner/s,
      ),
    });
  });

  it('treats an error line as failure even with exit code 0', async () => {
    const executor = new FakeExecutor({
      scancel: ok(
        '',
        'scancel: Terminating job 42\nscancel: error: Kill job error on job id 42: Access/permission denied\n',
      ),
    });
    await expect(cancelJob(executor, '42')).rejects.toMatchObject({
      code: 'ERR_SLURM_CANCEL',
      message: expect.stringMatching(/^scancel could not cancel job 42 \(exit code 0\)\./),
    });
  });

  it('says when a pending job cannot be signalled', async () => {
    const executor = new FakeExecutor({
      scancel: failed('scancel: error: Kill job error on job id 42: Job is pending execution\n'),
    });
    await expect(cancelJob(executor, '42', { killSignal: 'USR1' })).rejects.toMatchObject({
      message: expect.stringMatching(
        /^scancel could not signal \(SIGUSR1\) job 42[\s\S]*omit killSignal to cancel it/,
      ),
    });
  });
});
