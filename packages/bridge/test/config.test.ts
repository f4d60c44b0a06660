import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../src/cli/run-args.js';
import { envLayers } from '../src/config/env-layer.js';
import { resolveConfig } from '../src/config/load-config.js';
import { BridgeError } from '../src/errors.js';
import { runConfig } from '../src/run/run-command.js';

function configError(fn: () => unknown): BridgeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BridgeError);
    return e as BridgeError;
  }
  throw new Error('expected a BridgeError');
}

describe('bridge configuration', () => {
  it('defaults to local mode with python3', () => {
    const c = resolveConfig([]);
    expect(c.mode).toBe('local');
    expect(c.local.python).toBe('python3');
    expect(c.terminationGraceMs).toBe(10_000);
  });

  it('takes flags over env vars over SLURM_PIPES_CONFIG_JSON', () => {
    const env = {
      SLURM_PIPES_CONFIG_JSON: JSON.stringify({ local: { python: '/from/json' }, terminationGraceMs: 5 }),
      SLURM_PIPES_PYTHON: '/from/env',
    };
    expect(runConfig(parseRunArgs(['--', 'x.py']), env).local.python).toBe('/from/env');
    expect(runConfig(parseRunArgs(['--python', '/from/flag', '--', 'x.py']), env).local.python).toBe(
      '/from/flag',
    );
    expect(runConfig(parseRunArgs(['--', 'x.py']), env).terminationGraceMs).toBe(5);
  });

  it('names the field, the value, its source and the problem', () => {
    const e = configError(() => runConfig(parseRunArgs(['--', 'x.py']), { SLURM_PIPES_MODE: 'cloud' }));
    expect(e.code).toBe('ERR_BRIDGE_CONFIG');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('mode = "cloud" (from SLURM_PIPES_MODE)');
    expect(e.message).toMatch(/local.*slurm/);
  });

  it('rejects unknown fields in a config JSON and says where they came from', () => {
    const e = configError(() => resolveConfig(envLayers({ SLURM_PIPES_CONFIG_JSON: '{"mdoe":"local"}' })));
    expect(e.message).toContain('SLURM_PIPES_CONFIG_JSON');
    expect(e.message).toContain('mdoe');
  });

  it('refuses config JSON that is not an object', () => {
    expect(configError(() => envLayers({ SLURM_PIPES_CONFIG_JSON: '[1]' })).message).toContain(
      'must be a JSON object',
    );
    expect(configError(() => envLayers({ SLURM_PIPES_CONFIG_JSON: '{' })).message).toContain(
      'not valid JSON',
    );
  });

  it('never echoes a password in a configuration error', () => {
    const e = configError(() =>
      resolveConfig(
        envLayers({
          SLURM_PIPES_MODE: 'slurm',
          SLURM_SSH_HOST: 'h',
          SLURM_SSH_USER: 'u',
          SLURM_SSH_PORT: 'x',
          SLURM_SSH_PASSWORD: 's3cret-pw',
        }),
      ),
    );
    expect(e.message).toContain('slurm.ssh.port');
    expect(e.message).not.toContain('s3cret-pw');
  });

  it('reads a config file given by --config', () => {
    const e = configError(() =>
      runConfig(parseRunArgs(['--config', '/nonexistent/c.json', '--', 'x.py']), {}),
    );
    expect(e.message).toContain('/nonexistent/c.json');
  });
});

describe('run arguments', () => {
  it('parses standalone context flags', () => {
    const a = parseRunArgs([
      '--asset-key',
      'a/b',
      '--asset-key',
      'c',
      '--partition',
      '2026-01-01',
      '--time-window',
      '2026-01-01T00:00:00+00:00..2026-01-02T00:00:00+00:00',
      '--extra',
      'n=3',
      '--extra',
      'name=plain text',
      '--',
      'w.py',
      '--flag-for-payload',
    ]);
    expect(a.payload).toEqual(['w.py', '--flag-for-payload']);
    expect(a.standalone.assetKeys).toEqual(['a/b', 'c']);
    expect(a.standalone.extras).toEqual({ n: 3, name: 'plain text' });
    expect(a.standalone.partitionTimeWindow).toEqual({
      start: '2026-01-01T00:00:00+00:00',
      end: '2026-01-02T00:00:00+00:00',
    });
  });

  it.each([
    [['--extra', 'novalue', '--', 'x'], '--extra expects KEY=VALUE'],
    [['--partition-range', 'a', '--', 'x'], '--partition-range expects START..END'],
    [['--retry-number', 'x', '--', 'x'], '--retry-number expects a whole number'],
    [['--bogus', '--', 'x'], "Unknown option '--bogus'"],
  ])('rejects %j', (argv, text) => {
    const e = configError(() => parseRunArgs(argv));
    expect(e.code).toBe('ERR_BRIDGE_USAGE');
    expect(e.message).toContain(text);
  });
});
