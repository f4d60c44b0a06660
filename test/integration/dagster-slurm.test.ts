// The real Dagster runs assets as Slurm jobs on the real test cluster through
// ComputeResource(mode="slurm"): Dagster → bridge → SSH → sbatch → payload → messages back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopMuxDaemon } from '@slurm-pipes/slurm-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DagsterRunResult,
  errorChainText,
  eventsOf,
  executeJobWithDagster,
  logsOf,
  materializationOf,
  materializeWithDagster,
} from '../helpers/dagster.js';
import { skipReason } from '../helpers/flags.js';
import { dagsterMissing, repoRoot } from '../helpers/python.js';
import { clusterSshEnv, getSlurmCluster, type SlurmClusterHandle } from '../helpers/slurm-cluster.js';

const skip = skipReason(dagsterMissing());
const definitions = join(repoRoot, 'test/dagster/slurm_defs.py');

describe.skipIf(skip !== undefined)('Dagster → Slurm, real Dagster and a real cluster', () => {
  let cluster: SlurmClusterHandle;
  let env: NodeJS.ProcessEnv;
  let runs: Map<string, DagsterRunResult>;
  const muxDirs: string[] = [];

  beforeAll(async () => {
    // CI runs this suite on the containerised cluster, where the login node is another host
    // (SLURM_PIPES_E2E_CLUSTER=container); other suites keep the faster native one.
    const e2eKind = process.env.SLURM_PIPES_E2E_CLUSTER;
    if (e2eKind !== undefined && e2eKind !== '') process.env.SLURM_PIPES_CLUSTER = e2eKind;
    cluster = await getSlurmCluster();
    console.info(
      `[dagster-slurm] cluster: ${cluster.kind} (${cluster.user}@${cluster.host}:${cluster.port})`,
    );
    env = {
      ...clusterSshEnv(cluster),
      SLURM_SSH_HOST_KEY_CHECKING: 'strict',
      SLURM_PIPES_MUX_DIR: mkdtempSync(join(tmpdir(), 'sp-mux-')),
    };
    muxDirs.push(env.SLURM_PIPES_MUX_DIR as string);
    Object.assign(process.env, env);
    const result = await materializeWithDagster(
      [
        { name: 'ts', selection: ['slurm_ts'] },
        { name: 'py', selection: ['slurm_py'] },
        { name: 'two', selection: ['slurm_two_nodes'] },
        { name: 'fails', selection: ['slurm_fails'] },
      ],
      { definitions, timeoutMs: 300_000 },
    );
    runs = new Map(result.runs.map((r) => [r.name, r]));
  });

  afterAll(async () => {
    for (const dir of muxDirs) await stopMuxDaemon({ dir }).catch(() => undefined);
    for (const k of Object.keys(env ?? {})) delete process.env[k];
    await cluster?.stop();
  });

  const run = (name: string) => {
    const r = runs.get(name);
    if (!r) throw new Error(`no run ${name}`);
    return r;
  };
  const jobIdOf = (r: DagsterRunResult, key: string) =>
    String(materializationOf(r, [key]).metadata.slurm_job_id?.value);

  it('runs a Node worker as a Slurm job: metadata, check, logs and Slurm metrics reach Dagster', async () => {
    const r = run('ts');
    expect(r.success, errorChainText(eventsOf(r, 'STEP_FAILURE')[0]?.error)).toBe(true);
    const mat = materializationOf(r, ['slurm_ts']);
    expect(mat.metadata.mean).toMatchObject({ class: 'FloatMetadataValue', repr: '6.0' });
    expect(mat.metadata.slurm_state?.value).toBe('COMPLETED');
    expect(mat.metadata.slurm_nodes?.value).toMatch(/^n[12]$/);
    expect(eventsOf(r, 'ASSET_CHECK_EVALUATION')[0]?.check).toMatchObject({
      check_name: 'non_empty',
      passed: true,
    });
    expect(logsOf(r, 'slurm_ts').map(([, m]) => m)).toContain('worker started: hello');
    const sacct = await cluster.waitForJob(jobIdOf(r, 'slurm_ts'));
    expect(sacct[0]?.state).toBe('COMPLETED');
  });

  it('runs a Python payload with per-asset overrides; sacct shows it COMPLETED', async () => {
    const r = run('py');
    expect(r.success, errorChainText(eventsOf(r, 'STEP_FAILURE')[0]?.error)).toBe(true);
    const mat = materializationOf(r, ['slurm_py']);
    expect(mat.metadata.rows).toMatchObject({ class: 'IntMetadataValue', value: 42 });
    expect(mat.metadata.slurm_exit_code?.value).toBe(0);
    const jobId = jobIdOf(r, 'slurm_py');
    const sacct = await cluster.waitForJob(jobId);
    expect(sacct[0]?.state).toBe('COMPLETED');
    const mem = await cluster.exec(
      `scontrol show job ${jobId} 2>/dev/null | grep -o 'mem=[^,]*' || sacct -j ${jobId} -X -n -P -o ReqMem`,
    );
    expect(mem.stdout).toMatch(/300M/);
  });

  it('runs a two-node job whose srun reaches both nodes', () => {
    const r = run('two');
    expect(r.success, errorChainText(eventsOf(r, 'STEP_FAILURE')[0]?.error)).toBe(true);
    expect(materializationOf(r, ['slurm_two_nodes']).metadata.srun_nodes?.value).toEqual(['n1', 'n2']);
  });

  it('fails the step of a failed job with its state, exception and stderr tail', () => {
    const r = run('fails');
    expect(r.success).toBe(false);
    const text = JSON.stringify(r.events.filter((e) => e.error !== undefined).map((e) => e.error));
    expect(text).toContain('FAILED');
    expect(text).toContain('boom from the cluster');
    expect(text).toContain('diagnostic line 39');
  });

  it('runs twenty assets in one multiprocess run over one SSH authentication', async () => {
    // A daemon of its own, started by the first of the twenty bridges: every login is counted.
    const muxDir = mkdtempSync(join(tmpdir(), 'sp-mux-'));
    muxDirs.push(muxDir);
    const mark = await cluster.markSshdLog();
    const r = await executeJobWithDagster('slurm_fan_out', {
      definitions,
      maxConcurrent: 8,
      env: { ...env, SLURM_PIPES_MUX_DIR: muxDir },
      timeoutMs: 600_000,
    });
    expect(r.success, errorChainText(eventsOf(r, 'STEP_FAILURE')[0]?.error)).toBe(true);
    expect(eventsOf(r, 'ASSET_MATERIALIZATION')).toHaveLength(20);
    const auths = await cluster.countSshAuthentications(mark);
    expect(auths.total).toBe(1);
  });
});
