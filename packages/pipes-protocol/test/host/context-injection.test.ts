import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  buildPipesContextData,
  decodeParam,
  encodeBootstrapEnv,
  injectContextInEnv,
  injectContextInFile,
} from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';

const data = buildPipesContextData({ assetKeys: [['a', 'b/c']], partitionKey: 'p', extras: { ünï: 'cödé' } });

describe('injectContextInEnv', () => {
  it('puts the context inline, {data}', async () => {
    await using injection = injectContextInEnv(data);
    expect(injection.kind).toBe('env');
    expect(injection.params).toEqual({ data });
    const env = injection.bootstrapEnv({ stdio: 'stdout' });
    expect(env).toEqual(
      encodeBootstrapEnv({
        DAGSTER_PIPES_CONTEXT: injection.params,
        DAGSTER_PIPES_MESSAGES: { stdio: 'stdout' },
      }),
    );
    expect(decodeParam(env.DAGSTER_PIPES_CONTEXT)).toEqual({ data });
    expect(decodeParam(env.DAGSTER_PIPES_MESSAGES)).toEqual({ stdio: 'stdout' });
  });
});

describe('injectContextInFile', () => {
  it('writes the context to a 0600 file in a 0700 temp dir and removes it on dispose', async () => {
    const injection = await injectContextInFile(data);
    expect(injection.kind).toBe('file');
    const { path } = injection.params as { path: string };
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(data);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    expect(injection.debugText).toBe(`Attempted to inject context via file ${path}`);
    const env = injection.bootstrapEnv({ path: '/tmp/m', include_stdio_in_messages: false });
    expect(decodeParam(env.DAGSTER_PIPES_CONTEXT)).toEqual({ path });
    expect(decodeParam(env.DAGSTER_PIPES_MESSAGES)).toEqual({
      path: '/tmp/m',
      include_stdio_in_messages: false,
    });
    await injection.dispose();
    await injection.dispose();
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('puts the temp dir under tmpDir when given', async () => {
    const outer = await injectContextInFile(data);
    const parent = dirname((outer.params as { path: string }).path);
    await using inner = await injectContextInFile(data, { tmpDir: parent });
    expect((inner.params as { path: string }).path.startsWith(`${parent}/slurm-pipes-context-`)).toBe(true);
    await inner.dispose();
    await outer.dispose();
  });
});
