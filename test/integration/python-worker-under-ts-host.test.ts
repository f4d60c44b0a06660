// Real Python workers (dagster-pipes from PyPI, in .venv) run under the TS host session: every
// message must arrive intact and in order, with both context injectors and both message readers.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import {
  buildPipesContextData,
  openPipesSession,
  type PipesContextData,
  type PipesMetadata,
  type PipesReaderEvent,
  type PipesSession,
  type PipesSessionOptions,
  pipesExceptionToError,
} from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/flags.js';
import { dagsterMissing, repoRoot, venvPython } from '../helpers/python.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'python-workers');
const missing = skipReason(dagsterMissing());

interface WorkerRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  events: PipesReaderEvent[];
  session: PipesSession;
}

// Opens a session, runs the fixture with the bootstrap env merged last (as Dagster's subprocess
// client does), attaches stdout for the stdio reader, waits for exit and closes the session.
async function runWorker(script: string, options: PipesSessionOptions): Promise<WorkerRun> {
  const session = await openPipesSession(options);
  const eventsDone = (async () => {
    const events: PipesReaderEvent[] = [];
    for await (const event of session.events()) events.push(event);
    return events;
  })();
  const child = spawn(venvPython(), [join(fixtures, script)], {
    env: { ...process.env, PYTHONIOENCODING: 'utf-8', ...session.bootstrapEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: AbortSignal.timeout(90_000),
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (options.reader === 'stdio') session.attachOutput(child.stdout);
  else
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  await session.close();
  return { exitCode, stdout, stderr, events: await eventsDone, session };
}

const methods = (events: PipesReaderEvent[]) =>
  events.filter((e) => e.kind === 'message').map((e) => e.message.method);

// What dagster-pipes puts on the wire for a metadata mapping: typed entries as given, raw values
// wrapped as `__infer__` (dagster_pipes._normalize_param_metadata).
function normalized(metadata: Record<string, unknown>): PipesMetadata {
  return Object.fromEntries(
    Object.entries(metadata).map(([key, value]) => {
      const typed =
        typeof value === 'object' && value !== null && Object.keys(value).sort().join() === 'raw_value,type';
      return [key, typed ? value : { raw_value: value, type: '__infer__' }];
    }),
  ) as PipesMetadata;
}

const allMetadata = JSON.parse(readFileSync(join(fixtures, 'all-metadata.json'), 'utf8')) as Record<
  string,
  unknown
>;
const multiAsset = buildPipesContextData({
  assetKeys: [
    ['warehouse', 'orders'],
    ['warehouse', 'daily/sales'],
  ],
  codeVersionByAssetKey: { 'warehouse/orders': 'cv-orders' },
  runId: 'run-multi',
  jobName: 'nightly',
  retryNumber: 1,
  extras: { owner: 'data-team' },
});

describe.skipIf(missing !== undefined)('Python dagster-pipes workers under the TS host', () => {
  it('Python decode_param reads our env values, and the JSON inside is what encode_param writes', async () => {
    await using session = await openPipesSession({ context: multiAsset, injector: 'env', reader: 'file' });
    const env = session.bootstrapEnv();
    const [context, messages] = JSON.parse(
      execFileSync(
        venvPython(),
        [
          '-c',
          'import json, sys; from dagster_pipes import decode_param; print(json.dumps([decode_param(v) for v in sys.argv[1:]]))',
          env.DAGSTER_PIPES_CONTEXT,
          env.DAGSTER_PIPES_MESSAGES,
        ],
        { encoding: 'utf8' },
      ),
    ) as unknown[];
    expect(context).toEqual({ data: multiAsset });
    expect(messages).toEqual(session.bootstrapParams().DAGSTER_PIPES_MESSAGES);
    // The zlib streams may differ (Node and Python link different zlib builds); the JSON text must not.
    const pythonJson = execFileSync(
      venvPython(),
      [
        '-c',
        'import json, sys, zlib, base64; from dagster_pipes import encode_param; sys.stdout.write(zlib.decompress(base64.b64decode(encode_param(json.load(sys.stdin)))).decode())',
      ],
      { input: JSON.stringify({ data: multiAsset }), encoding: 'utf8' },
    );
    expect(inflateSync(Buffer.from(env.DAGSTER_PIPES_CONTEXT, 'base64')).toString('utf8')).toBe(pythonJson);
  });

  describe.each([
    ['env', 'file'],
    ['env', 'stdio'],
    ['file', 'file'],
    ['file', 'stdio'],
  ] as const)('all_messages.py (injector %s, reader %s)', (injector, reader) => {
    it('delivers every message kind intact and in order', async () => {
      const run = await runWorker('all_messages.py', {
        context: multiAsset,
        injector,
        reader,
        extras: { session_extra: [1, 2] },
      });
      expect(run.exitCode, run.stderr).toBe(0);
      const results = run.session.results;
      const sales = 'warehouse/daily\\/sales';
      const orders = 'warehouse/orders';

      expect(methods(run.events)).toEqual([
        'opened',
        ...Array(5).fill('log'),
        ...Array(2).fill('report_asset_materialization'),
        ...Array(4).fill('report_asset_check'),
        ...Array(5).fill('report_custom_message'),
        'closed',
      ]);
      expect(results.protocolErrors).toEqual([]);
      expect(results.warnings).toEqual([]);
      expect(results.opened).toEqual({ extras: {} });
      expect(results.closed).toEqual({ exception: null });
      expect(results.logs).toEqual([
        { level: 'debug', message: 'debug message' },
        { level: 'info', message: 'info message' },
        { level: 'warning', message: 'warning message' },
        { level: 'error', message: 'error message' },
        { level: 'critical', message: 'critical message ✓' },
      ]);
      expect(results.materializations).toEqual([
        {
          assetKey: sales,
          assetKeyPath: ['warehouse', 'daily/sales'],
          dataVersion: 'v1-ü',
          metadata: normalized(allMetadata),
        },
        {
          assetKey: orders,
          assetKeyPath: ['warehouse', 'orders'],
          dataVersion: null,
          metadata: normalized({ row_count: 3, ratio: 0.5 }),
        },
      ]);
      // All 17 metadata types arrived.
      expect(
        new Set(Object.values(results.materializations[0]?.metadata ?? {}).map((v) => v.type)).size,
      ).toBe(17);
      expect(results.checks).toEqual([
        {
          assetKey: sales,
          assetKeyPath: ['warehouse', 'daily/sales'],
          checkName: 'non_empty',
          passed: true,
          severity: 'WARN',
          metadata: null,
        },
        {
          assetKey: sales,
          assetKeyPath: ['warehouse', 'daily/sales'],
          checkName: 'fresh',
          passed: false,
          severity: 'WARN',
          metadata: normalized({ lag_hours: 30 }),
        },
        {
          assetKey: orders,
          assetKeyPath: ['warehouse', 'orders'],
          checkName: 'unique_ids',
          passed: true,
          severity: 'ERROR',
          metadata: null,
        },
        {
          assetKey: orders,
          assetKeyPath: ['warehouse', 'orders'],
          checkName: 'positive_amounts',
          passed: false,
          severity: 'ERROR',
          metadata: { bad_rows: { raw_value: 2, type: 'int' } },
        },
      ]);
      expect(results.customMessages).toEqual([
        { kind: 'summary', values: [1, 2.5, null, true, 'ünï'] },
        [1, 2, 3],
        'just a string',
        null,
        {
          asset_keys: [sales, orders],
          code_version_by_asset_key: { [sales]: null, [orders]: 'cv-orders' },
          provenance_by_asset_key: { [sales]: null, [orders]: null },
          is_partition_step: false,
          run_id: 'run-multi',
          job_name: 'nightly',
          retry_number: 1,
          extras: { owner: 'data-team', session_extra: [1, 2] },
        },
      ]);
      const printed = ['plain stdout line before the reports', 'plain stdout line after the reports'];
      if (reader === 'stdio') {
        expect(results.outputs.map((o) => o.text)).toEqual(printed);
        // Output lines sit in place between the messages.
        expect(run.events[1]).toMatchObject({ kind: 'output', text: printed[0] });
        expect(run.events.at(-2)).toMatchObject({ kind: 'output', text: printed[1] });
      } else {
        expect(results.outputs).toEqual([]);
        expect(run.stdout).toBe(`${printed.join('\n')}\n`);
      }
    });
  });

  describe.each([
    ['env', 'file'],
    ['file', 'stdio'],
  ] as const)('raises.py (injector %s, reader %s)', (injector, reader) => {
    it('reports the exception in closed, with its cause chain', async () => {
      const context = buildPipesContextData({ assetKeys: [['failing']], runId: 'run-fail' });
      const run = await runWorker('raises.py', { context, injector, reader });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain('ValueError: boom ✗');
      const { results } = run.session;
      expect(methods(run.events)).toEqual(['opened', 'log', 'report_asset_materialization', 'closed']);
      expect(results.materializations[0]?.metadata).toEqual({
        partial: { raw_value: true, type: '__infer__' },
      });
      const exception = results.closed?.exception;
      expect(exception).toMatchObject({
        name: 'ValueError',
        message: 'ValueError: boom ✗\n',
        cause: { name: 'KeyError', message: "KeyError: 'missing'\n" },
        // `raise … from` suppresses the implicit context in Python's TracebackException.
        context: null,
      });
      expect(exception?.stack.join('')).toContain('raises.py');
      if (!exception) throw new Error('no exception');
      const error = pipesExceptionToError(exception);
      expect(error).toMatchObject({ code: 'ERR_PIPES_EXECUTION', message: 'ValueError: boom ✗' });
      expect((error.cause as Error).message).toBe("KeyError: 'missing'");
      expect(results.warnings).toEqual([]);
    });
  });

  describe.each(['env', 'file'] as const)('stdio_capture.py (injector %s, file reader)', (injector) => {
    it('forwards the worker stdout/stderr as log_external_stream chunks', async () => {
      const context = buildPipesContextData({ assetKeys: [['captured']], runId: 'run-capture' });
      const run = await runWorker('stdio_capture.py', {
        context,
        injector,
        reader: 'file',
        includeStdioInMessages: true,
      });
      expect(run.exitCode, run.stderr).toBe(0);
      const { results } = run.session;
      const text = (stream: string) =>
        results.externalStreams
          .filter((c) => c.stream === stream)
          .map((c) => c.text)
          .join('');
      expect(text('stdout')).toContain('captured stdout line\n');
      expect(text('stdout')).toContain('raw fd write\n');
      expect(text('stderr')).toContain('captured stderr line ✓\n');
      expect(results.logs).toEqual([{ level: 'info', message: 'after the output' }]);
      expect(results.materializations.map((m) => m.assetKeyPath)).toEqual([['captured']]);
      expect(results.closed).toEqual({ exception: null });
      expect(results.protocolErrors).toEqual([]);
      // dagster-pipes flushes captured output after `closed`; Dagster warns about that, so do we.
      expect(results.warnings.every((w) => w.code === 'message-after-closed')).toBe(true);
      expect(methods(run.events).filter((m) => m !== 'log_external_stream')).toEqual([
        'opened',
        'log',
        'report_asset_materialization',
        'closed',
      ]);
    });
  });

  describe.each(['env', 'file'] as const)('partitioned.py (injector %s)', (injector) => {
    it('reads the partitioned single-asset context through the public accessors', async () => {
      const context: PipesContextData = buildPipesContextData({
        assetKeys: ['daily/metrics'],
        codeVersionByAssetKey: { 'daily/metrics': 'cv3' },
        provenanceByAssetKey: {
          'daily/metrics': {
            code_version: 'cv2',
            input_data_versions: { 'raw/events': 'dv9' },
            is_user_provided: false,
          },
        },
        partitionKey: '2026-11-01',
        partitionTimeWindow: {
          start: new Date('2026-11-01T00:00:00Z'),
          end: new Date('2026-11-02T00:00:00Z'),
        },
        runId: 'run-part',
        extras: { greeting: 'hello' },
      });
      const run = await runWorker('partitioned.py', { context, injector, reader: 'file' });
      expect(run.exitCode, run.stderr).toBe(0);
      const { results } = run.session;
      expect(results.customMessages).toEqual([
        {
          asset_key: 'daily/metrics',
          is_asset_step: true,
          is_partition_step: true,
          partition_key: '2026-11-01',
          partition_key_range: { start: '2026-11-01', end: '2026-11-01' },
          partition_time_window: { start: '2026-11-01T00:00:00+00:00', end: '2026-11-02T00:00:00+00:00' },
          code_version: 'cv3',
          provenance: {
            code_version: 'cv2',
            input_data_versions: { 'raw/events': 'dv9' },
            is_user_provided: false,
          },
          run_id: 'run-part',
          job_name: null,
          retry_number: 0,
          extras: { greeting: 'hello' },
          greeting: 'hello',
        },
      ]);
      expect(results.materializations).toEqual([
        {
          assetKey: 'daily/metrics',
          assetKeyPath: ['daily', 'metrics'],
          dataVersion: '2026-11-01',
          metadata: { partition: { raw_value: '2026-11-01', type: '__infer__' } },
        },
      ]);
      expect(results.checks).toEqual([
        {
          assetKey: 'daily/metrics',
          assetKeyPath: ['daily', 'metrics'],
          checkName: 'partition_ok',
          passed: true,
          severity: 'ERROR',
          metadata: null,
        },
      ]);
      expect(results.warnings).toEqual([]);
    });
  });
});
