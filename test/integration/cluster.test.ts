// Smoke tests of the test cluster itself (test/helpers/slurm-cluster.ts), through whichever provider
// getSlurmCluster() picks: SSH logins of each kind, two idle nodes, a two-node job seen by sacct,
// fault injection. A native cluster on a developer's machine may be shared with other test runs, so
// logins are counted by our own client ports and states are polled, not sampled once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCI, skipReason } from '../helpers/flags.js';
import {
  getSlurmCluster,
  type SlurmClusterHandle,
  slurmClusterMissing,
  sshLogin,
} from '../helpers/slurm-cluster.js';

const missing = skipReason(await slurmClusterMissing());

/** `$SSH_CLIENT` is "client-ip client-port server-port": the port sshd logs for this login. */
function clientPort(sshClient: string): number {
  const port = Number(sshClient.trim().split(' ')[1]);
  expect(port).toBeGreaterThan(0);
  return port;
}

describe.skipIf(missing !== undefined)('Slurm test cluster', () => {
  let cluster: SlurmClusterHandle;

  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('accepts key, passphrase-key and password logins and logs each', async () => {
    const mark = await cluster.markSshdLog();
    const ports: number[] = [];
    for (const auth of ['key', 'passphrase-key', 'password'] as const) {
      const started = performance.now();
      const result = await sshLogin(cluster, auth, 'echo "$USER"; echo "$SSH_CLIENT"');
      console.info(`ssh login (${auth}): ${Math.round(performance.now() - started)} ms`);
      expect(result, `${auth}: ${result.stderr}`).toMatchObject({ exitCode: 0 });
      const [user = '', sshClient = ''] = result.stdout.split('\n');
      expect(user).toBe(cluster.user);
      ports.push(clientPort(sshClient));
    }
    expect(await cluster.countSshAuthentications(mark, { ports })).toEqual({
      total: 3,
      publickey: 2,
      password: 1,
      keyboardInteractive: 0,
    });
    expect((await cluster.countSshAuthentications(mark)).total).toBeGreaterThanOrEqual(3);
  });

  it('rejects a wrong password and logs the failure', async () => {
    const mark = await cluster.markSshdLog();
    const result = await sshLogin({ ...cluster, password: 'not-the-password' }, 'password', 'true');
    expect(result.exitCode).toBe(255);
    const logged = async () =>
      Buffer.from(await cluster.readSshdLog())
        .subarray(mark)
        .toString('utf8');
    await expect.poll(logged, { timeout: 5_000 }).toMatch(/Failed password for \S+ from/);
  });

  it('shows two idle nodes in sinfo', async () => {
    const nodeStates = async () =>
      (await cluster.exec("sinfo -h -N -o '%N %t'")).stdout.trim().split('\n').sort();
    // Polled: another test run's job may still hold a node for a moment.
    await expect
      .poll(nodeStates, { timeout: 60_000, interval: 250 })
      .toEqual(cluster.nodes.map((node) => `${node} idle`));
    expect(cluster.nodes).toHaveLength(2);
  });

  it('runs a two-node job with a step on each node and records it in sacct', async () => {
    const started = performance.now();
    const submitted = await cluster.exec(
      `sbatch --parsable -N2 --job-name=cluster-smoke -o cluster-smoke-%j.out --wrap 'srun bash -c "echo \\$SLURMD_NODENAME; sleep 2"'`,
    );
    const jobId = submitted.stdout.trim().split(';')[0] ?? '';
    expect(jobId).toMatch(/^\d+$/);
    const records = await cluster.waitForJob(jobId, { timeoutMs: 60_000 });
    console.info(`sbatch -N2 to COMPLETED in sacct: ${Math.round(performance.now() - started)} ms`);

    const [job, ...steps] = records;
    // Not JobName: slurmdbd can show a job that just ran as 'allocation' for a few seconds.
    expect(job).toMatchObject({ jobId, state: 'COMPLETED', exitCode: '0:0', allocNodes: '2' });
    expect(job?.elapsed).toMatch(/^(\d+-)?\d{2}:\d{2}:\d{2}$/);
    expect(steps.map((s) => s.jobId)).toEqual(expect.arrayContaining([`${jobId}.batch`, `${jobId}.0`]));
    for (const step of steps) expect(step.state).toBe('COMPLETED');
    // jobacct_gather samples every second, so the 2 s step has a MaxRSS.
    const step0 = steps.find((s) => s.jobId === `${jobId}.0`);
    expect(step0?.maxRss).toMatch(/^\d+(\.\d+)?[KMGT]?$/);
    expect(step0?.nodeList).toBe('n[1-2]');

    const output = await cluster.exec(`cat cluster-smoke-${jobId}.out && rm -f cluster-smoke-${jobId}.out`);
    expect(output.stdout.trim().split('\n').sort()).toEqual([...cluster.nodes]);
  });

  // Faults hit everyone on the cluster (kill-sshd-sessions drops every connection), so on a native
  // cluster they run only where it is ours alone: under CI, or when asked.
  const faultsAllowed = () =>
    cluster.kind === 'container' || isCI || process.env.SLURM_PIPES_FAULT_TESTS === '1';

  it('injects faults: restart-slurmd, kill-sshd-sessions, restart-sshd', async (context) => {
    if (!faultsAllowed()) {
      context.skip(`fault injection on a shared ${cluster.kind} cluster (set SLURM_PIPES_FAULT_TESTS=1)`);
    }
    await cluster.inject('restart-slurmd', 'n1');
    const states = async () => (await cluster.exec("sinfo -h -N -o '%t'")).stdout.trim().split('\n');
    await expect.poll(states, { timeout: 30_000, interval: 200 }).toEqual(['idle', 'idle']);

    const mark = await cluster.markSshdLog();
    const started = performance.now();
    const session = sshLogin(cluster, 'key', 'sleep 20');
    const logins = async () => (await cluster.countSshAuthentications(mark)).total;
    await expect.poll(logins, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await cluster.inject('kill-sshd-sessions');
    expect((await session).exitCode).toBe(255);
    expect(performance.now() - started).toBeLessThan(10_000);

    await cluster.inject('restart-sshd');
    expect((await sshLogin(cluster, 'key', 'true')).exitCode).toBe(0);
  });
});
