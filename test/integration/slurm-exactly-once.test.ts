// Exactly once across disconnects: a job sends 100,000 messages of every kind while the SSH
// connection is cut several times and sshd restarted; the Pipes host receives each once, in order.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildPipesContextData, openPipesSession } from '@slurm-pipes/pipes-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venvPython } from '../helpers/python.js';
import { getSlurmCluster, type SlurmClusterHandle } from '../helpers/slurm-cluster.js';

const repo = join(import.meta.dirname, '..', '..');
const N = 100_000;

describe('exactly-once relay across SSH disconnects', () => {
  let cluster: SlurmClusterHandle;
  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it(`delivers ${N} messages once and in order while the connection is cut and sshd restarted`, async () => {
    const context = buildPipesContextData({ assetKeys: [['flood']], runId: `flood-${Date.now()}` });
    const session = await openPipesSession({ context, injector: 'file', reader: 'file', streaming: true });
    const seen: number[] = [];
    let checks = 0;
    let materializations = 0;
    let outOfOrder = 0;
    const reading = (async () => {
      for await (const e of session.events()) {
        if (e.kind !== 'message') continue;
        const m = e.message;
        let seq: number | undefined;
        if (m.method === 'log' && m.params.message.startsWith('seq '))
          seq = Number(m.params.message.slice(4));
        else if (m.method === 'report_custom_message') seq = (m.params.payload as { seq: number }).seq;
        else if (m.method === 'report_asset_check') checks++;
        else if (m.method === 'report_asset_materialization') materializations++;
        if (seq !== undefined) {
          if (seq !== seen.length) outOfOrder++;
          seen.push(seq);
        }
      }
    })();
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
        '--',
        join(repo, 'test/fixtures/slurm-payloads/flood_kinds.py'),
        String(N),
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          ...session.bootstrapEnv(),
          SLURM_SSH_HOST: cluster.host,
          SLURM_SSH_PORT: String(cluster.port),
          SLURM_SSH_USER: cluster.user,
          SLURM_SSH_KEY: cluster.keyPath,
          SLURM_SSH_KNOWN_HOSTS: cluster.knownHostsPath,
          SLURM_PIPES_MUX_DIR: '',
        },
      },
    );
    let stderr = '';
    const faults: string[] = [];
    let running = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (!running && /RUNNING on/.test(stderr)) {
        running = true;
        // Cut the connection twice mid-stream, then restart sshd itself.
        const plan: Array<[number, 'kill-sshd-sessions' | 'restart-sshd']> = [
          [1_500, 'kill-sshd-sessions'],
          [4_000, 'kill-sshd-sessions'],
          [6_500, 'restart-sshd'],
        ];
        for (const [at, fault] of plan) {
          setTimeout(() => {
            if (child.exitCode === null) void cluster.inject(fault).then(() => faults.push(fault));
          }, at);
        }
      }
    });
    child.stdout.resume();
    const code = await new Promise((resolve) => child.on('close', resolve));
    const results = await session.close();
    await reading;
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(faults.length, 'faults injected while the job ran').toBeGreaterThanOrEqual(2);
    expect(stderr).toMatch(/restarting from the last offsets/);
    expect(outOfOrder).toBe(0);
    expect(seen.length).toBe(N);
    expect(new Set(seen).size).toBe(N);
    expect(checks).toBe(N / 1000);
    expect(materializations).toBe(1);
    expect(results.closed).toEqual({ exception: null });
  }, 300_000);
});
