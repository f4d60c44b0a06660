// Plays Dagster for a flood of sequence-numbered messages (test/fixtures/slurm-payloads/flood.py):
// opens a streaming Pipes session, launches the real bridge CLI in Slurm mode with it, and checks
// on the fly that each sequence number arrives once and in order, without keeping the messages.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildPipesContextData,
  openPipesSession,
  type PipesSessionResults,
} from '@slurm-pipes/pipes-protocol';
import { repoRoot, venvPython } from './python.js';
import type { SlurmClusterHandle } from './slurm-cluster.js';

/** One sample of the bridge process's memory. */
export interface RssSample {
  /** ms since the bridge started. */
  atMs: number;
  /** Resident set size in KiB (`VmRSS` of /proc/<pid>/status). */
  rssKiB: number;
  /** Messages the host had received by then. */
  messages: number;
}

/** What a flood run saw. */
export interface FloodRun {
  code: number | null;
  stderr: string;
  stdout: string;
  /** Sequence numbers received, counted once each. */
  distinct: number;
  /** Sequence numbers received more than once. */
  duplicates: number;
  /** Sequence numbers missing from 0..n-1. */
  missing: number;
  /** Streamed messages (logs, custom) that came after a higher streamed one; likewise results. */
  outOfOrder: number;
  /** Messages per kind. */
  kinds: Record<'log' | 'custom' | 'check' | 'materialization', number>;
  /** The materializations: asset key and the `slurm_job_id` added by the bridge. */
  materializations: Array<{ assetKey: string; seq: number; slurmJobId: unknown }>;
  results: PipesSessionResults;
  rss: RssSample[];
  durationMs: number;
}

/** Options of {@link runFlood}. */
export interface FloodOptions {
  cluster: SlurmClusterHandle;
  /** Messages the payload sends. */
  n: number;
  /** The step's asset keys (several: a multi-asset step). */
  assetKeys: string[][];
  /** flood.py's pacing: sleep `paceMs` after every `paceEvery` messages. @default no pacing */
  paceEvery?: number;
  paceMs?: number;
  /** The multiplexing daemon's directory (its own daemon for this run). */
  muxDir: string;
  /** Called once when the bridge logs that the job runs. */
  onRunning?: () => void;
  /** Sample the bridge's RSS this often, in ms. @default 250 */
  rssEveryMs?: number;
}

// A metadata value as Python's writer sends it ({raw_value, type}) or plain.
const rawOf = (value: unknown): unknown => (value as { raw_value?: unknown } | undefined)?.raw_value ?? value;
const seqOf = (value: unknown): number | undefined => {
  const raw = rawOf(value);
  return typeof raw === 'number' ? raw : undefined;
};

/** Runs flood.py as a Slurm step through the real CLI under a streaming Pipes host. */
export async function runFlood(options: FloodOptions): Promise<FloodRun> {
  const { cluster, n } = options;
  const context = buildPipesContextData({
    assetKeys: options.assetKeys,
    runId: `flood-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
  });
  const session = await openPipesSession({ context, injector: 'file', reader: 'file', streaming: true });
  const seen = new Uint8Array(n);
  let duplicates = 0;
  let outOfOrder = 0;
  let lastStream = -1;
  let lastResult = -1;
  let messages = 0;
  const kinds = { log: 0, custom: 0, check: 0, materialization: 0 };
  const materializations: FloodRun['materializations'] = [];
  const count = (seq: number | undefined, stream: boolean) => {
    if (seq === undefined || seq < 0 || seq >= n) return;
    if (seen[seq] === 1) duplicates++;
    seen[seq] = 1;
    if (stream) {
      if (seq < lastStream) outOfOrder++;
      lastStream = seq;
    } else {
      if (seq < lastResult) outOfOrder++;
      lastResult = seq;
    }
  };
  const reading = (async () => {
    for await (const event of session.events()) {
      if (event.kind !== 'message') continue;
      messages++;
      const { method, params } = event.message as unknown as {
        method: string;
        params: Record<string, unknown>;
      };
      if (method === 'log' && String(params.message).startsWith('seq ')) {
        kinds.log++;
        count(Number(String(params.message).slice(4)), true);
      } else if (method === 'report_custom_message') {
        kinds.custom++;
        count(seqOf((params.payload as { seq?: unknown })?.seq), true);
      } else if (method === 'report_asset_check') {
        kinds.check++;
        count(seqOf((params.metadata as Record<string, unknown>)?.seq), false);
      } else if (method === 'report_asset_materialization') {
        kinds.materialization++;
        const metadata = params.metadata as Record<string, unknown>;
        const seq = seqOf(metadata?.seq) ?? -1;
        materializations.push({
          assetKey: String(params.asset_key),
          seq,
          slurmJobId: rawOf(metadata?.slurm_job_id),
        });
        count(seq, false);
      }
    }
  })();

  const started = Date.now();
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
      // The local Python ships its dagster_pipes when the cluster's python3 lacks it.
      '--python',
      venvPython(),
      '--slurm-opt',
      'cpus_per_task=1',
      '--slurm-opt',
      'mem=256M',
      '--',
      join(repoRoot, 'test/fixtures/slurm-payloads/flood.py'),
      String(n),
      String(options.paceEvery ?? 0),
      String(options.paceMs ?? 0),
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...session.bootstrapEnv(),
        SLURM_SSH_HOST: cluster.host,
        SLURM_SSH_PORT: String(cluster.port),
        SLURM_SSH_USER: cluster.user,
        SLURM_SSH_KEY: cluster.keyPath,
        SLURM_SSH_KNOWN_HOSTS: cluster.knownHostsPath,
        SLURM_PIPES_MUX_DIR: options.muxDir,
      },
    },
  );
  const rss: RssSample[] = [];
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
      if (Number.isFinite(kib) && kib > 0) rss.push({ atMs: Date.now() - started, rssKiB: kib, messages });
    } catch {
      // The process has just exited.
    }
  };
  const sampler = setInterval(sample, options.rssEveryMs ?? 250);
  let stderr = '';
  let stdout = '';
  let running = false;
  child.stderr.on('data', (data: Buffer) => {
    stderr += data;
    if (!running && /RUNNING on/.test(stderr)) {
      running = true;
      options.onRunning?.();
    }
  });
  child.stdout.on('data', (data: Buffer) => {
    stdout += data;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  const durationMs = Date.now() - started;
  const results = await session.close();
  await reading;
  let missing = 0;
  for (let i = 0; i < n; i++) if (seen[i] !== 1) missing++;
  return {
    code,
    stderr,
    stdout,
    distinct: n - missing,
    duplicates,
    missing,
    outOfOrder,
    kinds,
    materializations,
    results,
    rss,
    durationMs,
  };
}
