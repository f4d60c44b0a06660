// Load: fifty steps at once, each its own bridge process, share one SSH connection through the
// multiplexing daemon against an sshd at its default MaxSessions (10), and all succeed.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMuxDaemonStatus, stopMuxDaemon } from '@slurm-pipes/slurm-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venvPython } from '../helpers/python.js';
import { getSlurmCluster, type SlurmClusterHandle } from '../helpers/slurm-cluster.js';

const repo = join(import.meta.dirname, '..', '..');
const STEPS = 50;

describe('load', () => {
  let cluster: SlurmClusterHandle;
  const muxDir = mkdtempSync(join(tmpdir(), 'sp-load-'));
  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    await stopMuxDaemon({ dir: muxDir }).catch(() => undefined);
    await cluster?.stop();
  });

  it(`runs ${STEPS} concurrent steps over one SSH login with MaxSessions 10`, async () => {
    const maxSessions = (
      await cluster.exec(
        'grep -i "^MaxSessions" "$(dirname "$SLURM_CONF")/../../ssh/sshd_config" 2>/dev/null || true',
        { reject: false },
      )
    ).stdout;
    const env = {
      ...process.env,
      SLURM_SSH_HOST: cluster.host,
      SLURM_SSH_PORT: String(cluster.port),
      SLURM_SSH_USER: cluster.user,
      SLURM_SSH_KEY: cluster.keyPath,
      SLURM_SSH_KNOWN_HOSTS: cluster.knownHostsPath,
      SLURM_PIPES_MUX_DIR: muxDir,
    };
    const runOne = (i: number) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--conditions=@slurm-pipes/source',
            '--import',
            'tsx',
            'packages/bridge/src/cli.ts',
            'run',
            '--json',
            '--mode',
            'slurm',
            '--python',
            venvPython(),
            '--slurm-opt',
            'cpus_per_task=1',
            '--slurm-opt',
            'mem=64M',
            '--asset-key',
            `load/a${i}`,
            '--',
            join(repo, 'examples/hello.py'),
          ],
          { cwd: repo, env },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('close', (code) => resolve({ code, out, err }));
      });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: STEPS }, (_, i) => runOne(i)));
    console.info(
      `[load] ${STEPS} steps in ${((Date.now() - started) / 1000).toFixed(1)} s; sshd ${maxSessions.trim() || 'MaxSessions default (10)'}`,
    );
    const failed = results.filter((r) => r.code !== 0);
    expect(failed.map((r) => r.err.slice(-500))).toEqual([]);
    for (const r of results) expect(r.out).toContain('"event":"summary","ok":true');
    const fallbacks = results
      .filter((r) => /multiplexing unavailable/.test(r.err))
      .map((r) => r.err.split('\n').find((l) => /multiplexing unavailable/.test(l)));
    expect(fallbacks).toEqual([]);
    // Every bridge went through the one daemon, which logged in once. (The cluster may be shared
    // with other test runs, so the daemon's own count is the measure here; the twenty-asset
    // Dagster test counts sshd's log.)
    const status = await getMuxDaemonStatus({ dir: muxDir });
    expect(status?.connections).toHaveLength(1);
    expect(status?.authCount).toBe(1);
    expect(status?.connections[0]?.channelLimit).toBeLessThanOrEqual(10);
  }, 600_000);
});
