// The Slurm layer of @slurm-pipes/slurm-transport against a real cluster: sbatch, squeue, sacct,
// scancel and the job watcher, through a minimal RemoteExecutor over the `ssh` CLI (this test's
// own; the package's ssh2 connection is tested elsewhere).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlurmTransportError } from '../../packages/slurm-transport/src/errors.js';
import {
  cancelJob,
  describePendingReason,
  getJobMetrics,
  type JobMetrics,
  type JobStateChange,
  JobWaitTimeoutError,
  JobWatcher,
  queryJobStates,
  type SbatchSpec,
  submitJob,
  watchJobs,
} from '../../packages/slurm-transport/src/slurm/index.js';
import type {
  ExecOptions,
  ExecResult,
  RemoteExecutor,
} from '../../packages/slurm-transport/src/ssh/remote-executor.js';
import { shellJoin, shellQuote } from '../../packages/slurm-transport/src/ssh/shell-quote.js';
import { skipReason } from '../helpers/flags.js';
import { getSlurmCluster, type SlurmClusterHandle, slurmClusterMissing } from '../helpers/slurm-cluster.js';

const missing = skipReason(await slurmClusterMissing());

/** Runs argv as `bash --noprofile --norc -c '<quoted argv>'` over one ControlMaster connection. */
class SshCliExecutor implements RemoteExecutor {
  readonly #args: string[];
  constructor(cluster: SlurmClusterHandle, controlDir: string) {
    this.#args = [
      ...[
        '-p',
        String(cluster.port),
        '-i',
        cluster.keyPath,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
      ],
      ...['-o', `UserKnownHostsFile=${cluster.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes'],
      ...[
        '-o',
        'ControlMaster=auto',
        '-o',
        `ControlPath=${join(controlDir, 'cm-%C')}`,
        '-o',
        'ControlPersist=60',
      ],
      ...['-o', 'LogLevel=ERROR', `${cluster.user}@${cluster.host}`],
    ];
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const remote = `bash --noprofile --norc -c ${shellQuote(shellJoin(argv))}`;
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', [...this.#args, '--', remote], { signal: options.signal });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (exitCode, signal) =>
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          exitCode,
          signal: signal?.replace(/^SIG/, '') ?? null,
        }),
      );
      child.stdin.end(options.stdin ?? '');
    });
  }

  async close(): Promise<void> {
    await new Promise((resolve) => spawn('ssh', ['-O', 'exit', ...this.#args]).on('close', resolve));
  }
}

async function collect(events: AsyncIterable<JobStateChange>): Promise<JobStateChange[]> {
  const seen: JobStateChange[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe.skipIf(missing !== undefined)('Slurm commands on a real cluster', () => {
  let cluster: SlurmClusterHandle;
  let executor: SshCliExecutor;
  let controlDir: string;
  let runDir: string;
  let partition: string;
  const fast = { initialIntervalMs: 200, maxIntervalMs: 1000 };

  // Writes an executable job script into the run directory and returns a submission spec for it.
  async function jobSpec(name: string, body: string): Promise<SbatchSpec> {
    const scriptPath = `${runDir}/${name}.sh`;
    const write = await executor.exec(['bash', '-c', 'cat > "$1" && chmod +x "$1"', 'write', scriptPath], {
      stdin: `#!/bin/bash\n${body}\n`,
    });
    expect(write.exitCode, write.stderr).toBe(0);
    return {
      queue: { partition, cpus: 1, mem: '100M', time_limit: '00:05:00' },
      jobName: `slurm-pipes-it-${name}`,
      workDir: runDir,
      stdoutPath: `${runDir}/${name}-%j.out`,
      stderrPath: `${runDir}/${name}-%j.err`,
      scriptPath,
    };
  }

  // Accounting trails the job's end by a moment.
  async function metricsOf(jobId: string): Promise<JobMetrics> {
    for (let attempt = 0; ; attempt++) {
      try {
        const metrics = await getJobMetrics(executor, jobId);
        if (metrics.endTime !== undefined || attempt >= 50) return metrics;
      } catch (error) {
        if (attempt >= 50 || !isSlurmTransportError(error, 'ERR_SLURM_QUERY')) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  beforeAll(async () => {
    cluster = await getSlurmCluster();
    controlDir = await mkdtemp(join(tmpdir(), 'slurm-it-'));
    executor = new SshCliExecutor(cluster, controlDir);
    partition = process.env.SLURM_PIPES_SLURM_PARTITION ?? 'debug';
    const home = (await executor.exec(['printenv', 'HOME'])).stdout.trim();
    runDir = `${home}/slurm-commands-it/${Date.now()}`;
    expect((await executor.exec(['mkdir', '-p', runDir])).exitCode).toBe(0);
  });

  afterAll(async () => {
    await executor?.exec(['rm', '-rf', runDir]).catch(() => undefined);
    await executor?.close();
    await rm(controlDir, { recursive: true, force: true });
    await cluster?.stop();
  });

  it('submits, queries, watches and measures a successful job', async () => {
    const spec = await jobSpec(
      'ok',
      'echo "on $SLURMD_NODENAME"; python3 -c "x = bytearray(50 * 1024 * 1024); import time; time.sleep(1.5)" || sleep 1.5',
    );
    const jobId = await submitJob(executor, spec);
    expect(jobId).toMatch(/^\d+$/);

    const states = await queryJobStates(executor, [jobId]);
    expect(states.get(jobId)?.state).toMatch(/^(PENDING|CONFIGURING|RUNNING|COMPLETING|COMPLETED)$/);

    const events = await collect(watchJobs(executor, jobId, fast));
    const last = events.at(-1);
    expect(last).toMatchObject({ jobId, state: 'COMPLETED', terminal: true });
    expect(events.some((event) => event.state === 'RUNNING')).toBe(true);

    const metrics = await metricsOf(jobId);
    expect(metrics).toMatchObject({ jobId, state: 'COMPLETED', exitCode: { code: 0, signal: 0 }, nodes: 1 });
    expect(metrics.elapsedSeconds).toBeGreaterThanOrEqual(1);
    expect(metrics.allocCpus).toBeGreaterThanOrEqual(1);
    expect(metrics.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(metrics.nodeList).toMatch(/^n\d/);
    expect(metrics.steps.map((step) => step.stepId)).toContain('batch');
    console.info(`job ${jobId}: ${JSON.stringify({ ...metrics, steps: metrics.steps.length })}`);
  });

  it('reports a failing job with its exit code', async () => {
    const jobId = await submitJob(executor, await jobSpec('fail', 'echo boom >&2; exit 3'));
    const events = await collect(watchJobs(executor, jobId, fast));
    expect(events.at(-1)).toMatchObject({ state: 'FAILED', terminal: true });
    const metrics = await metricsOf(jobId);
    expect(metrics).toMatchObject({ state: 'FAILED', exitCode: { code: 3, signal: 0 } });
  });

  it('cancels a running job, and a second cancel counts as already finished', async () => {
    const jobId = await submitJob(executor, await jobSpec('cancel', 'sleep 300'));
    const watcher = new JobWatcher(executor, fast);
    const seen: JobStateChange[] = [];
    for await (const event of watcher.watch(jobId)) {
      seen.push(event);
      if (event.state === 'RUNNING') {
        expect(await cancelJob(executor, jobId)).toBe('requested');
      }
    }
    watcher.close();
    expect(seen.at(-1)).toMatchObject({ state: 'CANCELLED', terminal: true });
    expect(await cancelJob(executor, jobId)).toBe('already-finished');
    const metrics = await metricsOf(jobId);
    expect(metrics.state).toBe('CANCELLED');
    expect(metrics.rawState).toMatch(/^CANCELLED by \d+$/);
  });

  it('passes the explicit options through sbatch as Slurm reads them', async () => {
    const spec = await jobSpec('options', 'sleep 60');
    const jobId = await submitJob(executor, {
      ...spec,
      queue: {
        partition,
        cpus: 1,
        mem_per_cpu: '64M',
        time_limit: '0-00:03:00',
        signal_before_timeout: 'USR1@60',
        extra_directives: ['--comment=slurm pipes; "quoted"', '--hold'],
      },
      overrides: { nodes: 2, exclusive: false },
      exportNone: true,
    });
    try {
      const { stdout } = await executor.exec(['scontrol', 'show', 'job', jobId]);
      expect(stdout).toMatch(/TimeLimit=00:03:00/);
      expect(stdout).toMatch(/NumNodes=2/);
      expect(stdout).toMatch(/MinMemoryCPU=64M/);
      expect(stdout).toMatch(/Comment=slurm pipes; "quoted"/);
      expect(stdout).toMatch(/JobState=PENDING Reason=JobHeldUser/);
    } finally {
      await cancelJob(executor, jobId);
    }
  });

  it('raises a queue timeout for a held job and leaves the job alone', async () => {
    const spec = await jobSpec('held', 'true');
    const jobId = await submitJob(executor, { ...spec, overrides: { extra_directives: ['--hold'] } });
    try {
      const events: JobStateChange[] = [];
      const error = await (async () => {
        for await (const event of watchJobs(executor, jobId, { ...fast, queueTimeoutMs: 1500 }))
          events.push(event);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(JobWaitTimeoutError);
      expect(error).toMatchObject({ limit: 'queue', jobId });
      expect(events[0]).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser' });
      expect((await queryJobStates(executor, [jobId])).get(jobId)?.state).toBe('PENDING');
    } finally {
      await cancelJob(executor, jobId);
    }
  });

  it('explains a rejected submission', async () => {
    const spec = await jobSpec('rejected', 'true');
    const error = await submitJob(executor, { ...spec, overrides: { partition: 'no-such-partition' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSlurmTransportError(error, 'ERR_SLURM_SUBMIT')).toBe(true);
    expect((error as Error).message).toMatch(/invalid partition specified[\s\S]*Fix: Set partition/);
  });

  it('reports a request no node can satisfy, whether sbatch rejects it or queues it blocked', async () => {
    // Without EnforcePartLimits (as on the test cluster) sbatch queues the job as PENDING (PartitionConfig).
    const spec = await jobSpec('too-big', 'true');
    const submitted = await submitJob(executor, { ...spec, overrides: { cpus_per_task: 999 } }).then(
      (jobId) => ({ jobId }),
      (error: unknown) => ({ error }),
    );
    if ('error' in submitted) {
      expect(isSlurmTransportError(submitted.error, 'ERR_SLURM_SUBMIT')).toBe(true);
      expect((submitted.error as Error).message).toMatch(/Fix: /);
      return;
    }
    try {
      const status = (await queryJobStates(executor, [submitted.jobId])).get(submitted.jobId);
      expect(status).toMatchObject({ state: 'PENDING' });
      expect(describePendingReason(status?.reason ?? '').blocked).toBe(true);
    } finally {
      await cancelJob(executor, submitted.jobId);
    }
  });
});
