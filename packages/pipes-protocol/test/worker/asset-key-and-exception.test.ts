import { isPipesError, resolveAssetKey, toAssetKeyPath, toPipesException } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';

describe('toAssetKeyPath (dagster_pipes.to_asset_key_path)', () => {
  it.each([
    ['a', ['a']],
    ['a/b/c', ['a', 'b', 'c']],
    ['multi/a\\/b', ['multi', 'a/b']],
    ['x\\\\y', ['x\\y']],
    ['a/', ['a']],
  ])('%s', (key, parts) => {
    expect(toAssetKeyPath(key)).toEqual(parts);
  });
});

describe('resolveAssetKey (_resolve_optionally_passed_asset_key)', () => {
  const m = 'report_asset_materialization';
  it('uses the only key of the step, or the given one', () => {
    expect(resolveAssetKey(['a'], undefined, m)).toBe('a');
    expect(resolveAssetKey(['a', 'b'], 'b', m)).toBe('b');
    expect(resolveAssetKey(null, 'free', m)).toBe('free');
    expect(resolveAssetKey([], 'free', m)).toBe('free');
  });

  it.each([
    [['a', 'b'], 'c', 'Invalid asset key. Expected one of `["a","b"]`, got `c`.'],
    [
      ['a', 'b'],
      undefined,
      'Calling `report_asset_materialization` without passing an asset key is undefined. Current step targets multiple assets.',
    ],
    [
      null,
      undefined,
      'Calling `report_asset_materialization` without passing an asset key is undefined. Current step does not target a specific asset.',
    ],
    [
      ['a', 'b'],
      '',
      'Calling `report_asset_materialization` without passing an asset key is undefined. Current step targets multiple assets.',
    ],
    [
      ['a'],
      3,
      /Invalid type for parameter `asset_key` of `report_asset_materialization`\. Expected a string/,
    ],
  ] as const)('keys %j, given %j', (keys, given, expected) => {
    try {
      resolveAssetKey(keys as string[] | null, given, m);
      expect.unreachable();
    } catch (error) {
      expect(isPipesError(error, 'ERR_PIPES_ASSET_KEY')).toBe(true);
      if (typeof expected === 'string') expect((error as Error).message).toBe(expected);
      else expect((error as Error).message).toMatch(expected);
    }
  });
});

describe('toPipesException', () => {
  it('mirrors Python: "Name: message\\n", frames as strings, cause chain, context null', () => {
    const error = new Error('outer', { cause: new TypeError('inner') });
    const exception = toPipesException(error);
    expect(exception).toMatchObject({
      message: 'Error: outer\n',
      name: 'Error',
      context: null,
      cause: { message: 'TypeError: inner\n', name: 'TypeError', cause: null, context: null },
    });
    expect(exception.stack.length).toBeGreaterThan(0);
    for (const frame of exception.stack) expect(frame).toMatch(/^ {2}at .+\n$/);
    expect(exception.stack[0]).toContain('asset-key-and-exception.test.ts');
  });

  it('uses the class name for subclasses that keep the default name, and "Name\\n" when empty', () => {
    class MyFailure extends Error {}
    expect(toPipesException(new MyFailure('x'))).toMatchObject({
      name: 'MyFailure',
      message: 'MyFailure: x\n',
    });
    expect(toPipesException(new RangeError())).toMatchObject({ name: 'RangeError', message: 'RangeError\n' });
  });

  it('converts thrown non-errors and non-error causes', () => {
    expect(toPipesException('plain')).toEqual({
      message: 'plain\n',
      stack: [],
      name: null,
      cause: null,
      context: null,
    });
    expect(toPipesException({ code: 1 })).toMatchObject({ message: '{ code: 1 }\n', name: null });
    expect(toPipesException(new Error('e', { cause: 42 })).cause).toMatchObject({
      message: '42\n',
      name: null,
    });
  });

  it('cuts cause cycles', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const exception = toPipesException(a);
    expect(exception.cause?.message).toBe('Error: b\n');
    expect(exception.cause?.cause).toBeNull();
  });

  it('passes a ready PipesException through', () => {
    const ready = { message: 'm\n', stack: ['s\n'], name: 'N', cause: null, context: null };
    expect(toPipesException(ready)).toEqual(ready);
  });
});
