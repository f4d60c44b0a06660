// Load: fifty steps at once, each its own bridge process, share one SSH connection through the
// multiplexing daemon against an sshd at MaxSessions 10 (channels beyond it queue, none is
// refused), and all succeed; and the bridge's memory stays flat while it relays a million
// messages from one Slurm job. Figures go to bench-results/ (slurm-load.json, relay-memory.json).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMuxDaemonStatus, stopMuxDaemon } from '@slurm-pipes/slurm-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/flags.js';
import { type RssSample, runFlood } from '../helpers/flood-host.js';
import { repoRoot, venvPython } from '../helpers/python.js';
import {
  clusterSshEnv,
  getSlurmCluster,
  parseEnvFile,
  type SlurmClusterHandle,
  slurmClusterMissing,
} from '../helpers/slurm-cluster.js';

const missing = skipReason(await slurmClusterMissing());
const STEPS = 50;
const MESSAGES = 1_000_000;
const benchDir = join(repoRoot, 'bench-results');

function writeBench(name: string, figures: object): void {
  mkdirSync(benchDir, { recursive: true });
  writeFileSync(join(benchDir, name), `${JSON.stringify(figures, null, 2)}\n`);
}

// sshd's MaxSessions as the cluster was set up (native-up.sh writes it to the env file).
function maxSessions(): number | undefined {
  const fromEnv = process.env.SLURM_PIPES_SSH_MAX_SESSIONS;
  const file = process.env.SLURM_PIPES_CLUSTER_ENV;
  const value =
    fromEnv ??
    (file === undefined ? undefined : parseEnvFile(readFileSync(file, 'utf8')).SLURM_PIPES_SSH_MAX_SESSIONS);
  return value === undefined ? undefined : Number(value);
}

describe.skipIf(missing !== undefined)('load', () => {
  let cluster: SlurmClusterHandle;
  // Short paths: the daemon's socket path must stay under 100 bytes.
  const muxDirs: string[] = [];
  const muxDir = () => {
    const dir = mkdtempSync('/tmp/sp-load-');
    muxDirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    for (const dir of muxDirs) {
      await stopMuxDaemon({ dir }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
    await cluster?.stop();
  });

  it(`runs ${STEPS} concurrent steps over one SSH login with MaxSessions 10`, async ({ task }) => {
    const dir = muxDir();
    const env = {
      ...process.env,
      ...clusterSshEnv(cluster),
      SLURM_PIPES_MUX_DIR: dir,
    };
    const runOne = (i: number) =>
      new Promise<{ code: number | null; out: string; err: string; ms: number }>((resolve) => {
        const started = Date.now();
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
            join(repoRoot, 'examples/hello.py'),
          ],
          { cwd: repoRoot, env },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('close', (code) => resolve({ code, out, err, ms: Date.now() - started }));
      });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: STEPS }, (_, i) => runOne(i)));
    const totalMs = Date.now() - started;
    const status = await getMuxDaemonStatus({ dir });
    const connection = status?.connections[0];
    const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
    // Each bridge's own account: "Slurm job N COMPLETED: staged 0.9 s, sbatch 0.0 s, queued …".
    const phases = ['staged', 'sbatch', 'queued', 'ran', 'finished'] as const;
    const medianPhase = Object.fromEntries(
      phases.map((phase) => {
        const values = results
          .map((r) => Number(new RegExp(`${phase} (\\d+\\.\\d) s`).exec(r.err)?.[1]))
          .filter(Number.isFinite)
          .sort((a, b) => a - b);
        return [phase, values[Math.floor(values.length / 2)]];
      }),
    );
    const figures = {
      steps: STEPS,
      ok: results.filter((r) => r.code === 0).length,
      totalSeconds: totalMs / 1000,
      stepSeconds: {
        min: (sorted[0] ?? 0) / 1000,
        median: (sorted[Math.floor(sorted.length / 2)] ?? 0) / 1000,
        max: (sorted.at(-1) ?? 0) / 1000,
      },
      medianPhaseSeconds: medianPhase,
      sshdMaxSessions: maxSessions() ?? 'default (10)',
      daemonConnections: status?.connections.length,
      daemonLogins: status?.authCount,
      channelLimit: connection?.channelLimit,
      cpus: (await import('node:os')).availableParallelism(),
      measuredAt: new Date().toISOString(),
    };
    writeBench('slurm-load.json', figures);
    task.meta.figures = `${figures.ok} of ${STEPS} ok in ${figures.totalSeconds.toFixed(1)} s (step median ${figures.stepSeconds.median.toFixed(1)} s), ${figures.daemonLogins} login, channel limit ${figures.channelLimit}`;
    console.info(`[load] ${JSON.stringify(figures)}`);
    const failed = results.filter((r) => r.code !== 0);
    expect(failed.map((r) => r.err.slice(-800))).toEqual([]);
    for (const r of results) expect(r.out).toContain('"event":"summary","ok":true');
    // Queued, not refused: no bridge fell back to a direct login or saw a refused channel.
    const fallbacks = results.flatMap((r) =>
      r.err.split('\n').filter((line) => /multiplexing unavailable|ERR_SSH_CHANNEL|open failed/i.test(line)),
    );
    expect(fallbacks).toEqual([]);
    // Every bridge went through the one daemon, which logged in once.
    expect(status?.connections).toHaveLength(1);
    expect(status?.authCount).toBe(1);
    expect(connection?.channelLimit).toBeLessThanOrEqual(10);
  }, 600_000);

  it(`keeps the bridge's memory flat while it relays ${MESSAGES.toLocaleString('en')} messages from one job`, async ({
    task,
  }) => {
    const run = await runFlood({
      cluster,
      n: MESSAGES,
      assetKeys: [
        ['memory', 'a'],
        ['memory', 'b'],
      ],
      muxDir: muxDir(),
      rssEveryMs: 250,
    });
    const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
    const after100k = run.rss.find((s) => s.messages >= 100_000);
    const final = run.rss.at(-1);
    const peak = run.rss.reduce<RssSample | undefined>(
      (p, s) => (p === undefined || s.rssKiB > p.rssKiB ? s : p),
      undefined,
    );
    // At most ~120 evenly spaced samples in the file; all figures come from every sample.
    const step = Math.max(1, Math.ceil(run.rss.length / 120));
    const figures = {
      messages: MESSAGES,
      delivered: run.distinct,
      duplicates: run.duplicates,
      missing: run.missing,
      seconds: run.durationMs / 1000,
      messagesPerSecond: Math.round(MESSAGES / (run.durationMs / 1000)),
      rssMiB: {
        first: mib(run.rss[0]?.rssKiB ?? 0),
        after100kMessages: mib(after100k?.rssKiB ?? 0),
        peak: mib(peak?.rssKiB ?? 0),
        peakAtMessages: peak?.messages,
        final: mib(final?.rssKiB ?? 0),
      },
      samples: run.rss.filter((_, i) => i % step === 0).map((s) => ({ ...s, rssMiB: mib(s.rssKiB) })),
      measuredAt: new Date().toISOString(),
    };
    writeBench('relay-memory.json', figures);
    const r = figures.rssMiB;
    task.meta.figures = `bridge RSS ${r.after100kMessages} MiB after 100,000 messages, peak ${r.peak} MiB, ${r.final} MiB at the end; ${figures.messagesPerSecond.toLocaleString('en')} messages/s`;
    const { samples: _, ...headline } = figures;
    console.info(`[relay-memory] ${JSON.stringify(headline)}`);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expect(run.missing).toBe(0);
    expect(run.duplicates).toBe(0);
    expect(run.outOfOrder).toBe(0);
    expect(run.kinds.materialization).toBe(2);
    expect(after100k, 'an RSS sample after the first 100,000 messages').toBeDefined();
    const base = after100k?.rssKiB ?? 0;
    // Loose on purpose (the exact figures are in bench-results/relay-memory.json): flat means
    // the last sample is under twice the one after 100k messages, and nowhere near the stream.
    expect(final?.rssKiB ?? 0).toBeLessThan(2 * base);
    expect(peak?.rssKiB ?? 0).toBeLessThan(300 * 1024);
  }, 240_000);
});
