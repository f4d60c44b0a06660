import { parseEscapedAssetKey, toEscapedAssetKey } from '@slurm-pipes/pipes-protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('escaped asset keys', () => {
  // Expected values computed with Dagster 1.13: AssetKey(parts).to_escaped_user_string().
  it.each([
    [['a'], 'a'],
    [['a', 'b', 'c'], 'a/b/c'],
    [['warehouse', 'daily/sales'], 'warehouse/daily\\/sales'],
    [['back\\slash'], 'back\\\\slash'],
    [['', 'x'], '/x'],
    [['a', '', 'b'], 'a//b'],
    [['ünï', '😀'], 'ünï/😀'],
  ])('%j ⇄ %s', (parts, escaped) => {
    expect(toEscapedAssetKey(parts)).toBe(escaped);
    expect(parseEscapedAssetKey(escaped)).toEqual(parts);
  });

  // Edge cases of dagster_pipes.to_asset_key_path, mirrored.
  it.each([
    ['', []],
    ['a/', ['a']],
    ['a\\', ['a']],
    ['a\\b', ['ab']],
    ['\\/', ['/']],
  ])('parses %j as Python does: %j', (escaped, parts) => {
    expect(parseEscapedAssetKey(escaped)).toEqual(parts);
  });

  it('rejects an empty key', () => {
    expect(() => toEscapedAssetKey([])).toThrow(TypeError);
  });

  it('round-trips any parts whose last part is not empty (property)', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.string({ unit: 'binary', maxLength: 8 }), { minLength: 1, maxLength: 5 })
          .filter((p) => p.at(-1) !== ''),
        (parts) => {
          expect(parseEscapedAssetKey(toEscapedAssetKey(parts))).toEqual(parts);
        },
      ),
      { numRuns: 500 },
    );
  });
});
