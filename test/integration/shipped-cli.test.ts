// The CLI as it ships: packages/bridge/dist/slurm-pipes.js, one file bundled by
// scripts/bundle-bridge.mjs (the package's `bin`, what `npm start`, the Python package and the
// benchmark run). The other suites run the TypeScript sources through tsx; this one proves the
// bundle finds what it leaves external (tsx for TypeScript workers, esbuild to bundle a worker for
// the cluster, ssh2 and ws in the multiplexing daemon) from any working directory, and that the
// Python package launches it by default.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildPipesContextData,
  openPipesSession,
  type PipesSessionResults,
} from '@slurm-pipes/pipes-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/flags.js';
import { dagsterMissing, venvPython } from '../helpers/python.js';
import {
  clusterSshEnv,
  getSlurmCluster,
  type SlurmClusterHandle,
  slurmClusterMissing,
} from '../helpers/slurm-cluster.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const bundle = join(repo, 'packages/bridge/dist/slurm-pipes.js');
let scratch = '';

beforeAll(async () => {
  // Built from the sources under test, as `npm run build` does.
  await run(process.execPath, [join(repo, 'scripts/bundle-bridge.mjs')]);
  scratch = await mkdtemp(join(tmpdir(), 'shipped-cli-'));
});
afterAll(async () => {
  if (scratch !== '') await rm(scratch, { recursive: true, force: true });
});

/** Runs the bundle with plain `node` (no tsx, no source conditions) under a TypeScript Pipes host. */
async function runBundle(args: string[], env: NodeJS.ProcessEnv = {}) {
  const context = buildPipesContextData({
    assetKeys: [['shipped', 'cli']],
    runId: `shipped-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
  });
  const session = await openPipesSession({ context, injector: 'file', reader: 'file' });
  const child = spawn(process.execPath, [bundle, 'run', ...args], {
    // Outside the checkout, so nothing resolves from the working directory.
    cwd: scratch,
    env: { ...process.env, ...env, ...session.bootstrapEnv() },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const results: PipesSessionResults = await session.close();
  return { code, stderr, results };
}

describe('the shipped CLI bundle', () => {
  it('is one executable file that starts with plain node', async () => {
    expect((await stat(bundle)).mode & 0o111).not.toBe(0);
    const { stdout } = await run(process.execPath, [bundle, 'help'], { cwd: scratch });
    expect(stdout).toContain('Usage: slurm-pipes <command>');
  });

  it('runs a TypeScript worker in local mode (tsx found from the bundle, not the cwd)', async () => {
    const { code, stderr, results } = await runBundle(['--', join(repo, 'examples/hello-worker.ts')]);
    expect(code, stderr).toBe(0);
    expect(results.materializations).toHaveLength(1);
    expect(results.materializations[0]?.metadata?.rows).toEqual({ raw_value: 5, type: '__infer__' });
    expect(results.checks.map((c) => [c.checkName, c.passed])).toEqual([['non_empty', true]]);
  });

  const noDagster = skipReason(dagsterMissing());
  it.skipIf(noDagster !== undefined)(
    'is what the Python package launches when nothing else is configured',
    async () => {
      const { stdout } = await run(
        venvPython(),
        ['-c', 'from dagster_slurm_pipes import find_bridge_command; print(find_bridge_command()[-1])'],
        // No SLURM_PIPES_BRIDGE, and no slurm-pipes on PATH: the checkout's bundle.
        { cwd: scratch, env: { ...process.env, SLURM_PIPES_BRIDGE: '', PATH: '/usr/bin:/bin' } },
      );
      expect(stdout.trim()).toBe(bundle);
    },
  );
});

const noCluster = skipReason(await slurmClusterMissing());
describe.skipIf(noCluster !== undefined)('the shipped CLI bundle on Slurm', () => {
  let cluster: SlurmClusterHandle;
  let muxDir = '';
  beforeAll(async () => {
    cluster = await getSlurmCluster();
    muxDir = await mkdtemp(join(tmpdir(), 'shipped-mux-'));
  });
  afterAll(async () => {
    if (muxDir !== '') {
      await run(process.execPath, [bundle, 'mux', 'stop'], {
        env: { ...process.env, SLURM_PIPES_MUX_DIR: muxDir },
      }).catch(() => undefined);
      await rm(muxDir, { recursive: true, force: true });
    }
    await cluster?.stop();
  });

  it('bundles a TypeScript worker with esbuild, runs it as a Slurm job through its own mux daemon, and relays it', async () => {
    const worker = join(repo, 'test/fixtures/slurm-payloads/worker.ts');
    const { code, stderr, results } = await runBundle(
      ['--mode', 'slurm', '--slurm-opt', 'cpus_per_task=1', '--slurm-opt', 'mem=200M', '--', worker, 'x'],
      { ...clusterSshEnv(cluster), SLURM_PIPES_MUX_DIR: muxDir },
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/submitted Slurm job \d+/);
    expect(results.logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/^hello from node v\d+/));
    const metadata = results.materializations[0]?.metadata ?? {};
    expect(metadata.args).toEqual({ raw_value: ['x'], type: 'json' });
    expect(metadata.slurm_state).toEqual({ raw_value: 'COMPLETED', type: 'text' });
    // The daemon the bundle started is the bundle too, and it is the one that holds the connection.
    const { stdout } = await run(process.execPath, [bundle, 'mux', 'status'], {
      env: { ...process.env, SLURM_PIPES_MUX_DIR: muxDir },
    });
    expect(stdout).toMatch(new RegExp(`${cluster.host}`));
  });
});
