// The cluster's own faults against the real Slurm cluster: a node lost mid-job, a requeue
// (`scontrol requeue`, `scontrol requeuehold`) while the job runs, and a full remote disk. The
// bridge follows a requeued job under the same id until its rerun ends, relays every message of
// every run exactly once and in order (the first run's are never taken back, the rerun's follow),
// says when a job is held and how to release it, and names a full disk and its fix.
// Needs a native cluster on this machine and root (scontrol as SlurmUser, killing a node's
// processes, mounting a small filesystem); the node-loss tests run only where the cluster is ours
// alone: under CI, or with SLURM_PIPES_FAULT_TESTS=1.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildPipesContextData,
  openPipesSession,
  type PipesSessionResults,
} from '@slurm-pipes/pipes-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCI, skipReason } from '../helpers/flags.js';
import { venvPython } from '../helpers/python.js';
import {
  clusterSshEnv,
  getSlurmCluster,
  parseEnvFile,
  type SlurmClusterHandle,
  slurmClusterMissing,
} from '../helpers/slurm-cluster.js';

const repo = join(import.meta.dirname, '..', '..');
const fixtures = join(repo, 'test/fixtures/faults-cluster');
const missing = skipReason(await slurmClusterMissing());

/** Runs `script` with bash as root on this machine, with the cluster's slurm.conf. */
function asRoot(script: string, slurmConf: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { env: { ...process.env, SLURM_CONF: slurmConf }, encoding: 'utf8' },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), out: `${stdout}${stderr}` });
      },
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(missing !== undefined)('the cluster’s own faults', () => {
  let cluster: SlurmClusterHandle;
  let env: NodeJS.ProcessEnv;
  let slurmConf = '';
  let clusterState = '';
  let local = false;
  // A multiplexing daemon of this file's own, so it runs this checkout's code and is stopped after.
  let muxDir = '';
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    cluster = await getSlurmCluster();
    env = {
      ...process.env,
      ...clusterSshEnv(cluster),
    };
    const file = process.env.SLURM_PIPES_CLUSTER_ENV;
    const vars = file === undefined ? {} : parseEnvFile(await readFile(file, 'utf8'));
    slurmConf = vars.SLURM_PIPES_SLURM_CONF ?? process.env.SLURM_PIPES_SLURM_CONF ?? '';
    clusterState = vars.SLURM_PIPES_CLUSTER_STATE ?? process.env.SLURM_PIPES_CLUSTER_STATE ?? '';
    local = cluster.kind === 'native' && process.getuid?.() === 0 && slurmConf !== '';
    muxDir = await mkdtemp(join(tmpdir(), 'faults-mux-'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (muxDir !== '') {
      await new Promise((resolve) =>
        execFile(
          process.execPath,
          [
            '--conditions=@slurm-pipes/source',
            '--import',
            'tsx',
            'packages/bridge/src/cli.ts',
            'mux',
            'stop',
          ],
          { cwd: repo, env: { ...process.env, SLURM_PIPES_MUX_DIR: muxDir } },
          resolve,
        ),
      );
      await rm(muxDir, { recursive: true, force: true });
    }
    await cluster?.stop();
  });

  /** These tests act as root on the cluster's machine; elsewhere they skip, or fail under CI. */
  function needLocal(context: { skip: (note: string) => void }) {
    if (local) return;
    const why = `needs a native cluster on this machine and root (this is a ${cluster.kind} cluster)`;
    if (isCI) throw new Error(`CI=true: ${why}`);
    context.skip(why);
  }

  const root = (script: string) => asRoot(script, slurmConf);

  /** Launches the CLI as Dagster would; `onLog` sees each progress line as it comes. */
  async function launch(
    payload: string,
    args: string[],
    onLog?: (line: string, child: ChildProcess) => void,
    slurmOpts: string[] = [],
    extraEnv: NodeJS.ProcessEnv = {},
  ) {
    const runId = `faults-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const context = buildPipesContextData({ assetKeys: [['faults', 'demo']], runId });
    const session = await openPipesSession({ context, injector: 'file', reader: 'file' });
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        ...['--conditions=@slurm-pipes/source', '--import', 'tsx', 'packages/bridge/src/cli.ts'],
        ...['run', '--mode', 'slurm', '--python', venvPython()],
        ...['--slurm-opt', 'cpus_per_task=1', '--slurm-opt', 'mem=200M'],
        ...slurmOpts.flatMap((o) => ['--slurm-opt', o]),
        ...['--', payload, ...args],
      ],
      { cwd: repo, env: { ...env, ...session.bootstrapEnv(), SLURM_PIPES_MUX_DIR: muxDir, ...extraEnv } },
    );
    let stderr = '';
    let partial = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) onLog?.(line, child);
    });
    child.stdout?.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const results: PipesSessionResults = await session.close();
    return { code, stderr, results, ms: Date.now() - started };
  }

  const jobIdIn = (stderr: string) => /submitted Slurm job (\d+)/.exec(stderr)?.[1];
  const runDirIn = (stderr: string) => /run directory on the cluster: (\S+)/.exec(stderr)?.[1];
  const ticksOf = (r: PipesSessionResults) =>
    r.logs.filter((l) => /^tick \d+$/.test(l.message)).map((l) => l.message);

  /** The `log` messages in the job's messages.jsonl, in file order: what the relay had to deliver. */
  async function logsInMessagesFile(runDir: string): Promise<string[]> {
    const text = (await cluster.exec(`cat -- '${runDir}/messages.jsonl'`)).stdout;
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { method: string; params?: { message?: string } })
      .filter((m) => m.method === 'log' && /^tick \d+$/.test(m.params?.message ?? ''))
      .map((m) => m.params?.message ?? '');
  }

  /** Checks that `ticks` is one run's prefix `tick 0..k-1` (k >= 1) followed by a whole run of `total`. */
  function expectFirstRunThenRerun(ticks: string[], total: number) {
    const rerunStart = ticks.lastIndexOf('tick 0');
    expect(rerunStart, ticks.join(',')).toBeGreaterThan(0);
    const seq = (n: number) => Array.from({ length: n }, (_, i) => `tick ${i}`);
    expect(ticks.slice(0, rerunStart)).toEqual(seq(rerunStart));
    expect(ticks.slice(rerunStart)).toEqual(seq(total));
  }

  // (b) requeue: slower than the others, as Slurm holds a requeued job back for about 2 minutes
  // (BeginTime); that wait is where the bridge must keep saying what it waits for.
  it('scontrol requeue while running: the bridge follows the same job id through the requeue, logs progress while it waits, relays the first run’s messages once and the rerun’s after them, and succeeds with the rerun', async (context) => {
    needLocal(context);
    let requeued = false;
    const run = await launch(join(fixtures, 'ticks-slow.py'), ['4'], (line) => {
      const id = jobIdIn(line);
      if (requeued || !/RUNNING on/.test(line)) return;
      requeued = true;
      const jobId = /Slurm job (\d+)/.exec(line)?.[1];
      setTimeout(() => void cluster.exec(`scontrol requeue ${jobId ?? id}`), 1_500);
    });
    expect(run.code, run.stderr).toBe(0);
    const jobId = jobIdIn(run.stderr);
    expect(jobId).toBeDefined();
    expect(run.stderr).toContain(`Slurm job ${jobId} was requeued`);
    expect(run.stderr).toMatch(/runs it again from the start under the same job id/);
    // The ~2 min wait after the requeue is never silent.
    expect(run.stderr).toMatch(new RegExp(`still waiting after \\d+ s: Slurm job ${jobId} PENDING`));
    expect(run.stderr).toContain(`Slurm job ${jobId} COMPLETED`);
    expect(run.stderr.match(/submitted Slurm job/g)).toHaveLength(1);
    // Every tick of both runs, in file order, exactly once: nothing lost, nothing doubled.
    const ticks = ticksOf(run.results);
    expectFirstRunThenRerun(ticks, 8);
    expect(ticks).toEqual(await logsInMessagesFile(runDirIn(run.stderr) ?? ''));
    expect(run.results.materializations).toHaveLength(1);
    const metadata = run.results.materializations[0]?.metadata;
    expect(metadata?.restart_count?.raw_value).toBe(1);
    expect(metadata?.slurm_job_id?.raw_value).toBe(jobId);
    expect(metadata?.slurm_state?.raw_value).toBe('COMPLETED');
    console.info(`requeue: ${run.ms} ms`);
  }, 300_000);

  it('scontrol requeuehold while running: the bridge says the job is held and that `scontrol release <id>` is needed, keeps following, and finishes once it is released and rerun', async (context) => {
    needLocal(context);
    let held = false;
    let released = false;
    let jobId: string | undefined;
    const run = await launch(join(fixtures, 'ticks-slow.py'), ['3'], (line) => {
      jobId ??= jobIdIn(line);
      if (!held && /RUNNING on/.test(line)) {
        held = true;
        setTimeout(() => void cluster.exec(`scontrol requeuehold ${jobId}`), 1_000);
      }
      if (!released && line.includes(`scontrol release ${jobId}`)) {
        released = true;
        // Release as the user would, and (as root) skip the ~2 min requeue delay to keep this short.
        void (async () => {
          await sleep(1_000);
          await cluster.exec(`scontrol release ${jobId}`);
          await root(`scontrol update jobid=${jobId} StartTime=now`);
        })();
      }
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Slurm job ${jobId} was requeued`);
    expect(run.stderr).toMatch(
      new RegExp(
        `Slurm job ${jobId} PENDING \\(job requeued in held state\\): .*held.* It will not start as it is\\. Fix: Release it with \`scontrol release ${jobId}\``,
      ),
    );
    expect(released).toBe(true);
    const ticks = ticksOf(run.results);
    expectFirstRunThenRerun(ticks, 6);
    expect(ticks).toEqual(await logsInMessagesFile(runDirIn(run.stderr) ?? ''));
    expect(run.results.materializations).toHaveLength(1);
    console.info(`requeuehold: ${run.ms} ms`);
  }, 300_000);

  // (a) A node lost mid-job: its slurmd and every process of the job on it die at once (as when
  // the machine goes away), and slurmctld notices after SlurmdTimeout.
  const faultTestsAllowed = () =>
    isCI || process.env.SLURM_PIPES_FAULT_TESTS === '1' || process.env.SLURM_PIPES_FAULT_TESTS === 'true';

  async function loseNode(node: string, jobId: string) {
    cleanups.push(() => restoreNode(node));
    await cluster.inject('kill-slurmd', node);
    // The job's slurmstepd and the payload's processes on that node die with it.
    const killed = await root(
      `for p in /proc/[0-9]*; do pid=\${p#/proc/}; ` +
        `if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q "^slurmstepd: \\[${jobId}\\." || ` +
        `tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx "SLURM_JOB_ID=${jobId}"; then kill -KILL $pid 2>/dev/null && echo $pid; fi; done`,
    );
    expect(killed.out.trim(), 'no process of the job was found to kill').not.toBe('');
  }

  async function restoreNode(node: string) {
    // Idempotent: starts slurmd only when it is down, then returns the node to service.
    await root(
      `export SLURM_PIPES_CLUSTER_STATE='${clusterState}'; ctl='${join(repo, 'scripts/cluster/native-ctl.sh')}'; ` +
        `bash "$ctl" start-slurmd ${node} >/dev/null 2>&1 || true; scontrol update nodename=${node} state=resume >/dev/null 2>&1 || true`,
    );
  }

  it('node lost mid-job, job requeued (JobRequeue=1, Slurm’s default): the bridge follows the requeue and ends with the rerun’s outcome, first run’s messages kept once', async (context) => {
    needLocal(context);
    if (!faultTestsAllowed())
      context.skip('kills a slurmd: set SLURM_PIPES_FAULT_TESTS=1 on a cluster of your own');
    let node: string | undefined;
    let jobId: string | undefined;
    let lost = false;
    let expedited = false;
    const run = await launch(join(fixtures, 'ticks-slow.py'), ['4'], (line) => {
      jobId ??= jobIdIn(line);
      const running = /Slurm job \d+ RUNNING on (\S+)/.exec(line);
      if (!lost && running) {
        lost = true;
        node = running[1];
        setTimeout(() => void loseNode(node ?? 'n1', jobId ?? ''), 1_500);
      }
      if (!expedited && line.includes(`Slurm job ${jobId} was requeued`)) {
        expedited = true;
        // Skip the ~2 min requeue delay (covered by the requeue test) to keep this short.
        void root(`scontrol update jobid=${jobId} StartTime=now`);
      }
    });
    await restoreNode(node ?? 'n1');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Slurm job ${jobId} was requeued`);
    expect(run.stderr).toContain(`Slurm job ${jobId} COMPLETED`);
    const ticks = ticksOf(run.results);
    expectFirstRunThenRerun(ticks, 8);
    expect(ticks).toEqual(await logsInMessagesFile(runDirIn(run.stderr) ?? ''));
    expect(run.results.materializations).toHaveLength(1);
    console.info(`node lost, requeued: ${run.ms} ms`);
  }, 300_000);

  it('node lost mid-job, job not requeueable (--no-requeue): the step fails naming NODE_FAIL and what to do, the first run’s messages all delivered', async (context) => {
    needLocal(context);
    if (!faultTestsAllowed())
      context.skip('kills a slurmd: set SLURM_PIPES_FAULT_TESTS=1 on a cluster of your own');
    let node: string | undefined;
    let jobId: string | undefined;
    let lost = false;
    const run = await launch(
      join(fixtures, 'ticks-slow.py'),
      ['600'],
      (line) => {
        jobId ??= jobIdIn(line);
        const running = /Slurm job \d+ RUNNING on (\S+)/.exec(line);
        if (!lost && running) {
          lost = true;
          node = running[1];
          setTimeout(() => void loseNode(node ?? 'n1', jobId ?? ''), 2_500);
        }
      },
      ['extra_directives=["--no-requeue"]'],
    );
    await restoreNode(node ?? 'n1');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`Slurm job ${jobId} NODE_FAIL`);
    const message = run.results.closed?.exception?.message ?? '';
    expect(message).toMatch(/NODE_FAIL/);
    expect(message).toMatch(/node allocated to the job failed/);
    expect(message).toMatch(/Re-run the job.*--exclude=/);
    const ticks = ticksOf(run.results);
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks).toEqual(await logsInMessagesFile(runDirIn(run.stderr) ?? ''));
    console.info(`node lost, NODE_FAIL: ${run.ms} ms`);
  }, 300_000);
  // (c) A full remote disk: the remote base on a small tmpfs owned by the cluster's test user.
  async function smallDisk(size: string): Promise<string> {
    const home = (await cluster.exec('printf %s "$HOME"')).stdout;
    const dir = `${home}/faults-disk-${size}-${Date.now()}`;
    const user = cluster.user;
    const mounted = await root(
      `mkdir -p '${dir}' && mount -t tmpfs -o size=${size},mode=0755,uid=$(id -u ${user}),gid=$(id -g ${user}) tmpfs '${dir}'`,
    );
    expect(mounted.code, mounted.out).toBe(0);
    cleanups.push(() => root(`umount '${dir}' || umount -l '${dir}'; rmdir '${dir}'`));
    return dir;
  }

  it('staging onto a full remote disk fails before sbatch with "No space left on device (ENOSPC)", the space left and the fix', async (context) => {
    needLocal(context);
    const dir = await smallDisk('64k');
    const run = await launch(join(fixtures, 'ticks-slow.py'), ['1'], undefined, [], {
      SLURM_PIPES_REMOTE_BASE: dir,
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).not.toContain('submitted Slurm job');
    const message = run.results.closed?.exception?.message ?? '';
    expect(message).toMatch(
      /No space left on device \(ENOSPC\) on the cluster: uploading \d+ B to ".*faults-disk-64k/,
    );
    expect(message).toMatch(/\d+ B free of 65536 B/);
    expect(message).toMatch(/Fix: free space there.*slurm\.remoteBase \(env SLURM_PIPES_REMOTE_BASE\)/);
    console.info(`staging on a full disk: ${run.ms} ms`);
  }, 120_000);

  it('a payload that fills the remote disk while writing messages fails the step naming the full filesystem and the fix; every message written before was relayed', async (context) => {
    needLocal(context);
    const dir = await smallDisk('512k');
    const run = await launch(join(fixtures, 'fill-disk.py'), [], undefined, [], {
      SLURM_PIPES_REMOTE_BASE: dir,
    });
    expect(run.code, run.stderr).not.toBe(0);
    const jobId = jobIdIn(run.stderr);
    expect(jobId).toBeDefined();
    const message = run.results.closed?.exception?.message ?? '';
    expect(message).toMatch(/Slurm job \d+ .*FAILED/);
    expect(message).toMatch(/is full \(No space left on device, ENOSPC: \d+ KiB free of 512 KiB\)/);
    expect(message).toMatch(/Fix: free space there.*slurm\.remoteBase/);
    // Nothing already received is lost: every complete log line in messages.jsonl reached Dagster, once, in order.
    const relayed = run.results.logs.map((l) => l.message).filter((m) => /^(line|fill) \d+/.test(m));
    const text = (await cluster.exec(`cat -- '${runDirIn(run.stderr)}/messages.jsonl'`)).stdout;
    const inFile = text
      .split('\n')
      .slice(0, -1) // the last write was cut off by the full disk
      .map((l) => JSON.parse(l) as { method: string; params?: { message?: string } })
      .filter((m) => m.method === 'log')
      .map((m) => m.params?.message ?? '');
    expect(relayed.slice(0, 5)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(relayed.length).toBeGreaterThan(5);
    expect(relayed).toEqual(inFile);
    console.info(`payload fills the disk: ${run.ms} ms, ${relayed.length} messages relayed`);
  }, 180_000);
});
