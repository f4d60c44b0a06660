import type { ExecResult, RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { SlurmTransportError } from '@slurm-pipes/slurm-transport';
import { describe, expect, it } from 'vitest';
import { followJob } from '../../src/slurm/follow-job.js';

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0, signal: null });

// A cluster with one job whose squeue line is `state`, and a switch that makes every command fail.
function cluster(jobId: string) {
  const control = {
    state: 'RUNNING|None|n1',
    down: undefined as SlurmTransportError | undefined,
    calls: 0,
  };
  const executor: RemoteExecutor = {
    async exec(argv) {
      control.calls += 1;
      if (control.down !== undefined) throw control.down;
      if (argv[0] === 'squeue') return ok(`${jobId}|${control.state}\n`);
      return ok('');
    },
  };
  return { control, executor };
}

const fast = { initialIntervalMs: 1, maxIntervalMs: 2, rewatchDelayMs: 5 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const disconnected = new SlurmTransportError('ERR_SSH_DISCONNECTED', 'The connection was lost.');

describe('followJob', () => {
  it('keeps following through an outage longer than the watcher tolerates, and sees the end', async () => {
    const { control, executor } = cluster('7');
    const logs: string[] = [];
    const follower = followJob({
      executor,
      jobId: '7',
      signal: new AbortController().signal,
      log: (line) => logs.push(line),
      ...fast,
    });
    await sleep(30);
    control.down = disconnected;
    // The watcher gives up after 60 failed queries in a row; the outage lasts for several of those.
    while (logs.filter((line) => line.includes('still following it')).length < 3) await sleep(10);
    control.down = undefined;
    control.state = 'COMPLETED|None|n1';
    const followed = await follower.done;
    expect(followed.final?.state).toBe('COMPLETED');
    expect(followed.detached).toBe(false);
    expect(logs.some((line) => /Slurm has not answered about job 7 for \d+ s/.test(line))).toBe(true);
  });

  it('fails once Slurm has not answered for unreachableTimeoutMs', async () => {
    const { control, executor } = cluster('8');
    control.down = disconnected;
    const follower = followJob({
      executor,
      jobId: '8',
      signal: new AbortController().signal,
      log: () => {},
      unreachableTimeoutMs: 300,
      ...fast,
    });
    await expect(follower.done).rejects.toMatchObject({ code: 'ERR_SSH_DISCONNECTED' });
  });

  it('fails at once on an error no retry can fix', async () => {
    const { control, executor } = cluster('9');
    control.down = new SlurmTransportError('ERR_SSH_AUTH', 'All configured authentication methods failed.');
    const follower = followJob({
      executor,
      jobId: '9',
      signal: new AbortController().signal,
      log: () => {},
      ...fast,
    });
    await expect(follower.done).rejects.toMatchObject({ code: 'ERR_SSH_AUTH' });
  });

  it('detaches cleanly when stopped for a restart during an outage', async () => {
    const { control, executor } = cluster('10');
    const controller = new AbortController();
    const logs: string[] = [];
    const follower = followJob({
      executor,
      jobId: '10',
      signal: controller.signal,
      log: (l) => logs.push(l),
      ...fast,
    });
    await sleep(20);
    control.down = disconnected;
    while (!logs.some((line) => line.includes('still following it'))) await sleep(5);
    controller.abort(Object.assign(new Error('SIGTERM'), { signal: 'SIGTERM' }));
    const followed = await follower.done;
    expect(followed.detached).toBe(true);
    expect(followed.final).toBeUndefined();
  });
});
