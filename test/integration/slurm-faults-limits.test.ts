// The cluster's own limits on a real Slurm cluster (test/helpers/slurm-cluster.ts): a job killed for
// using more memory than it asked for, a job killed at its time limit, and signal_before_timeout
// reaching the payload (Node's onTimeoutSignal, Python's signal module) before the limit. A
// pipes-protocol host session plays Dagster; the bridge's Slurm step runs in-process.
//
// Memory: the native cluster has no cgroups, so native-up.sh enforces memory by polling
// (JobAcctGatherParams=OverMemoryKill, CR_Core_Memory); Slurm then records FAILED, and the bridge
// explains it as OUT_OF_MEMORY from slurmstepd's words in the job's stderr.
// Time: --time has minute granularity (1 minute is the least) and slurmctld checks limits about every
// 30 s, so a 1-minute job is killed 60-90 s in (plus KillWait, 5 s). The signal tests run beside it.

import { Writable } from 'node:stream';
import {
  openMessageWriterChannel,
  openPipesSession,
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesSessionResults,
} from '@slurm-pipes/pipes-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeConfig, type BridgeConfigInput } from '../../packages/bridge/src/config/schema.js';
import { resolvePayloadCommand } from '../../packages/bridge/src/payload/payload-command.js';
import { runSlurmStep, type SlurmStepResult } from '../../packages/bridge/src/slurm/index.js';
import { skipReason } from '../helpers/flags.js';
import { repoRoot, venvPython } from '../helpers/python.js';
import {
  clusterSshConfig,
  getSlurmCluster,
  type SlurmClusterHandle,
  slurmClusterMissing,
} from '../helpers/slurm-cluster.js';

const missing = skipReason(await slurmClusterMissing());
const fixture = (name: string) => `${repoRoot}/test/fixtures/faults-limits/${name}`;

class Sink extends Writable {
  override _write(_chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    done();
  }
}

interface StepRun {
  result: SlurmStepResult;
  results: PipesSessionResults;
  logs: string[];
  seconds: number;
}

describe.skipIf(missing !== undefined)('Slurm limits on a real cluster', () => {
  let cluster: SlurmClusterHandle;

  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  // Why the cluster would not kill a job over its memory request, or undefined when it does: memory
  // must be allocated (CR_*_Memory) and enforced, by task/cgroup or by polling (OverMemoryKill).
  async function memoryNotEnforced(): Promise<string | undefined> {
    const { stdout } = await cluster.exec('scontrol show config');
    const setting = (name: string) => new RegExp(`^${name}\\s*=\\s*(.*)$`, 'm').exec(stdout)?.[1] ?? '';
    if (!/MEMORY/i.test(setting('SelectTypeParameters')))
      return `the ${cluster.kind} cluster does not allocate memory (SelectTypeParameters=${setting('SelectTypeParameters')}); use CR_Core_Memory as scripts/cluster/native-up.sh does`;
    if (!/OverMemoryKill/.test(setting('JobAcctGatherParams')) && !/cgroup/.test(setting('TaskPlugin')))
      return `the ${cluster.kind} cluster does not enforce memory; set JobAcctGatherParams=OverMemoryKill as scripts/cluster/native-up.sh does, or TaskPlugin=task/cgroup with ConstrainRAMSpace=yes`;
    return undefined;
  }

  function config(queue: Record<string, unknown>): BridgeConfig {
    return BridgeConfig.parse({
      mode: 'slurm',
      local: { python: venvPython() },
      slurm: {
        ssh: {
          ...clusterSshConfig(cluster),
        },
        queue: { cpus: 1, ...queue },
      },
    } satisfies BridgeConfigInput);
  }

  async function runStep(payload: string, queue: Record<string, unknown>): Promise<StepRun> {
    const started = Date.now();
    const session = await openPipesSession({
      context: {
        asset_keys: ['limits/demo'],
        run_id: `it-limits-${started.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
        retry_number: 0,
        extras: {},
      },
      injector: 'file',
      reader: 'file',
    });
    const channel = openMessageWriterChannel(session.bootstrapParams().DAGSTER_PIPES_MESSAGES);
    const envelope = (method: string, params: object) => ({
      [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION,
      method,
      params,
    });
    channel.write(envelope('opened', { extras: {} }));
    const logs: string[] = [];
    try {
      const result = await runSlurmStep({
        config: config(queue),
        payload: resolvePayloadCommand([payload], { python: venvPython() }),
        channel,
        contextData: session.contextData,
        env: {},
        signal: new AbortController().signal,
        log: (line) => {
          logs.push(line);
          console.info(`[slurm-step] ${line}`);
        },
        stdout: new Sink(),
        stderr: new Sink(),
        nodeConditions: ['@slurm-pipes/source'],
        pollIntervalMs: 500,
      });
      channel.write(envelope('closed', result.exception === null ? {} : { exception: result.exception }));
      await channel.close();
      const results = await session.close();
      return { result, results, logs, seconds: (Date.now() - started) / 1000 };
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  it.concurrent('fails a job killed for exceeding its memory with OUT_OF_MEMORY and the fix (about 3 s)', async ({
    skip,
  }) => {
    const notEnforced = skipReason(await memoryNotEnforced()); // throws under CI
    if (notEnforced !== undefined) skip(notEnforced);
    const run = await runStep(fixture('oom.py'), { mem: '100M', time_limit: '00:02:00' });
    console.info(`OOM step took ${run.seconds} s`);
    const { result, results } = run;
    // The payload got as far as allocating: the kill came from Slurm's limit, not a failed start.
    expect(results.logs.map((l) => l.message)).toContain('allocated');
    expect(result.exitCode).not.toBe(0);
    // Without cgroups Slurm records FAILED; with them OUT_OF_MEMORY. Either way the step says OOM.
    expect(['FAILED', 'OUT_OF_MEMORY']).toContain(result.state);
    const message = result.exception?.message ?? '';
    console.info(`the step's exception:\n${message}`);
    expect(result.exception?.name).toBe('SlurmJobFailed');
    expect(message).toMatch(new RegExp(`^Slurm job ${result.jobId} ended (FAILED|OUT_OF_MEMORY) `));
    expect(message).toContain('OUT_OF_MEMORY');
    expect(message).toContain('used more memory than the job was allocated');
    expect(message).toMatch(/Fix: Raise mem \(memory per node, e\.g\. "16G"\) or mem_per_cpu/);
    expect(message).toMatch(/exceeded memory limit \(\d+ > 104857600\)/);
    // Killed by the limit within seconds, not by the 2-minute time limit.
    expect(run.seconds).toBeLessThan(60);
  }, 120_000);

  it.concurrent('fails a job killed at its time limit with TIMEOUT and the fix (60-95 s)', async () => {
    const run = await runStep(fixture('overruns.py'), { mem: '512M', time_limit: '00:01:00' });
    console.info(`TIMEOUT step took ${run.seconds} s`);
    const { result, results } = run;
    expect(results.logs.map((l) => l.message)).toContain('working past the time limit');
    expect(result.state).toBe('TIMEOUT');
    expect(result.exitCode).not.toBe(0);
    const message = result.exception?.message ?? '';
    console.info(`the step's exception:\n${message}`);
    expect(result.exception?.name).toBe('SlurmJobFailed');
    expect(message).toMatch(new RegExp(`^Slurm job ${result.jobId} ended TIMEOUT .*reason TimeLimit`));
    expect(message).toContain('Slurm killed the job when it reached its time limit.');
    expect(message).toMatch(
      /Fix: Raise time_limit \(e\.g\. .*\) .*, or set signal_before_timeout \(e\.g\. "USR1@300"\)/,
    );
    const [job] = await cluster.waitForJob(result.jobId as string);
    expect(job?.state).toBe('TIMEOUT');
    expect(run.seconds).toBeGreaterThanOrEqual(60);
  }, 180_000);

  // Slurm may send the signal up to 60 s before the lead time: with 2 minutes and a 50 s lead it comes
  // 10 s or more after the start (43-50 s in, measured), so the payload has its handler in place by then.
  it.concurrent('delivers signal_before_timeout to a Node worker, which checkpoints through onTimeoutSignal (10-70 s)', async () => {
    const run = await runStep(fixture('checkpoint-worker.ts'), {
      mem: '512M',
      time_limit: '00:02:00',
      signal_before_timeout: 'USR2@50',
    });
    console.info(`Node checkpoint step took ${run.seconds} s`);
    const { result, results } = run;
    expect(results.logs.map((l) => l.message)).toContain('working; SIGUSR2 comes before the time limit');
    // The handler ran once, for the signal and lead time the launcher exported, before the limit.
    expect(results.customMessages).toHaveLength(1);
    const [checkpoint] = results.customMessages as { secondsAfterStart: number }[];
    console.info(`SIGUSR2 arrived ${checkpoint?.secondsAfterStart} s after the worker started`);
    expect(checkpoint).toMatchObject({ signal: 'SIGUSR2', leadSeconds: 50, count: 1 });
    expect(checkpoint?.secondsAfterStart).toBeLessThan(120);
    expect(results.materializations[0]?.metadata?.checkpointed?.raw_value).toBe(true);
    expect(result.exception).toBeNull();
    expect(result.state).toBe('COMPLETED');
  }, 180_000);

  it.concurrent('lets a Python payload checkpoint on the signal with the signal module (10-70 s)', async () => {
    const run = await runStep(fixture('checkpoint.py'), {
      mem: '512M',
      time_limit: '00:02:00',
      signal_before_timeout: 'USR1@50',
    });
    console.info(`Python checkpoint step took ${run.seconds} s`);
    const { result, results } = run;
    expect(results.logs.map((l) => l.message)).toContain('waiting for SIGUSR1 (50 s before the time limit)');
    const metadata = results.materializations[0]?.metadata ?? {};
    console.info(`SIGUSR1 arrived ${metadata.seconds_after_start?.raw_value} s after the payload started`);
    expect(metadata.checkpointed?.raw_value).toBe(true);
    expect(metadata.signal?.raw_value).toBe('SIGUSR1');
    expect(metadata.lead_seconds?.raw_value).toBe(50);
    expect(metadata.seconds_after_start?.raw_value as number).toBeLessThan(120);
    expect(result.exception).toBeNull();
    expect(result.state).toBe('COMPLETED');
  }, 180_000);
});
