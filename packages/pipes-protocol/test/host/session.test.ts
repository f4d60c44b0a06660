import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  buildPipesContextData,
  decodeParam,
  openPipesSession,
  type PipesSession,
  type PipesSessionOptions,
} from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { collect, summarize } from './helpers/collect.js';
import { exited, type FakeWorkerStep, messageLine, spawnFakeWorker } from './helpers/run-fake-worker.js';

const context = buildPipesContextData({
  assetKeys: [['warehouse', 'daily/sales']],
  partitionKey: '2026-01-01',
  runId: 'run-1',
  extras: { from: 'context' },
});

const script: FakeWorkerStep[] = [
  { method: 'opened', params: { extras: {} } },
  { echo: true },
  { print: 'plain output' },
  { method: 'log', params: { message: 'hi', level: 'INFO' } },
  { raw: 'not a message\n' },
  {
    method: 'report_asset_materialization',
    params: {
      asset_key: 'warehouse/daily\\/sales',
      data_version: 'v7',
      metadata: { n: { raw_value: 1, type: 'int' } },
    },
  },
  { method: 'closed', params: {} },
];

// Runs the fake worker under a session the way the bridge does.
async function run(session: PipesSession, steps: FakeWorkerStep[]) {
  const child = spawnFakeWorker(steps, { ...session.bootstrapEnv() });
  if (session.bootstrapParams().DAGSTER_PIPES_MESSAGES.stdio !== undefined) {
    if (!child.stdout) throw new Error('no stdout');
    session.attachOutput(child.stdout);
  } else {
    child.stdout?.resume();
  }
  const exitCode = await exited(child);
  return { exitCode, results: await session.close() };
}

describe.each([
  ['env', 'file'],
  ['env', 'stdio'],
  ['file', 'file'],
  ['file', 'stdio'],
] as const)('openPipesSession (injector %s, reader %s)', (injector, reader) => {
  it('runs a worker end to end', async () => {
    const session = await openPipesSession({
      context,
      injector,
      reader,
      extras: { from: 'session', more: 1 },
    });
    const events = collect(session.events());
    const { exitCode, results } = await run(session, script);
    expect(exitCode).toBe(0);
    const stdio = reader === 'stdio';
    expect(summarize(await events)).toEqual([
      'opened',
      'report_custom_message',
      ...(stdio ? ['out:plain output', 'log', 'out:not a message'] : ['log', 'error@4']),
      'report_asset_materialization',
      'closed',
    ]);
    const echoed = results.customMessages[0] as {
      context: unknown;
      contextParams: object;
      messagesParams: object;
    };
    expect(echoed.context).toEqual({ ...context, extras: { from: 'session', more: 1 } });
    expect(Object.keys(echoed.contextParams)).toEqual([injector === 'env' ? 'data' : 'path']);
    expect(echoed.messagesParams).toEqual(session.bootstrapParams().DAGSTER_PIPES_MESSAGES);
    expect(results.materializations).toEqual([
      {
        assetKey: 'warehouse/daily\\/sales',
        assetKeyPath: ['warehouse', 'daily/sales'],
        dataVersion: 'v7',
        metadata: { n: { raw_value: 1, type: 'int' } },
      },
    ]);
    expect(results.logs).toEqual([{ level: 'info', message: 'hi' }]);
    expect(results.outputs.map((o) => o.text)).toEqual(stdio ? ['plain output', 'not a message'] : []);
    expect(results.protocolErrors.map((e) => [e.line, e.raw])).toEqual(stdio ? [] : [[4, 'not a message']]);
    expect(results.opened).toEqual({ extras: {} });
    expect(results.closed).toEqual({ exception: null });
    expect(results.warnings).toEqual([]);
    if (injector === 'file') {
      const { path } = session.bootstrapParams().DAGSTER_PIPES_CONTEXT as { path: string };
      expect(existsSync(dirname(path))).toBe(false);
    }
  });

  it('warns when the worker sends nothing', async () => {
    const session = await openPipesSession({ context, injector, reader });
    const { results } = await run(session, [{ exit: 3 }]);
    expect(results.warnings.map((w) => w.code)).toEqual(['no-opened']);
    expect(results.warnings[0]?.message).toContain(
      injector === 'env' ? 'EnvContextInjector: ' : 'FileContextInjector: ',
    );
  });

  it('warns when the worker does not close', async () => {
    const session = await openPipesSession({ context, injector, reader });
    const { results } = await run(session, [{ method: 'opened', params: { extras: {} } }, { exit: 1 }]);
    expect(results.warnings.map((w) => w.code)).toEqual(['no-closed']);
  });
});

describe('openPipesSession', () => {
  it('encodes the bootstrap env vars from the injector and reader params', async () => {
    await using session = await openPipesSession({
      context,
      injector: 'env',
      reader: 'file',
      includeStdioInMessages: true,
    });
    const env = session.bootstrapEnv();
    expect(decodeParam(env.DAGSTER_PIPES_CONTEXT)).toEqual({ data: context });
    expect(decodeParam(env.DAGSTER_PIPES_MESSAGES)).toEqual({
      path: expect.stringMatching(/slurm-pipes-messages-.+\/messages$/),
      include_stdio_in_messages: true,
    });
    expect(session.bootstrapCliArgs()).toEqual([
      '--dagster-pipes-context',
      env.DAGSTER_PIPES_CONTEXT,
      '--dagster-pipes-messages',
      env.DAGSTER_PIPES_MESSAGES,
    ]);
  });

  it('replays all events to late and concurrent consumers', async () => {
    const output = new PassThrough();
    const session = await openPipesSession({ context, injector: 'env', reader: 'stdio', output });
    const early = collect(session.events());
    output.end(`${messageLine('opened', { extras: {} })}\nhello\n${messageLine('closed', {})}\n`);
    await session.close();
    expect(summarize(await early)).toEqual(['opened', 'out:hello', 'closed']);
    expect(summarize(await collect(session.events()))).toEqual(['opened', 'out:hello', 'closed']);
  });

  it('rejects events() and close() with the abort reason, and still removes its files', async () => {
    const controller = new AbortController();
    const session = await openPipesSession({
      context,
      injector: 'file',
      reader: 'file',
      signal: controller.signal,
    });
    const { path } = session.bootstrapParams().DAGSTER_PIPES_CONTEXT as { path: string };
    const events = collect(session.events());
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(events).rejects.toBe(reason);
    await expect(session.close()).rejects.toBe(reason);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('wraps a read failure of the channel in ERR_PIPES_CHANNEL, keeping what arrived', async () => {
    const output = new PassThrough();
    const session = await openPipesSession({ context, injector: 'env', reader: 'stdio', output });
    output.write(`${messageLine('opened', { extras: {} })}\n`);
    const broken = new Error('stream broke');
    setTimeout(() => output.destroy(broken), 20);
    await expect(session.close()).rejects.toMatchObject({ code: 'ERR_PIPES_CHANNEL', cause: broken });
    expect(session.results.opened).toEqual({ extras: {} });
  });

  it('stops waiting for a stdio drain when the close signal aborts', async () => {
    const output = new PassThrough();
    const session = await openPipesSession({ context, injector: 'env', reader: 'stdio', output });
    await expect(session.close({ signal: AbortSignal.timeout(100) })).rejects.toThrow(/timeout|aborted/i);
    expect(output.destroyed).toBe(false);
  });

  it.each<[string, Partial<PipesSessionOptions>, RegExp]>([
    [
      'an unknown injector',
      { injector: 'blob' as 'env' },
      /^injector must be 'env' or 'file'; got "blob"\.$/,
    ],
    ['an unknown reader', { reader: 'gcs' as 'file' }, /^reader must be 'file' or 'stdio'; got "gcs"\.$/],
    [
      'includeStdioInMessages with stdio',
      { reader: 'stdio', includeStdioInMessages: true },
      /needs reader: 'file'/,
    ],
    ['an output stream with the file reader', { output: new PassThrough() }, /options of reader: 'stdio'/],
  ])('rejects %s up front', async (_, patch, message) => {
    await expect(openPipesSession({ context, injector: 'env', reader: 'file', ...patch })).rejects.toThrow(
      message,
    );
  });

  it('rejects invalid context data with ERR_PIPES_INVALID_CONTEXT', async () => {
    await expect(
      openPipesSession({ context: { ...context, retry_number: -1 }, injector: 'env', reader: 'file' }),
    ).rejects.toMatchObject({ code: 'ERR_PIPES_INVALID_CONTEXT' });
  });

  it('refuses attachOutput with a file reader', async () => {
    await using session = await openPipesSession({ context, injector: 'env', reader: 'file' });
    expect(() => session.attachOutput(new PassThrough())).toThrow(TypeError);
  });
});
