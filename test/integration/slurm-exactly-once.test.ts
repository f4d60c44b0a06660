// Exactly once across disconnects: a multi-asset job sends 100,000 sequence-numbered messages of
// every kind while the suite cuts the SSH connection (the sshd processes serving it are killed),
// keeps sshd down for a few seconds, kills the multiplexing daemon and restarts sshd; the real
// CLI relays through its own daemon to a Pipes host playing Dagster, which must see 0..N-1 once
// each, in order (streamed messages in order, and results in order among themselves: the bridge
// holds results to the end to add the job's accounting, which Dagster cannot tell apart).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getMuxDaemonStatus, stopMuxDaemon } from '@slurm-pipes/slurm-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/flags.js';
import { runFlood } from '../helpers/flood-host.js';
import { repoRoot } from '../helpers/python.js';
import {
  getSlurmCluster,
  parseEnvFile,
  type SlurmClusterHandle,
  slurmClusterMissing,
} from '../helpers/slurm-cluster.js';

const missing = skipReason(await slurmClusterMissing());
const N = 100_000;

// The native cluster's state directory, for faults native-ctl.sh has but the handle does not
// (stop-sshd / start-sshd: an outage, not just a cut).
function nativeState(): string | undefined {
  if (process.env.SLURM_PIPES_CLUSTER_STATE !== undefined) return process.env.SLURM_PIPES_CLUSTER_STATE;
  const file = process.env.SLURM_PIPES_CLUSTER_ENV;
  return file === undefined ? undefined : parseEnvFile(readFileSync(file, 'utf8')).SLURM_PIPES_CLUSTER_STATE;
}

async function nativeCtl(state: string, command: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile(
      'bash',
      [join(repoRoot, 'scripts/cluster/native-ctl.sh'), command],
      { env: { ...process.env, SLURM_PIPES_CLUSTER_STATE: state } },
      (error, _stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr}`)) : resolve()),
    ),
  );
}

describe.skipIf(missing !== undefined)('exactly-once relay across SSH disconnects', () => {
  let cluster: SlurmClusterHandle;
  // A short path: the daemon's socket path must stay under 100 bytes.
  const muxDir = mkdtempSync('/tmp/sp-once-');
  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    await stopMuxDaemon({ dir: muxDir }).catch(() => undefined);
    rmSync(muxDir, { recursive: true, force: true });
    await cluster?.stop();
  });

  it(`delivers ${N.toLocaleString('en')} messages once and in order (every kind, three assets) while SSH is cut, down and restarted`, async () => {
    const state = cluster.kind === 'container' ? undefined : nativeState();
    const faults: string[] = [];
    const timers: NodeJS.Timeout[] = [];
    let chain = Promise.resolve();
    const at = (ms: number, name: string, action: () => Promise<void>) =>
      timers.push(
        setTimeout(() => {
          chain = chain.then(action).then(
            () => void faults.push(name),
            (error: unknown) => void faults.push(`${name} failed: ${(error as Error).message}`),
          );
        }, ms),
      );
    const run = await runFlood({
      cluster,
      n: N,
      assetKeys: [
        ['flood', 'a'],
        ['flood', 'b'],
        ['flood', 'c'],
      ],
      // 100 messages every 15 ms: about 15 s of stream for the faults to land in.
      paceEvery: 100,
      paceMs: 15,
      muxDir,
      onRunning: () => {
        at(1_500, 'cut 1', () => cluster.inject('kill-sshd-sessions'));
        at(4_000, 'cut 2', () => cluster.inject('kill-sshd-sessions'));
        if (state !== undefined) {
          // An outage: the connection is cut and sshd is gone for 3 s, so reconnects are refused
          // and retried. (Cut first: native-ctl.sh finds the sessions through the listener.)
          at(6_500, 'outage', async () => {
            await cluster.inject('kill-sshd-sessions');
            await nativeCtl(state, 'stop-sshd');
            await new Promise((resolve) => setTimeout(resolve, 3_000));
            await nativeCtl(state, 'start-sshd');
          });
        }
        at(11_000, 'cut 3', () => cluster.inject('kill-sshd-sessions'));
        // The multiplexing daemon dies (SIGKILL, by its pid): the bridge's next call starts a
        // new one, which logs in again.
        at(12_500, 'daemon killed', async () => {
          const pid = (await getMuxDaemonStatus({ dir: muxDir }))?.pid;
          if (pid === undefined) throw new Error('no daemon answers');
          process.kill(pid, 'SIGKILL');
        });
        // Last, since the open connection then outlives its listener (as with a real sshd
        // restart) and no later cut can reach it.
        at(14_000, 'restart sshd', () => cluster.inject('restart-sshd'));
      },
    });
    for (const timer of timers) clearTimeout(timer);
    await chain;
    const summary = {
      code: run.code,
      durationS: run.durationMs / 1000,
      faults,
      distinct: run.distinct,
      duplicates: run.duplicates,
      missing: run.missing,
      outOfOrder: run.outOfOrder,
      kinds: run.kinds,
      reconnects: run.stderr.match(/interrupted/g)?.length ?? 0,
    };
    console.info(`[exactly-once] ${JSON.stringify(summary)}`);
    console.info(
      run.stderr
        .split('\n')
        .filter((line) => /interrupted|not answered|could not query|COMPLETED|RUNNING/.test(line))
        .join('\n'),
    );
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
    expect(faults.filter((f) => f.includes('failed'))).toEqual([]);
    expect(faults.length, 'faults injected while the job ran').toBeGreaterThanOrEqual(5);
    // The relay noticed the cuts and resumed. (Not necessarily each: a cut that lands while the
    // daemon is still logging in again after the one before finds no connection to cut.)
    expect(summary.reconnects).toBeGreaterThanOrEqual(3);
    expect(run.duplicates).toBe(0);
    expect(run.missing).toBe(0);
    expect(run.outOfOrder).toBe(0);
    expect(run.distinct).toBe(N);
    expect(run.kinds.materialization).toBe(3);
    expect(run.kinds.check).toBe(N / 1000);
    expect(run.materializations.map((m) => m.assetKey).sort()).toEqual(['flood/a', 'flood/b', 'flood/c']);
    for (const m of run.materializations) expect(m.slurmJobId).toEqual(expect.stringMatching(/^\d+$/));
    expect(run.results.closed).toEqual({ exception: null });
    // The job's stdout, relayed by byte offset too: each line once.
    const floodLines = run.stdout.split('\n').filter((line) => line.startsWith('flood '));
    expect(floodLines).toEqual([
      ...Array.from({ length: N / 10_000 }, (_, i) => `flood at ${i * 10_000}`),
      `flood sent ${N}`,
    ]);
  }, 240_000);
});
