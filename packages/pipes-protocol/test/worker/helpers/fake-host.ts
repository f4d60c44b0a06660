// Plays Dagster's side for worker tests: writes a context file, encodes the bootstrap params,
// and reads back the messages file. Real files, real encoding (the shared encodeParam).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeParam, type PipesContextDataInput } from '@slurm-pipes/pipes-protocol';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');

/** Context data as Dagster sends it for a single, unpartitioned asset step. */
export function contextData(overrides: Partial<PipesContextDataInput> = {}): PipesContextDataInput {
  return {
    asset_keys: ['my_asset'],
    code_version_by_asset_key: { my_asset: 'v1' },
    provenance_by_asset_key: { my_asset: null },
    partition_key: null,
    partition_key_range: null,
    partition_time_window: null,
    run_id: 'run-1',
    job_name: '__ASSET_JOB',
    retry_number: 0,
    extras: {},
    ...overrides,
  };
}

export interface FakeHost {
  dir: string;
  messagesPath: string;
  /** Env vars a Pipes client would set. */
  env: Record<string, string>;
  /** The bootstrap params as CLI arguments. */
  args: string[];
  /** Every message line, parsed. */
  messages(): Record<string, unknown>[];
  /** The raw messages file. */
  rawMessages(): string;
  cleanup(): void;
}

export interface FakeHostOptions {
  context?: PipesContextDataInput;
  /** How the context travels. @default 'path' */
  contextVia?: 'path' | 'data';
  /** Message params. @default {path: <dir>/messages, include_stdio_in_messages: false} */
  messagesParams?: Record<string, unknown>;
  includeStdio?: boolean;
}

export function fakeHost(options: FakeHostOptions = {}): FakeHost {
  const dir = mkdtempSync(join(tmpdir(), 'pipes-worker-test-'));
  const messagesPath = join(dir, 'messages');
  writeFileSync(messagesPath, '');
  const context = options.context ?? contextData();
  let contextParams: Record<string, unknown>;
  if (options.contextVia === 'data') {
    contextParams = { data: context };
  } else {
    writeFileSync(join(dir, 'context'), JSON.stringify(context));
    contextParams = { path: join(dir, 'context') };
  }
  const messagesParams = options.messagesParams ?? {
    path: messagesPath,
    include_stdio_in_messages: options.includeStdio ?? false,
  };
  const encodedContext = encodeParam(contextParams);
  const encodedMessages = encodeParam(messagesParams);
  const rawMessages = () => readFileSync(messagesPath, 'utf8');
  return {
    dir,
    messagesPath,
    env: { DAGSTER_PIPES_CONTEXT: encodedContext, DAGSTER_PIPES_MESSAGES: encodedMessages },
    args: ['--dagster-pipes-context', encodedContext, '--dagster-pipes-messages', encodedMessages],
    rawMessages,
    messages: () =>
      rawMessages()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface FixtureRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunFixtureOptions {
  env?: Record<string, string>;
  args?: string[];
  /** Called once the child printed `ready` on stderr (for signal tests). */
  onReady?: (pid: number) => void;
  timeoutMs?: number;
}

/** Runs a TS fixture as a real Node child: `node --conditions=@slurm-pipes/source --import tsx <file>`. */
export function runFixture(file: string, options: RunFixtureOptions = {}): Promise<FixtureRun> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.DAGSTER_PIPES_CONTEXT === undefined) {
    delete env.DAGSTER_PIPES_CONTEXT;
    delete env.DAGSTER_PIPES_MESSAGES;
  }
  const child = spawn(
    process.execPath,
    ['--conditions=@slurm-pipes/source', '--import', 'tsx', join(fixturesDir, file), ...(options.args ?? [])],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let readySent = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!readySent && stderr.includes('ready\n') && options.onReady && child.pid !== undefined) {
      readySent = true;
      options.onReady(child.pid);
    }
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture ${file} timed out; stderr:\n${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Methods of the messages, in order. */
export const methods = (messages: Record<string, unknown>[]) => messages.map((m) => m.method);
