import { buildPipesContextData, openPipesSession } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './helpers.js';

// Plays Dagster's part with this repo's host side (the real Dagster is in test/integration):
// opens a session, launches the bridge with the bootstrap env, and reads what the bridge relays.
async function underHost(payload: string[], extras: Record<string, unknown> = {}) {
  const context = buildPipesContextData({
    assetKeys: [['relay', 'asset']],
    partitionKey: '2026-11-02',
    extras,
  });
  const session = await openPipesSession({ context, injector: 'file', reader: 'file' });
  const messages: Array<{ method: string; raw: string }> = [];
  const reading = (async () => {
    for await (const e of session.events())
      if (e.kind === 'message') messages.push({ method: e.message.method, raw: e.raw });
  })();
  const result = await runCli(['run', '--', ...payload], { ...session.bootstrapEnv() });
  const results = await session.close();
  await reading;
  return { result, results, messages, context };
}

describe('slurm-pipes run, launched by a Pipes host', () => {
  it('relays the payload messages once, folding its opened/closed into the bridge own', async () => {
    const { result, results, messages } = await underHost(['examples/hello-worker.ts'], {
      greeting: 'relayed',
    });
    expect(result.code).toBe(0);
    expect(messages.map((m) => m.method)).toEqual([
      'opened',
      'log',
      'report_asset_materialization',
      'report_asset_check',
      'closed',
    ]);
    expect(results.logs[0]?.message).toBe('worker started: relayed for 2026-11-02');
    expect(results.materializations[0]?.assetKeyPath).toEqual(['relay', 'asset']);
    expect(results.closed).toEqual({ exception: null });
    expect(results.warnings).toEqual([]);
  });

  it('relays a whole-number float byte for byte', async () => {
    const { messages } = await underHost(['examples/hello-worker.ts'], { greeting: 'x' });
    const mat = messages.find((m) => m.method === 'report_asset_materialization');
    expect(mat?.raw).toMatch(/"mean":\s*\{"raw_value":\s*6\.0,\s*"type":\s*"float"\}/);
  });

  it('carries the payload exception through and fails', async () => {
    const { result, results } = await underHost([fixture('fail-after-report.ts')]);
    expect(result.code).not.toBe(0);
    expect(results.materializations).toHaveLength(1);
    expect(results.closed?.exception?.message).toContain('boom after report');
    expect(results.closed?.exception?.stack.join('')).toContain('fail-after-report.ts');
  });

  it('reports a payload that fails without Pipes as an exception naming the exit code', async () => {
    const { result, results } = await underHost([fixture('exit-code.sh'), '5']);
    expect(result.code).toBe(5);
    expect(results.opened).not.toBeNull();
    expect(results.closed?.exception?.message).toContain('exited with code 5');
    expect(result.stdout).toContain('plain command ran with args: 5');
  });

  it('closes the channel with the error when the payload is missing', async () => {
    const { result, results } = await underHost(['missing/payload.py']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[ERR_BRIDGE_PAYLOAD]');
    expect(results.closed?.exception?.message).toContain('does not exist');
  });
});
