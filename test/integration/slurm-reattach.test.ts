// Never a resubmitted job: the real CLI is killed or stopped while its Slurm job runs, and a
// re-launch of the same step (same Dagster run) reattaches instead of calling sbatch again.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  buildPipesContextData,
  openPipesSession,
  type PipesSessionResults,
} from '@slurm-pipes/pipes-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venvPython } from '../helpers/python.js';
import { clusterSshEnv, getSlurmCluster, type SlurmClusterHandle } from '../helpers/slurm-cluster.js';

const repo = join(import.meta.dirname, '..', '..');
const ticks = join(repo, 'test/fixtures/slurm-payloads/ticks.py');

describe('reattach: no job is ever submitted twice', () => {
  let cluster: SlurmClusterHandle;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    cluster = await getSlurmCluster();
    env = {
      ...process.env,
      ...clusterSshEnv(cluster),
    };
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Launches the CLI as Dagster would for `runId`; `onLog` sees its progress lines. */
  async function launch(
    runId: string,
    onLog?: (line: string, child: ChildProcess) => void,
    extraEnv: NodeJS.ProcessEnv = {},
  ) {
    const context = buildPipesContextData({ assetKeys: [['reattach', 'demo']], runId });
    const session = await openPipesSession({ context, injector: 'file', reader: 'file' });
    const child = spawn(
      process.execPath,
      [
        '--conditions=@slurm-pipes/source',
        '--import',
        'tsx',
        'packages/bridge/src/cli.ts',
        'run',
        '--mode',
        'slurm',
        '--python',
        venvPython(),
        '--slurm-opt',
        'cpus_per_task=1',
        '--slurm-opt',
        'mem=200M',
        '--',
        ticks,
        '5',
      ],
      { cwd: repo, env: { ...env, ...session.bootstrapEnv(), SLURM_PIPES_MUX_DIR: '', ...extraEnv } },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
      for (const line of d.toString().split('\n')) if (line) onLog?.(line, child);
    });
    child.stdout?.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const results: PipesSessionResults = await session.close();
    return { code, stderr, results };
  }

  const jobIdIn = (stderr: string) => /(?:submitted|reattaching to) Slurm job (\d+)/.exec(stderr)?.[1];
  const ticksOf = (r: PipesSessionResults) =>
    r.logs.filter((l) => l.message.startsWith('tick ')).map((l) => l.message);
  async function jobsNamed(jobId: string) {
    const name = (await cluster.exec(`sacct -j ${jobId} -X -n -P -o JobName`)).stdout.trim();
    const all = await cluster.exec(`sacct -X -n -P -o JobID --name=${name} -S now-1hour`);
    return all.stdout.split('\n').filter((l) => l.trim() !== '');
  }

  // SIGINT+SIGTERM: a supervisor stopping Dagster's process group; Dagster forwards a SIGINT
  // as it is interrupted, and the bridge gets the SIGTERM itself: a restart, not Terminate.
  it.each(['SIGKILL', 'SIGTERM', 'SIGINT+SIGTERM'] as const)(
    '%s while the job runs: the job keeps running, a re-launch reattaches',
    async (sig) => {
      const runId = `reattach-${sig.toLowerCase().replace('+', '-')}-${Date.now()}`;
      const first = await launch(runId, (line, child) => {
        if (!/RUNNING on/.test(line)) return;
        setTimeout(() => {
          if (sig !== 'SIGINT+SIGTERM') return child.kill(sig);
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGTERM'), 50);
        }, 1_000);
      });
      expect(first.code).not.toBe(0);
      const jobId = jobIdIn(first.stderr);
      expect(jobId).toBeDefined();
      const state = (await cluster.exec(`squeue -h -j ${jobId} -o %T`, { reject: false })).stdout.trim();
      expect(state).toMatch(/RUNNING|COMPLETING|PENDING/);
      if (sig !== 'SIGKILL') {
        expect(first.results.closed?.exception?.message).toMatch(/keeps running/);
        expect(first.stderr).toContain(`leaving Slurm job ${jobId} running`);
      }

      const second = await launch(runId);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain(`reattaching to Slurm job ${jobId}`);
      expect(second.stderr).not.toContain('submitted Slurm job');
      // Every message of the job, once, in order, to the new host session.
      expect(ticksOf(second.results)).toEqual(Array.from({ length: 10 }, (_, i) => `tick ${i}`));
      expect(second.results.materializations).toHaveLength(1);
      const metadata = second.results.materializations[0]?.metadata;
      expect(metadata?.slurm_job_id?.raw_value).toBe(jobId);
      expect(metadata?.slurm_state?.raw_value).toBe('COMPLETED');
      expect(metadata?.slurm_elapsed_seconds?.raw_value).toEqual(expect.any(Number));
      expect(await jobsNamed(jobId as string)).toEqual([jobId]);
    },
  );

  it('SIGINT (Terminate) cancels the job; a later launch of the step submits a new one', async () => {
    const runId = `reattach-sigint-${Date.now()}`;
    const first = await launch(runId, (line, child) => {
      if (/RUNNING on/.test(line)) setTimeout(() => child.kill('SIGINT'), 1_000);
    });
    expect(first.code).not.toBe(0);
    const jobId = jobIdIn(first.stderr) as string;
    expect(first.stderr).toContain(`cancelling Slurm job ${jobId}`);
    const [job] = await cluster.waitForJob(jobId, { timeoutMs: 60_000 });
    expect(job?.state).toMatch(/^CANCELLED/);
    // The cancelled job's end was delivered, so it is not reattached: the step runs anew.
    const second = await launch(runId);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/previous Slurm job \d+ ended \(CANCELLED\)/);
    const newId = /submitted Slurm job (\d+)/.exec(second.stderr)?.[1];
    expect(newId).toBeDefined();
    expect(newId).not.toBe(jobId);
    expect(ticksOf(second.results)).toHaveLength(10);
  });

  it('a re-execution (new run id, same reattach key) reattaches to the job of the run it re-executes', async () => {
    const rootRunId = `reattach-root-${Date.now()}`;
    const key = { SLURM_PIPES_CONFIG_JSON: JSON.stringify({ reattachKey: rootRunId }) };
    const first = await launch(
      rootRunId,
      (line, child) => {
        if (/RUNNING on/.test(line)) child.kill('SIGKILL');
      },
      key,
    );
    const jobId = jobIdIn(first.stderr) as string;
    const second = await launch(`reattach-reexec-${Date.now()}`, undefined, key);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`reattaching to Slurm job ${jobId}`);
    expect(ticksOf(second.results)).toHaveLength(10);
    expect(await jobsNamed(jobId)).toEqual([jobId]);
  });

  it('collects a job that finished while nobody watched, without sbatch', async () => {
    const runId = `reattach-finished-${Date.now()}`;
    const first = await launch(runId, (line, child) => {
      if (/RUNNING on/.test(line)) child.kill('SIGKILL');
    });
    const jobId = jobIdIn(first.stderr) as string;
    await cluster.waitForJob(jobId, { timeoutMs: 60_000 });
    const second = await launch(runId);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`reattaching to Slurm job ${jobId}`);
    expect(ticksOf(second.results)).toHaveLength(10);
    expect(second.results.materializations[0]?.metadata?.slurm_state?.raw_value).toBe('COMPLETED');
    expect(await jobsNamed(jobId)).toEqual([jobId]);
  });

  it('finds the job by its unique name when the bridge died between sbatch and job.json', async () => {
    const runId = `reattach-crash-${Date.now()}`;
    let runDir = '';
    const first = await launch(
      runId,
      (line) => {
        runDir = /run directory on the cluster: (\S+)/.exec(line)?.[1] ?? runDir;
      },
      { SLURM_PIPES_TEST_CRASH_AFTER_SUBMIT: '1' },
    );
    expect(first.code).toBe(137);
    const jobId = /exiting right after sbatch returned job (\d+)/.exec(first.stderr)?.[1] as string;
    expect(jobId).toBeDefined();
    // The crash left submit.json and the lock of a dead process, but no job.json.
    const left = await cluster.exec(`ls -A '${runDir}'`);
    expect(left.stdout.split('\n')).toEqual(expect.arrayContaining(['submit.json', '.lock']));
    expect(left.stdout.split('\n')).not.toContain('job.json');
    const second = await launch(runId);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/breaking the stale lock/);
    expect(second.stderr).toContain(`reattaching to Slurm job ${jobId}, found by its name`);
    expect(ticksOf(second.results)).toHaveLength(10);
    expect(await jobsNamed(jobId)).toEqual([jobId]);
    expect(JSON.parse((await cluster.exec(`cat '${runDir}/job.json'`)).stdout)).toMatchObject({
      jobId,
      recoveredByName: true,
      collected: { state: 'COMPLETED', runId },
    });
  });

  it('a run limit leaves the job running by default (a re-launch collects it), and cancels only when asked', async () => {
    const limit = { SLURM_PIPES_CONFIG_JSON: JSON.stringify({ slurm: { runTimeoutSeconds: 2 } }) };
    const runId = `limit-detach-${Date.now()}`;
    const first = await launch(runId, undefined, limit);
    expect(first.code).not.toBe(0);
    expect(first.results.closed?.exception?.message).toMatch(
      /reached the run time limit set in slurm\.runTimeoutSeconds; it keeps running/,
    );
    const jobId = jobIdIn(first.stderr) as string;
    expect((await cluster.exec(`squeue -h -j ${jobId} -o %T`, { reject: false })).stdout.trim()).toMatch(
      /RUNNING|COMPLETING/,
    );
    const second = await launch(runId);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`reattaching to Slurm job ${jobId}`);

    const cancelling = {
      SLURM_PIPES_CONFIG_JSON: JSON.stringify({ slurm: { runTimeoutSeconds: 2, cancelOnTimeout: true } }),
    };
    const third = await launch(`limit-cancel-${Date.now()}`, undefined, cancelling);
    expect(third.code).not.toBe(0);
    const cancelledId = jobIdIn(third.stderr) as string;
    const records = await cluster.waitForJob(cancelledId, { timeoutMs: 60_000 });
    expect(records[0]?.state).toMatch(/^CANCELLED/);
  });
});
