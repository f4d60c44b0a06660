// Slurm mode against a real cluster (test/helpers/slurm-cluster.ts): payloads run as Slurm jobs
// and every Pipes message comes back live. A pipes-protocol host session plays Dagster; the
// bridge's Slurm step runs in-process with a channel to that session's messages file (the same
// channel the CLI opens from Dagster's bootstrap).
import { Writable } from 'node:stream';
import {
  openMessageWriterChannel,
  openPipesSession,
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesMessageChannel,
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
const fixture = (name: string) => `${repoRoot}/test/fixtures/slurm-payloads/${name}`;

/** Collects a stream's bytes. */
class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

interface StepRun {
  result: SlurmStepResult;
  results: PipesSessionResults;
  /** Lines relayed to "Dagster" unchanged (writeLine), as the bridge wrote them. */
  raw: string[];
  logs: string[];
  stdout: string;
  stderr: string;
}

describe.skipIf(missing !== undefined)('Slurm mode on a real cluster', () => {
  let cluster: SlurmClusterHandle;

  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  // sacct shows a stand-in row (named "allocation") until slurmctld's job record reaches slurmdbd.
  async function jobRecord(jobId: string | undefined) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const records = await cluster.waitForJob(jobId as string);
      if (records[0]?.jobName.startsWith('slurm-pipes-') || Date.now() > deadline) return records;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  function config(extra: Partial<BridgeConfigInput> = {}, ssh: Record<string, unknown> = {}): BridgeConfig {
    return BridgeConfig.parse({
      mode: 'slurm',
      local: { python: venvPython() },
      slurm: {
        ssh: {
          ...clusterSshConfig(cluster),
          ...ssh,
        },
        queue: { cpus: 1, mem: '512M', time_limit: '00:05:00' },
      },
      ...extra,
    });
  }

  async function runStep(
    payload: readonly string[],
    options: {
      config?: BridgeConfig /** Aborts the step 2 s after the first progress line this accepts. */;
      abortWhen?: (log: string) => boolean;
      /** Aborts before the step starts. */
      abortAtStart?: boolean;
      partitionKey?: string;
      /** Node.js on the cluster. @default 'node' */
      remoteNode?: string;
    } = {},
  ): Promise<StepRun> {
    const session = await openPipesSession({
      context: {
        asset_keys: ['slurm/demo'],
        run_id: `it-${Date.now().toString(36)}`,
        retry_number: 0,
        partition_key: options.partitionKey ?? null,
        partition_key_range:
          options.partitionKey === undefined
            ? null
            : { start: options.partitionKey, end: options.partitionKey },
        extras: { greeting: 'hi' },
      },
      injector: 'file',
      reader: 'file',
    });
    // The bridge's channel to Dagster, recording what it relays unchanged.
    const inner = openMessageWriterChannel(session.bootstrapParams().DAGSTER_PIPES_MESSAGES);
    const raw: string[] = [];
    const channel: PipesMessageChannel = {
      kind: inner.kind,
      get closed() {
        return inner.closed;
      },
      write: (message) => inner.write(message),
      writeLine: (json) => {
        raw.push(json);
        inner.writeLine(json);
      },
      flush: () => inner.flush(),
      close: () => inner.close(),
    };
    const envelope = (method: string, params: object) => ({
      [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION,
      method,
      params,
    });
    channel.write(envelope('opened', { extras: {} }));
    const logs: string[] = [];
    const abort = new AbortController();
    if (options.abortAtStart) abort.abort(new Error('slurm-pipes received SIGINT'));
    const stdout = new Capture();
    const stderr = new Capture();
    try {
      const result = await runSlurmStep({
        config: options.config ?? config(),
        payload: resolvePayloadCommand([...payload], { python: venvPython() }),
        channel,
        contextData: session.contextData,
        env: {},
        signal: abort.signal,
        log: (line) => {
          logs.push(line);
          console.info(`[slurm-step] ${line}`);
          // Terminate a moment after the trigger, as a user pressing Terminate would.
          if (options.abortWhen?.(line))
            setTimeout(() => abort.abort(new Error('slurm-pipes received SIGINT')), 2_000);
        },
        stdout,
        stderr,
        nodeConditions: ['@slurm-pipes/source'],
        pollIntervalMs: 500,
        ...(options.remoteNode === undefined ? {} : { remoteNode: options.remoteNode }),
      });
      channel.write(envelope('closed', result.exception === null ? {} : { exception: result.exception }));
      await channel.close();
      const results = await session.close();
      return { result, results, raw, logs, stdout: stdout.text, stderr: stderr.text };
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  it('runs a Python payload as a Slurm job and relays everything live', async () => {
    const secret = `not-a-real-secret-${Date.now()}`;
    const run = await runStep([fixture('report.py'), 'arg with spaces $(x)'], {
      config: config(
        {
          payloadEnv: { SLURM_PIPES_TEST_EXTRA: "quote ' and $(subst)", SLURM_SSH_PASSWORD: secret },
          extraFiles: [fixture('extra-data.json')],
        },
        // Key auth succeeds first; the password only has to stay on this machine.
        { password: secret },
      ),
      partitionKey: '2026-11-01',
    });
    const { result, results } = run;
    console.info(`Python job timings: ${JSON.stringify(result.timings)}`);
    expect(result.exception).toBeNull();
    expect(result.exitCode).toBe(0);
    expect(result.state).toBe('COMPLETED');
    expect(result.runDir).toMatch(
      /\/\.slurm-pipes\/runs\/it-[a-z0-9]+\/slurm\.demo-[0-9a-f]{10}\/2026-11-01-[0-9a-f]{10}$/,
    );

    expect(results.logs.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^hello from n\d job \d+$/),
    );
    expect(results.checks).toMatchObject([{ checkName: 'positive', passed: true, severity: 'WARN' }]);
    expect(results.customMessages).toEqual([{ partition: '2026-11-01' }]);
    expect(results.protocolErrors).toEqual([]);
    expect(results.warnings).toEqual([]);
    const [materialization] = results.materializations;
    const metadata = materialization?.metadata ?? {};
    expect(materialization?.dataVersion).toBe('v1');
    expect(metadata.arg).toEqual({ raw_value: 'arg with spaces $(x)', type: '__infer__' });
    expect(metadata.extra).toEqual({ raw_value: "quote ' and $(subst)", type: '__infer__' });
    expect(metadata.cwd?.raw_value).toBe(result.runDir);
    expect(metadata.slurm_job_id).toEqual({ raw_value: result.jobId, type: 'text' });
    expect(metadata.slurm_state).toEqual({ raw_value: 'COMPLETED', type: 'text' });
    expect(metadata.slurm_exit_code).toEqual({ raw_value: 0, type: 'int' });
    expect(metadata.slurm_nodes?.raw_value).toMatch(/^n\d$/);
    expect(metadata.slurm_elapsed_seconds?.type).toBe('int');
    expect(metadata.slurm_max_rss_bytes?.raw_value).toBeGreaterThan(0);
    expect(metadata.slurm_cpu_efficiency?.type).toBe('float');
    // The payload's 1.0 reached "Dagster" as a float lexeme, not as 1.
    const rawMaterialization = run.raw.find((line) => line.includes('report_asset_materialization'));
    expect(rawMaterialization).toContain('"ratio": {"raw_value": 1.0, "type": "float"}');
    // Results keep their order (the check was held behind the materialization); the custom
    // message, reported last, went out live before the held results were released.
    const at = (method: string) => run.raw.findIndex((l) => l.includes(`"${method}"`));
    expect(at('report_asset_materialization')).toBeLessThan(at('report_asset_check'));
    expect(at('report_custom_message')).toBeLessThan(at('report_asset_materialization'));

    expect(run.stdout).toContain('stdout from the job ✓\n');
    expect(run.stderr).toContain('stderr from the job\n');
    expect(run.logs.some((l) => /RUNNING on n\d/.test(l))).toBe(true);
    const [job] = await jobRecord(result.jobId);
    expect(job).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
    expect(job?.jobName).toMatch(/^slurm-pipes-slurm\.demo-/);

    // The run directory: private, with the durable record, and no secrets in any file.
    const listing = await cluster.exec(
      `stat -c '%a %n' ${result.runDir} ${result.runDir}/*; cat ${result.runDir}/job.json`,
    );
    expect(listing.stdout).toMatch(/^700 /);
    for (const name of ['context.json', 'messages.jsonl', 'stdout', 'stderr', 'job.json']) {
      expect(listing.stdout).toMatch(new RegExp(`^600 .*/${name.replace('.', '\\.')}$`, 'm'));
    }
    expect(listing.stdout).toMatch(/^700 .*\/job\.sh$/m);
    expect(listing.stdout).toContain(`"jobId": "${result.jobId}"`);
    expect(metadata.extra_file).toEqual({
      raw_value: { rows: 3, note: 'shipped with the payload' },
      type: 'json',
    });
    const leaked = await cluster.exec(`grep -rl -- ${secret} ~/.slurm-pipes || true`);
    expect(leaked.stdout).toBe('');
    expect(run.logs).toContainEqual(expect.stringContaining('not exported to the job'));
  });

  it('runs a TypeScript worker bundled for the cluster node', async () => {
    const run = await runStep([fixture('worker.ts'), 'a', 'b c']);
    console.info(`TS job timings: ${JSON.stringify(run.result.timings)}`);
    expect(run.result.exception).toBeNull();
    expect(run.result.state).toBe('COMPLETED');
    expect(run.results.logs.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^hello from node v\d+/),
    );
    const metadata = run.results.materializations[0]?.metadata ?? {};
    expect(metadata.args).toEqual({ raw_value: ['a', 'b c'], type: 'json' });
    expect(metadata.slurm_state).toEqual({ raw_value: 'COMPLETED', type: 'text' });
    expect(run.raw.find((l) => l.includes('report_asset_materialization'))).toMatch(/"raw_value":1\.0/);
    expect(run.stdout).toContain('stdout from the TS worker');
  });

  it("ships this machine's Node runtime when the cluster has none, once", async () => {
    const first = await runStep([fixture('worker.ts')], { remoteNode: 'no-such-node' });
    expect(first.result.exception).toBeNull();
    const shipped = first.logs.find((l) => l.includes("using this machine's"));
    expect(shipped).toMatch(/no Node\.js 18\+ \(`no-such-node` not found\).*\/cache\/[0-9a-f]{64}\/node/);
    expect(first.results.logs.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^hello from node v\d+/),
    );
    const second = await runStep([fixture('worker.ts')], { remoteNode: 'no-such-node' });
    expect(second.logs.find((l) => l.includes("using this machine's"))).toMatch(/\(cached\)$/);
  });

  it('fails the step with state, exit code, fix and stderr tail when the job fails', async () => {
    const run = await runStep([fixture('fails.py')]);
    const { result } = run;
    expect(result.state).toBe('FAILED');
    expect(result.exitCode).toBe(1);
    const message = result.exception?.message ?? '';
    expect(message).toContain(`Slurm job ${result.jobId} ended FAILED (exit code 1`);
    expect(message).toContain('Fix: ');
    expect(message).toContain("Last 30 line(s) of the job's stderr:");
    expect(message).toContain('ValueError: boom from the cluster');
    expect(message).not.toContain('diagnostic line 5\n');
    expect(result.exception?.cause?.name).toBe('ValueError');
    expect(run.results.closed?.exception?.name).toBe('SlurmJobFailed');
    expect(run.results.logs.map((l) => l.message)).toContain('about to fail');
    const [job] = await jobRecord(result.jobId);
    expect(job).toMatchObject({ state: 'FAILED', exitCode: '1:0' });
  });

  it('runs srun on both nodes of a two-node job', async () => {
    const run = await runStep([fixture('two_nodes.py')], {
      config: config({ extraSlurmOpts: { nodes: 2 } }),
    });
    expect(run.result.exception).toBeNull();
    const metadata = run.results.materializations[0]?.metadata ?? {};
    expect(metadata.srun_nodes).toEqual({ raw_value: [...cluster.nodes].sort(), type: 'json' });
    expect(metadata.slurm_nodes).toEqual({ raw_value: 'n[1-2]', type: 'text' });
    const records = await jobRecord(run.result.jobId);
    expect(records[0]).toMatchObject({ state: 'COMPLETED', allocNodes: '2' });
  });

  it('submits nothing when the step is stopped before submission', async () => {
    const run = await runStep([fixture('report.py')], { abortAtStart: true });
    expect(run.result).toMatchObject({ exitCode: 130, jobId: undefined, state: undefined });
    expect(run.result.exception?.message).toContain('stopped before its Slurm job was submitted');
  });

  it('cancels the job when the step is terminated, and reports CANCELLED', async () => {
    const started = Date.now();
    const run = await runStep([fixture('sleeps.py')], { abortWhen: (line) => /RUNNING on/.test(line) });
    console.info(`terminate → CANCELLED reported in ${Date.now() - started} ms total`);
    expect(run.result.state).toBe('CANCELLED');
    expect(run.result.exitCode).toBe(130);
    expect(run.result.exception?.name).toBe('SlurmJobCancelled');
    expect(run.results.logs.map((l) => l.message)).toContain('sleeping until cancelled');
    const [job] = await jobRecord(run.result.jobId);
    expect(job?.state).toMatch(/^CANCELLED/);
  });
});
