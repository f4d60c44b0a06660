import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../src/ssh/shell-quote.js';

describe('shellQuote', () => {
  it.each([
    ['plain', 'plain'],
    ['/abs/path-1.2_x', '/abs/path-1.2_x'],
    ['key=value,a:b@c%d+e', 'key=value,a:b@c%d+e'],
    ['', "''"],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ['$(rm -rf ~)', "'$(rm -rf ~)'"],
    ['`id`', "'`id`'"],
    ['a\nb', "'a\nb'"],
    ['*', "'*'"],
    ['~', "'~'"],
    ['-n', '-n'],
    ['ünï', "'ünï'"],
  ])('quotes %j as %s', (input, expected) => {
    expect(shellQuote(input)).toBe(expected);
  });

  it('rejects NUL bytes, which no shell argument can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(TypeError);
  });

  it('rejects an empty argv', () => {
    expect(() => shellJoin([])).toThrow(TypeError);
  });

  it('round-trips any argument through a real POSIX shell (sh and bash)', () => {
    const arg = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(arg, { minLength: 1, maxLength: 5 }), (args) => {
        const script = shellJoin(['printf', '%s\\0', ...args]);
        for (const shell of ['/bin/sh', '/bin/bash']) {
          const out = execFileSync(shell, ['-c', script]).toString('utf8');
          expect(out.split('\0').slice(0, -1)).toEqual(args);
        }
      }),
      { numRuns: 60 },
    );
  });
});
