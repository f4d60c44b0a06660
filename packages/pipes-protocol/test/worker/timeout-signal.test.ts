// onTimeoutSignal: resolution from options and env in-process; delivery with real signals sent to
// real child processes (`fixtures/timeout-signal.ts`).
import { constants } from 'node:os';
import {
  DEFAULT_TIMEOUT_SIGNAL,
  onTimeoutSignal,
  resolveTimeoutSignal,
  TIMEOUT_SIGNAL_ENV,
  TIMEOUT_SIGNAL_SECONDS_ENV,
} from '@slurm-pipes/pipes-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeHost, fakeHost, methods, runFixture } from './helpers/fake-host.js';

describe('resolveTimeoutSignal', () => {
  it('defaults to SIGUSR1, not configured, without a lead time', () => {
    expect(resolveTimeoutSignal({ env: {} })).toEqual({
      signal: 'SIGUSR1',
      leadSeconds: undefined,
      configured: false,
    });
    expect(DEFAULT_TIMEOUT_SIGNAL).toBe('SIGUSR1');
  });

  it('reads the launcher’s variables', () => {
    const env = { [TIMEOUT_SIGNAL_ENV]: 'SIGUSR2', [TIMEOUT_SIGNAL_SECONDS_ENV]: '300' };
    expect(resolveTimeoutSignal({ env })).toEqual({ signal: 'SIGUSR2', leadSeconds: 300, configured: true });
  });

  it.each([
    ['usr2', 'SIGUSR2'],
    [' SIGTERM ', 'SIGTERM'],
    [String(constants.signals.SIGUSR2), 'SIGUSR2'],
    [constants.signals.SIGINT, 'SIGINT'],
  ])('takes %j as %s', (signal, expected) => {
    expect(resolveTimeoutSignal({ signal, env: {} }).signal).toBe(expected);
  });

  it('lets the option win over the env, and says the launcher named one', () => {
    const resolved = resolveTimeoutSignal({ signal: 'USR2', env: { [TIMEOUT_SIGNAL_ENV]: 'USR1' } });
    expect(resolved).toMatchObject({ signal: 'SIGUSR2', configured: true });
  });

  it.each(['', '0', 'abc', '-5'])('ignores the lead time %j', (seconds) => {
    expect(
      resolveTimeoutSignal({ env: { [TIMEOUT_SIGNAL_SECONDS_ENV]: seconds } }).leadSeconds,
    ).toBeUndefined();
  });

  it('refuses a name that is no signal, naming where it came from and the fix', () => {
    expect(() => resolveTimeoutSignal({ env: { [TIMEOUT_SIGNAL_ENV]: 'USR9' } })).toThrow(
      /SLURM_PIPES_TIMEOUT_SIGNAL names no signal of this platform, got "USR9"\. Use a name such as USR1/,
    );
    expect(() => resolveTimeoutSignal({ signal: 999, env: {} })).toThrow(/option signal names no signal/);
  });

  it.each(['KILL', 'SIGSTOP', constants.signals.SIGKILL])('refuses %j, which cannot be caught', (signal) => {
    expect(() => resolveTimeoutSignal({ signal, env: {} })).toThrow(/cannot be caught.*Use USR1, USR2/);
  });

  it('refuses a handler that is not a function', () => {
    expect(() => onTimeoutSignal(undefined as never)).toThrow(/handler must be a function, got undefined/);
  });
});

describe('onTimeoutSignal in a real worker process', () => {
  let host: FakeHost | undefined;
  afterEach(() => host?.cleanup());

  async function run(mode: string, signal: NodeJS.Signals | number, env: Record<string, string> = {}) {
    host = fakeHost();
    let sent = 0;
    const result = await runFixture('timeout-signal.ts', {
      env: { ...host.env, FIXTURE_MODE: mode, ...env },
      // Signals once it is ready; 'twice' gets a second one once the first was reported.
      onReady: (pid) => {
        process.kill(pid, signal);
        sent += 1;
        if (mode !== 'twice') return;
        const again = setInterval(() => {
          if (!host?.messages().some((m) => m.method === 'report_custom_message')) return;
          clearInterval(again);
          process.kill(pid, signal);
          sent += 1;
        }, 20);
      },
    });
    return { ...result, sent, messages: host.messages() };
  }
  const paramsOf = (messages: Record<string, unknown>[], method: string) =>
    messages.filter((m) => m.method === method).map((m) => m.params as Record<string, unknown>);

  it('runs the handler with the launcher’s signal and lead time, so the worker checkpoints and exits 0', async () => {
    const before = Date.now();
    const { code, signal, messages } = await run('checkpoint', 'SIGUSR2', {
      [TIMEOUT_SIGNAL_ENV]: 'SIGUSR2',
      [TIMEOUT_SIGNAL_SECONDS_ENV]: '45',
    });
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(methods(messages)).toEqual([
      'opened',
      'report_custom_message',
      'report_asset_materialization',
      'closed',
    ]);
    const [custom] = paramsOf(messages, 'report_custom_message');
    expect(custom?.payload).toMatchObject({ signal: 'SIGUSR2', leadSeconds: 45, count: 1 });
    const receivedAt = (custom?.payload as { receivedAt?: string } | undefined)?.receivedAt ?? '';
    expect(Date.parse(receivedAt)).toBeGreaterThanOrEqual(before);
    expect(paramsOf(messages, 'closed')).toEqual([{}]);
  });

  it('listens for SIGUSR1 when the launcher names none, and counts every arrival', async () => {
    const { code, sent, messages } = await run('twice', 'SIGUSR1');
    expect(code).toBe(0);
    expect(sent).toBe(2);
    expect(paramsOf(messages, 'report_custom_message').map((p) => p.payload)).toEqual([
      { count: 1, signal: 'SIGUSR1' },
      { count: 2, signal: 'SIGUSR1' },
    ]);
  });

  it('once removed, leaves the signal’s default action: the process is terminated by it', async () => {
    const { code, signal, messages } = await run('removed', 'SIGUSR2', { [TIMEOUT_SIGNAL_ENV]: 'USR2' });
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGUSR2' });
    expect(methods(messages)).toEqual(['opened']);
  });

  it('reports a failing handler to Dagster in closed and exits 1', async () => {
    const { code, stderr, messages } = await run('throws', 'SIGUSR1');
    expect(code).toBe(1);
    expect(stderr).toContain('checkpoint failed: disk full');
    const [closed] = paramsOf(messages, 'closed');
    expect(closed?.exception).toMatchObject({ message: 'Error: checkpoint failed: disk full\n' });
  });

  it('with SIGTERM, runs before the Pipes hooks close the session', async () => {
    const { code, messages } = await run('sigterm', 'SIGTERM');
    expect(code).toBe(143);
    expect(methods(messages)).toEqual(['opened', 'report_custom_message', 'closed']);
    expect(paramsOf(messages, 'report_custom_message')[0]?.payload).toEqual({ saved: 'before close' });
  });
});
