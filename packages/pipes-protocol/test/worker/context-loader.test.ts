import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodeParam,
  isDagsterPipesProcess,
  isPipesError,
  loadContextData,
  loadPipesBootstrap,
} from '@slurm-pipes/pipes-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { contextData, type FakeHost, fakeHost } from './helpers/fake-host.js';

let host: FakeHost | undefined;
afterEach(() => host?.cleanup());

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('loadContextData', () => {
  it('reads the `path` file and keeps the raw object', () => {
    host = fakeHost();
    const { data, raw } = loadContextData({ path: join(host.dir, 'context') });
    expect(data.asset_keys).toEqual(['my_asset']);
    expect(raw).toEqual(contextData());
  });

  it('checks `path` before `data`, as Python does', () => {
    host = fakeHost();
    const { data } = loadContextData({ path: join(host.dir, 'context'), data: { run_id: 'other' } });
    expect(data.run_id).toBe('run-1');
  });

  it('takes inline `data`, applying defaults for keys other hosts omit, keeping unknown keys raw', () => {
    const { data, raw } = loadContextData({ data: { run_id: 'r', retry_number: 1, future_key: 1 } });
    expect(data).toMatchObject({ run_id: 'r', asset_keys: null, extras: {}, job_name: null });
    expect(raw).toEqual({ run_id: 'r', retry_number: 1, future_key: 1 });
  });

  it.each([
    [
      'neither key',
      { bucket: 'b' },
      'Invalid params for PipesDefaultContextLoader, expected key "path" or "data", received {"bucket":"b"}. The orchestration side uses a context injector this loader does not support.',
    ],
    [
      'a non-string path',
      { path: 3 },
      'Context params key "path" must be a string, got 3. The orchestration side\'s context injector sent malformed params.',
    ],
    ['a non-object data', { data: [1] }, 'Pipes context data must be a JSON object, got an array.'],
  ])('rejects %s', (_, params, message) => {
    const error = thrown(() => loadContextData(params));
    expect(isPipesError(error, 'ERR_PIPES_INVALID_CONTEXT')).toBe(true);
    expect(error.message).toBe(message);
  });

  it('names a missing file and the fix', () => {
    expect(() => loadContextData({ path: '/nonexistent/context' })).toThrow(
      /^Cannot read the Pipes context file \/nonexistent\/context: ENOENT.*use PipesEnvContextInjector\.$/,
    );
  });

  it('rejects a file that is not JSON', () => {
    const h = fakeHost();
    host = h;
    writeFileSync(join(h.dir, 'context'), '{nope');
    expect(() => loadContextData({ path: join(h.dir, 'context') })).toThrow(/is not JSON\.$/);
  });

  it('explains schema mismatches', () => {
    const error = thrown(() => loadContextData({ data: { retry_number: 'x' } }));
    expect(isPipesError(error, 'ERR_PIPES_INVALID_CONTEXT')).toBe(true);
    expect(error.message).toMatch(/^Pipes context data does not match PipesContextData:\n/);
    expect(error.message).toContain('run_id');
    expect(error.message).toContain('retry_number');
  });
});

describe('loadPipesBootstrap', () => {
  it('decodes everything a relay needs', () => {
    host = fakeHost();
    const bootstrap = loadPipesBootstrap({ env: host.env, argv: [] });
    expect(bootstrap.contextParams).toEqual({ path: join(host.dir, 'context') });
    expect(bootstrap.messagesParams).toEqual({ path: host.messagesPath, include_stdio_in_messages: false });
    expect(bootstrap.contextData.run_id).toBe('run-1');
    expect(bootstrap.rawContextData).toEqual(contextData());
  });

  it('works from CLI arguments and the `data` injector', () => {
    host = fakeHost({ contextVia: 'data' });
    const bootstrap = loadPipesBootstrap({ env: {}, argv: ['node', 'x', ...host.args] });
    expect(bootstrap.contextParams).toEqual({ data: contextData() });
    expect(bootstrap.contextData.asset_keys).toEqual(['my_asset']);
  });

  it('refuses to run outside a Pipes process', () => {
    expect(isDagsterPipesProcess({ env: {}, argv: [] })).toBe(false);
    expect(() => loadPipesBootstrap({ env: {}, argv: [] })).toThrow(
      'This process was not launched by Dagster Pipes: environment variable DAGSTER_PIPES_CONTEXT is not set. Launch it through a Pipes client, which sets DAGSTER_PIPES_CONTEXT and DAGSTER_PIPES_MESSAGES.',
    );
  });

  it('requires the message params once the context is set', () => {
    expect(() => loadPipesBootstrap({ env: { DAGSTER_PIPES_CONTEXT: encodeParam({ data: {} }) } })).toThrow(
      /DAGSTER_PIPES_MESSAGES is missing/,
    );
  });
});
