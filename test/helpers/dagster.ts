// Runs test/dagster/materialize.py with the real Dagster and returns Dagster's own event log.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, venvPython } from './python.js';

/** One `dagster.materialize(...)` call. */
export interface DagsterRunSpec {
  name: string;
  /** Asset keys: `"a/b"` (split on `/`) or the parts (`["multi", "a/b"]`). */
  selection: (string | string[])[];
  partitionKey?: string;
  runConfig?: Record<string, unknown>;
}

/** A metadata value as Dagster holds it. */
export interface DagsterMetadataValue {
  /** Python class of the MetadataValue, e.g. `FloatMetadataValue`. */
  class: string;
  /** The inner value as JSON (records via Dagster's serdes, with `__class__`). */
  value: unknown;
  /** Python class of the inner value, e.g. `float`. */
  value_class: string;
  /** Python `repr()` of the inner value, e.g. `1.0`. */
  repr: string;
}

/** Dagster's `SerializableErrorInfo`. */
export interface DagsterErrorInfo {
  message: string;
  stack: string[];
  cls_name: string | null;
  cause: DagsterErrorInfo | null;
  context: DagsterErrorInfo | null;
}

/** One entry of Dagster's event log. */
export interface DagsterLogEntry {
  kind: 'log' | 'event';
  /** Python level name: `DEBUG` … `CRITICAL`. */
  level: string;
  step_key: string | null;
  message: string;
  event_type?: string;
  materialization?: {
    asset_key: string[];
    asset_key_escaped: string;
    partition: string | null;
    metadata: Record<string, DagsterMetadataValue>;
    tags: Record<string, string>;
  };
  check?: {
    asset_key: string[];
    check_name: string;
    passed: boolean;
    severity: 'WARN' | 'ERROR' | null;
    metadata: Record<string, DagsterMetadataValue>;
  };
  error?: DagsterErrorInfo;
}

/** What one run left behind. */
export interface DagsterRunResult {
  name: string;
  run_id: string;
  success: boolean;
  events: DagsterLogEntry[];
  /** What Dagster's process wrote to sys.stdout / sys.stderr during the run. */
  captured_stdout: string;
  captured_stderr: string;
}

export interface DagsterMaterializeResult {
  dagster_version: string;
  runs: DagsterRunResult[];
}

/** Options for {@link materializeWithDagster}. */
export interface MaterializeOptions {
  /**
   * Python module with the assets: `ASSETS` (+ `RESOURCES`) or a `defs` Definitions.
   * @default test/dagster/definitions.py
   */
  definitions?: string;
  /** @default 150_000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Materializes each spec in order on one ephemeral Dagster instance (assets from
 * test/dagster/definitions.py unless `options.definitions` names another module) and returns the
 * parsed event logs.
 * @throws {Error} with Python's stderr when the runner fails.
 */
export async function materializeWithDagster(
  runs: DagsterRunSpec[],
  options: MaterializeOptions = {},
): Promise<DagsterMaterializeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'dagster-materialize-'));
  const output = join(dir, 'result.json');
  const wire = runs.map((r) => ({
    name: r.name,
    selection: r.selection,
    partition_key: r.partitionKey ?? null,
    run_config: r.runConfig ?? null,
  }));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        venvPython(),
        [
          join(repoRoot, 'test', 'dagster', 'materialize.py'),
          '--runs',
          JSON.stringify(wire),
          '--output',
          output,
          '--definitions',
          options.definitions ?? join(repoRoot, 'test', 'dagster', 'definitions.py'),
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, SLURM_PIPES_TEST_NODE: process.execPath },
          timeout: options.timeoutMs ?? 150_000,
          maxBuffer: 64 * 1024 * 1024,
          ...(options.signal ? { signal: options.signal } : {}),
        },
        (error, _stdout, stderr) => {
          if (error) reject(new Error(`materialize.py failed: ${error.message}\n${stderr.slice(-8000)}`));
          else resolve();
        },
      );
    });
    return JSON.parse(await readFile(output, 'utf8')) as DagsterMaterializeResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Events of `type` (Dagster's event type value), optionally of one step. */
export function eventsOf(run: DagsterRunResult, type: string, stepKey?: string): DagsterLogEntry[] {
  return run.events.filter((e) => e.event_type === type && (stepKey === undefined || e.step_key === stepKey));
}

/** The materialization of the asset with these key parts. */
export function materializationOf(run: DagsterRunResult, assetKey: string[]) {
  const found = eventsOf(run, 'ASSET_MATERIALIZATION').find(
    (e) => JSON.stringify(e.materialization?.asset_key) === JSON.stringify(assetKey),
  )?.materialization;
  if (!found) throw new Error(`no materialization of ${JSON.stringify(assetKey)} in run ${run.name}`);
  return found;
}

/** User log records (not Dagster events) of one step, as `[level, message]`. */
export function logsOf(run: DagsterRunResult, stepKey: string): [string, string][] {
  return run.events
    .filter((e) => e.kind === 'log' && e.step_key === stepKey)
    .map((e) => [e.level, e.message]);
}

/**
 * The messages along an error's cause/context chain, joined. A STEP_FAILURE's own error is
 * Dagster's DagsterExecutionStepExecutionError; what the asset raised is in its `cause`.
 */
export function errorChainText(error: DagsterErrorInfo | null | undefined): string {
  const parts: string[] = [];
  for (let e = error ?? null; e !== null; e = e.cause ?? e.context) parts.push(e.message);
  return parts.join('');
}

/** Options for {@link executeJobWithDagster}. */
export interface ExecuteJobOptions extends MaterializeOptions {
  /** Definitions file exposing `defs`. */
  definitions: string;
  /** Steps run at once by the multiprocess executor. @default 4 */
  maxConcurrent?: number;
  /** Extra environment for Dagster (and so for the bridge it launches). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Executes a job with Dagster's multiprocess executor (each step in its own process) on a
 * temporary instance, through test/dagster/execute_job.py, and returns its event log.
 */
export async function executeJobWithDagster(
  job: string,
  options: ExecuteJobOptions,
): Promise<DagsterRunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'dagster-execute-'));
  const output = join(dir, 'result.json');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        venvPython(),
        [
          join(repoRoot, 'test', 'dagster', 'execute_job.py'),
          '--definitions',
          options.definitions,
          '--job',
          job,
          '--output',
          output,
          '--max-concurrent',
          String(options.maxConcurrent ?? 4),
        ],
        {
          cwd: join(repoRoot, 'test', 'dagster'),
          env: { ...process.env, SLURM_PIPES_TEST_NODE: process.execPath, ...options.env },
          timeout: options.timeoutMs ?? 600_000,
          maxBuffer: 256 * 1024 * 1024,
          ...(options.signal ? { signal: options.signal } : {}),
        },
        (error, _stdout, stderr) => {
          if (error) reject(new Error(`execute_job.py failed: ${error.message}\n${stderr.slice(-8000)}`));
          else resolve();
        },
      );
    });
    const result = JSON.parse(await readFile(output, 'utf8')) as DagsterMaterializeResult;
    return result.runs[0] as DagsterRunResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
