import { describe, expect, it } from 'vitest';
import { TailFrameParser } from '../../src/ssh/tail-protocol.js';

const stream = Buffer.concat([
  Buffer.from('H 1 poll\n'),
  Buffer.from('D 0 0 6\nab\ncd\n'),
  Buffer.from('D 1 10 3\n'),
  Buffer.from('é', 'utf8'),
  Buffer.from('x'),
  Buffer.from('T 0 2\nE 2\nD 0 2 0\n'),
]);

const expected = [
  { type: 'hello', version: 1, mode: 'poll' },
  { type: 'data', index: 0, offset: 0, chunk: Buffer.from('ab\ncd\n') },
  { type: 'data', index: 1, offset: 10, chunk: Buffer.from('éx') },
  { type: 'truncated', index: 0, size: 2 },
  { type: 'unreadable', index: 2 },
  { type: 'data', index: 0, offset: 2, chunk: Buffer.alloc(0) },
];

describe('TailFrameParser', () => {
  it('parses a whole stream', () => {
    expect(new TailFrameParser().push(stream)).toEqual(expected);
  });

  it('gives the same frames however the stream is split', () => {
    for (let size = 1; size <= stream.length; size++) {
      const parser = new TailFrameParser();
      const frames = [];
      for (let start = 0; start < stream.length; start += size) {
        frames.push(...parser.push(stream.subarray(start, start + size)));
      }
      expect(frames).toEqual(expected);
    }
  });

  it.each(['X 1\n', 'D 0 -1 3\n', 'D 0 1\n', `H ${'9'.repeat(200)}\n`])(
    'rejects the malformed header %j',
    (input) => {
      expect(() => new TailFrameParser().push(Buffer.from(input))).toThrow(/remote tail loop sent/);
    },
  );
});
