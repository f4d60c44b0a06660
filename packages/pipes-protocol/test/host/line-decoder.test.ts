import { DEFAULT_MAX_LINE_LENGTH, type DecodedLine, LineDecoder } from '@slurm-pipes/pipes-protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const texts = (items: DecodedLine[]) =>
  items.map((d) => (d.kind === 'line' ? d.text : `<too-long ${d.line}>`));

// Cuts `bytes` at the positions derived from `seed` (any split, including inside a character).
function splitAt(bytes: Buffer, seed: number[]): Buffer[] {
  const cuts = [...new Set(seed.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

function feed(decoder: LineDecoder, chunks: (string | Uint8Array)[]): DecodedLine[] {
  const out = chunks.flatMap((c) => decoder.write(typeof c === 'string' ? Buffer.from(c) : c));
  return [...out, ...decoder.end()];
}

describe('LineDecoder', () => {
  it.each([
    ['one line', ['a\n'], ['a']],
    ['two lines in one chunk', ['a\nb\n'], ['a', 'b']],
    ['a line split over chunks', ['{"me', 'thod"', ':1}\n'], ['{"method":1}']],
    ['empty lines', ['\n\n'], ['', '']],
    ['an unterminated last line, flushed by end()', ['a\nb'], ['a', 'b']],
    ['a newline alone in its chunk', ['a', '\n', 'b', '\n'], ['a', 'b']],
    ['empty chunks', ['', 'a', '', '\n', ''], ['a']],
    ['carriage returns kept', ['a\r\n'], ['a\r']],
  ])('%s', (_, chunks, expected) => {
    expect(texts(feed(new LineDecoder(), chunks))).toEqual(expected);
  });

  it('holds a partial line until its newline arrives', () => {
    const decoder = new LineDecoder();
    expect(decoder.write(Buffer.from('{"partial'))).toEqual([]);
    expect(decoder.pendingBytes).toBe(9);
    expect(decoder.write(Buffer.from('": true}\nnext'))).toEqual([
      { kind: 'line', text: '{"partial": true}', line: 1 },
    ]);
    expect(decoder.end()).toEqual([{ kind: 'line', text: 'next', line: 2 }]);
  });

  it('decodes a multi-byte character split between chunks, byte by byte', () => {
    const bytes = Buffer.from('ünï€😀\n');
    const decoder = new LineDecoder();
    const out = [...bytes].flatMap((b) => decoder.write(Uint8Array.of(b)));
    expect(out).toEqual([{ kind: 'line', text: 'ünï€😀', line: 1 }]);
  });

  it('does not keep a reference to a chunk that the caller reuses', () => {
    const decoder = new LineDecoder();
    const chunk = Buffer.from('abc');
    decoder.write(chunk);
    chunk.write('XYZ');
    expect(texts(decoder.write(Buffer.from('\n')))).toEqual(['abc']);
  });

  it('decodes invalid UTF-8 to U+FFFD', () => {
    expect(texts(feed(new LineDecoder(), [Uint8Array.of(0x61, 0xff, 0x62, 0x0a)]))).toEqual(['a\uFFFDb']);
  });

  it('reports a too-long line once, skips it, and keeps the following lines', () => {
    const decoder = new LineDecoder({ maxLineLength: 5 });
    const out = feed(decoder, ['ok\n12', '3456', '789\nafter\n123456']);
    expect(out.map((d) => d.kind)).toEqual(['line', 'too-long', 'line', 'too-long']);
    expect(out[1]).toMatchObject({ kind: 'too-long', line: 2, head: '123456' });
    expect(out[2]).toEqual({ kind: 'line', text: 'after', line: 3 });
    expect(out[1]?.kind === 'too-long' && out[1].error.message).toMatchInlineSnapshot(
      `"Line 2 is longer than maxLineLength (5 bytes) and was skipped; it starts with "123456"."`,
    );
    expect(out[1]?.kind === 'too-long' && out[1].error.code).toBe('ERR_PIPES_INVALID_MESSAGE');
  });

  it('accepts a line of exactly maxLineLength bytes', () => {
    expect(texts(feed(new LineDecoder({ maxLineLength: 3 }), ['abc\n', 'abcd\n']))).toEqual([
      'abc',
      '<too-long 2>',
    ]);
  });

  it('counts lines across skipped ones', () => {
    const decoder = new LineDecoder({ maxLineLength: 2 });
    expect(feed(decoder, ['a\nbbb\n\nc\n']).map((d) => d.line)).toEqual([1, 2, 3, 4]);
    expect(decoder.lineCount).toBe(4);
  });

  it('defaults maxLineLength to 64 MiB', () => {
    expect(new LineDecoder().maxLineLength).toBe(DEFAULT_MAX_LINE_LENGTH);
    expect(DEFAULT_MAX_LINE_LENGTH).toBe(64 * 1024 * 1024);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects maxLineLength %s', (maxLineLength) => {
    expect(() => new LineDecoder({ maxLineLength })).toThrow(RangeError);
  });

  it('yields exactly the lines, whatever the chunk boundaries (property)', () => {
    const line = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\n'));
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 30 }),
        (lines, terminated, cutsSeed) => {
          const text = lines.join('\n') + (terminated && lines.length > 0 ? '\n' : '');
          const chunks = splitAt(Buffer.from(text), cutsSeed);
          const expected = terminated || lines.at(-1) !== '' ? lines : lines.slice(0, -1);
          expect(texts(feed(new LineDecoder(), chunks))).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('skips exactly the too-long lines, whatever the chunk boundaries (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).filter((s) => !s.includes('\n')),
          { maxLength: 15 },
        ),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (lines, max, cutsSeed) => {
          const chunks = splitAt(Buffer.from(lines.map((l) => `${l}\n`).join('')), cutsSeed);
          const expected = lines.map((l, i) => (l.length > max ? `<too-long ${i + 1}>` : l));
          expect(texts(feed(new LineDecoder({ maxLineLength: max }), chunks))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
