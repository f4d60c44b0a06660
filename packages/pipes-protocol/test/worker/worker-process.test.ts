// Real child processes: `node --conditions=@slurm-pipes/source --import tsx fixtures/worker.ts`.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeHost, fakeHost, methods, runFixture } from './helpers/fake-host.js';

let host: FakeHost | undefined;
afterEach(() => host?.cleanup());

async function run(mode: string, options: { includeStdio?: boolean; onReady?: (pid: number) => void } = {}) {
  host = fakeHost({ includeStdio: options.includeStdio ?? false });
  const result = await runFixture('worker.ts', {
    env: { ...host.env, FIXTURE_MODE: mode },
    ...(options.onReady ? { onReady: options.onReady } : {}),
  });
  return { ...result, messages: host.messages() };
}

const closedParams = (messages: Record<string, unknown>[]) =>
  messages.at(-1)?.params as Record<string, unknown>;

describe('worker processes', () => {
  it('runDagsterPipes: opened, calls, closed {}; exit 0', async () => {
    const { code, messages } = await run('ok');
    expect(code).toBe(0);
    expect(methods(messages)).toEqual(['opened', 'log', 'report_asset_materialization', 'closed']);
    expect(messages[1]?.params).toEqual({ message: 'hello from my_asset', level: 'INFO' });
    expect(closedParams(messages)).toEqual({});
  });

  it('runDagsterPipes with a throwing body: closed carries the exception and cause; exit 1', async () => {
    const { code, stderr, messages } = await run('throws');
    expect(code).toBe(1);
    expect(stderr).toContain('Error: boom');
    expect(methods(messages)).toEqual(['opened', 'closed']);
    const { exception } = closedParams(messages) as { exception: Record<string, unknown> };
    expect(exception).toMatchObject({
      message: 'Error: boom\n',
      name: 'Error',
      context: null,
      cause: { message: 'TypeError: root cause\n', name: 'TypeError', cause: null, context: null },
    });
    expect((exception.stack as string[])[0]).toMatch(/^ {2}at .*worker\.ts:\d+:\d+\)\n$/);
  });

  it.each([
    ['uncaught', 'RangeError: kaboom\n', 'RangeError'],
    ['rejection', 'Error: rejected\n', 'Error'],
  ])('process hooks report an %s error, and Node still exits 1', async (mode, message, name) => {
    const { code, stderr, messages } = await run(mode);
    expect(code).toBe(1);
    expect(stderr).toContain(message.trim());
    expect(methods(messages)).toEqual(['opened', 'closed']);
    expect(closedParams(messages)).toMatchObject({
      exception: { message, name, cause: null, context: null },
    });
  });

  it('a normal exit without close still sends closed {}', async () => {
    const { code, messages } = await run('no-close');
    expect(code).toBe(0);
    expect(methods(messages)).toEqual(['opened', 'log', 'closed']);
    expect(closedParams(messages)).toEqual({});
  });

  it('process.exit(3) sends closed with a ProcessExit exception', async () => {
    const { code, messages } = await run('exit-code');
    expect(code).toBe(3);
    expect(closedParams(messages)).toEqual({
      exception: {
        message: 'ProcessExit: process exited with code 3\n',
        stack: [],
        name: 'ProcessExit',
        cause: null,
        context: null,
      },
    });
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s closes the session and exits %i', async (signal, exitCode) => {
    const { code, messages } = await run('signal', { onReady: (pid) => process.kill(pid, signal) });
    expect(code).toBe(exitCode);
    expect(methods(messages)).toEqual(['opened', 'log', 'closed']);
    expect(closedParams(messages)).toMatchObject({
      exception: {
        name: signal,
        message: `${signal}: process received ${signal} and exits with code ${exitCode}\n`,
      },
    });
  });

  it('include_stdio_in_messages sends the process output as log_external_stream, in order', async () => {
    const { code, stdout, stderr, messages } = await run('stdio', { includeStdio: true });
    expect(code).toBe(0);
    expect(stdout).toBe('plain stdout line\n');
    expect(stderr).toBe('plain stderr text\n');
    expect(messages.map((m) => [m.method, m.params])).toEqual([
      ['opened', { extras: {} }],
      ['log_external_stream', { stream: 'stdout', text: 'plain stdout line\n', extras: {} }],
      ['log', { message: 'captured?', level: 'WARNING' }],
      ['log_external_stream', { stream: 'stderr', text: 'plain stderr text\n', extras: {} }],
      ['closed', {}],
    ]);
  });

  it('CLI arguments work as the bootstrap channel', async () => {
    host = fakeHost();
    const { code } = await runFixture('worker.ts', { args: host.args, env: { FIXTURE_MODE: 'ok' } });
    expect(code).toBe(0);
    expect(methods(host.messages())).toEqual(['opened', 'log', 'report_asset_materialization', 'closed']);
  });

  it('outside a Pipes process: Python warning text, a no-op singleton context, exit 0', async () => {
    const { code, stdout, stderr } = await runFixture('worker.ts', { env: { FIXTURE_MODE: 'noop' } });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ isNoop: true, same: true });
    expect(stderr).toContain(
      'DagsterPipesWarning: This process was not launched by a Dagster orchestration process. All calls to the `dagster-pipes` context or attempts to initialize `dagster-pipes` abstractions are no-ops.',
    );
  });

  it('stdio message params: messages go to stdout as lines', async () => {
    host = fakeHost({ messagesParams: { stdio: 'stdout' } });
    const { code, stdout } = await runFixture('worker.ts', { env: { ...host.env, FIXTURE_MODE: 'ok' } });
    expect(code).toBe(0);
    const lines = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { method: string });
    expect(lines.map((l) => l.method)).toEqual(['opened', 'log', 'report_asset_materialization', 'closed']);
  });
});
