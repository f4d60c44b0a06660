import { describe, expect, it } from 'vitest';
import { venvPython } from '../../../test/helpers/python.js';
import { fixture, jsonEvents, runCli } from './helpers.js';

describe('slurm-pipes run, standalone (no Dagster)', () => {
  it('runs the example TS worker with a context built from flags and prints JSON events', async () => {
    const r = await runCli([
      'run',
      '--json',
      '--asset-key',
      'example/hello',
      '--partition',
      '2026-11-01',
      '--extra',
      'greeting=hi',
      '--',
      'examples/hello-worker.ts',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = jsonEvents(r.stdout);
    const methods = events
      .filter((e) => e.event === 'message')
      .map((e) => (e.message as { method: string }).method);
    expect(methods).toEqual([
      'opened',
      'log',
      'report_asset_materialization',
      'report_asset_check',
      'closed',
    ]);
    const log = events.find((e) => (e.message as { method?: string })?.method === 'log')?.message as {
      params: { message: string };
    };
    expect(log.params.message).toBe('worker started: hi for 2026-11-01');
    const mat = events.find(
      (e) => (e.message as { method?: string })?.method === 'report_asset_materialization',
    )?.message as { params: Record<string, unknown> };
    expect(mat.params.asset_key).toBe('example/hello');
    expect(mat.params.data_version).toBe('v1');
    expect(events.at(-1)).toMatchObject({ event: 'summary', ok: true, materializations: 1, checks: 1 });
  });

  it('prints readable text by default', async () => {
    const r = await runCli([
      'run',
      '--asset-key',
      'a',
      '--partition',
      'p1',
      '--extra',
      'greeting=yo',
      '--',
      'examples/hello-worker.ts',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('materialized a data_version=v1');
    expect(r.stdout).toContain('mean (float): 6.0');
    expect(r.stdout).toContain('check a:non_empty passed');
    expect(r.stdout).toMatch(/^succeeded: payload exited with code 0; 1 materialization/m);
  });

  it('fails when the worker throws, keeping what it reported and the exception', async () => {
    const r = await runCli(['run', '--json', '--asset-key', 'a', '--', fixture('fail-after-report.ts')]);
    expect(r.code).not.toBe(0);
    const events = jsonEvents(r.stdout);
    const closed = events.find((e) => (e.message as { method?: string })?.method === 'closed')?.message as {
      params: { exception: { message: string; stack: string[] } };
    };
    expect(closed.params.exception.message).toContain('boom after report');
    expect(closed.params.exception.stack.join('')).toContain('fail-after-report.ts');
    expect(
      events.some((e) => (e.message as { method?: string })?.method === 'report_asset_materialization'),
    ).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'summary', ok: false });
  });

  it('runs any command and passes its exit code through', async () => {
    const ok = await runCli(['run', '--', fixture('exit-code.sh'), '0']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('plain command ran with args: 0');
    const bad = await runCli(['run', '--', fixture('exit-code.sh'), '7']);
    expect(bad.code).toBe(7);
    expect(bad.stdout).toMatch(/FAILED: .*exited with code 7 without reporting an exception/);
  });

  it('keeps every valid message around invalid lines and reports the bad ones by line', async () => {
    const r = await runCli([
      'run',
      '--json',
      '--python',
      venvPython(),
      '--asset-key',
      'a',
      '--',
      fixture('bad-lines.py'),
    ]);
    expect(r.code).toBe(0);
    const events = jsonEvents(r.stdout);
    const messages = events
      .filter((e) => e.event === 'message')
      .map((e) => e.message as { method: string; params: { message?: string; level?: string } });
    expect(messages.map((m) => m.method)).toEqual([
      'opened',
      'log',
      'log',
      'log',
      'report_asset_materialization',
      'closed',
    ]);
    const errors = messages.filter((m) => m.params.level === 'ERROR').map((m) => m.params.message);
    expect(errors[0]).toMatch(/^\[slurm-pipes\] payload message line 3 was not relayed: .*JSON/);
    expect(errors[1]).toMatch(/^\[slurm-pipes\] payload message line 4 was not relayed: .*no_such_method/);
    expect(events.at(-1)).toMatchObject({ ok: true, materializations: 1 });
  });

  it('keeps stdout pure JSON lines with --json: payload output goes to stderr', async () => {
    const r = await runCli(['run', '--json', '--', fixture('exit-code.sh'), '0']);
    expect(r.code).toBe(0);
    expect(() => jsonEvents(r.stdout)).not.toThrow();
    expect(r.stderr).toContain('plain command ran with args: 0');
  });

  it('explains a missing payload and a bad mode with stable codes', async () => {
    const missing = await runCli(['run', '--', 'nope/missing.py']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
    expect(missing.stderr).toContain('[ERR_BRIDGE_PAYLOAD]');
    const mode = await runCli(['run', '--mode', 'cloud', '--', 'x.py']);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('[ERR_BRIDGE_CONFIG]');
  });
});
