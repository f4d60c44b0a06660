import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPipesContextData, openPipesSession } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { venvPython } from '../../../test/helpers/python.js';
import { fixture, runCli } from './helpers.js';

// Plays Dagster's part with this repo's host side (the real Dagster is in test/integration):
// opens a session, launches the bridge with the bootstrap env, and reads what the bridge relays.
async function underHost(
  payload: string[],
  extras: Record<string, unknown> = {},
  onSpawn?: Parameters<typeof runCli>[2],
  cliArgs: string[] = [],
) {
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
  const result = await runCli(['run', ...cliArgs, '--', ...payload], { ...session.bootstrapEnv() }, onSpawn);
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

  it('stops the payload on SIGINT (Dagster Terminate) and fails the step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sleeper-'));
    const pidFile = join(dir, 'pid');
    const { result, results } = await underHost(
      [fixture('sleeper.py'), pidFile],
      {},
      (child) => {
        const poll = setInterval(() => {
          if (existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '') {
            clearInterval(poll);
            setTimeout(() => child.kill('SIGINT'), 300);
          }
        }, 50);
      },
      ['--python', venvPython()],
    );
    expect(result.code).not.toBe(0);
    expect(results.logs.map((l) => l.message)).toContain('sleeping');
    expect(results.closed?.exception).not.toBeNull();
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('closes the channel with the error when the payload is missing', async () => {
    const { result, results } = await underHost(['missing/payload.py']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[ERR_BRIDGE_PAYLOAD]');
    expect(results.closed?.exception?.message).toContain('does not exist');
  });
});
