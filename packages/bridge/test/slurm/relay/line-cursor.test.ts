import type { DecodedLine } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { LineCursor } from '../../../src/slurm/relay/line-cursor.js';

const texts = (lines: DecodedLine[]) => lines.map((l) => (l.kind === 'line' ? l.text : `!${l.line}`));

describe('LineCursor', () => {
  it('commits a line only once its handler returned, holding the unterminated rest', () => {
    const cursor = new LineCursor({ startOffset: 10 });
    const seen: DecodedLine[] = [];
    const committedAtCall: number[] = [];
    const onLine = (line: DecodedLine) => {
      committedAtCall.push(cursor.committed);
      seen.push(line);
    };
    cursor.push(Buffer.from('ab\ncd'), onLine);
    expect(texts(seen)).toEqual(['ab']);
    expect(committedAtCall).toEqual([10]);
    expect(cursor.committed).toBe(13);
    expect(cursor.received).toBe(15);
    expect(cursor.pendingBytes).toBe(2);
    cursor.push(Buffer.from('e\n\nf'), onLine);
    expect(texts(seen)).toEqual(['ab', 'cde', '']);
    expect(cursor.committed).toBe(18);
    cursor.end(onLine);
    expect(texts(seen)).toEqual(['ab', 'cde', '', 'f']);
    expect(cursor.committed).toBe(19);
    expect(cursor.lineCount).toBe(4);
  });

  it('keeps a multi-byte character split across chunks whole', () => {
    const cursor = new LineCursor();
    const seen: DecodedLine[] = [];
    const bytes = Buffer.from('héllo\n');
    cursor.push(bytes.subarray(0, 2), (l) => seen.push(l));
    cursor.push(bytes.subarray(2), (l) => seen.push(l));
    expect(texts(seen)).toEqual(['héllo']);
  });

  it('stays before a line whose handler threw, so the caller can push again from committed', () => {
    const cursor = new LineCursor();
    let fail = true;
    const seen: string[] = [];
    const onLine = (line: DecodedLine) => {
      if (line.kind === 'line' && line.text === 'b' && fail) throw new Error('channel closed');
      if (line.kind === 'line') seen.push(line.text);
    };
    expect(() => cursor.push(Buffer.from('a\nb\nc'), onLine)).toThrow('channel closed');
    expect(cursor.committed).toBe(2);
    expect(cursor.received).toBe(2);
    fail = false;
    cursor.push(Buffer.from('b\nc\n'), onLine);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(cursor.committed).toBe(6);
  });

  it('reports a too-long line once, skips it to its newline and goes on', () => {
    const cursor = new LineCursor({ maxLineLength: 4 });
    const seen: DecodedLine[] = [];
    cursor.push(Buffer.from('ok\n12'), (l) => seen.push(l));
    cursor.push(Buffer.from('345'), (l) => seen.push(l));
    cursor.push(Buffer.from('678\nnext\n'), (l) => seen.push(l));
    expect(texts(seen)).toEqual(['ok', '!2', 'next']);
    expect(seen[1]).toMatchObject({ kind: 'too-long', head: '12345' });
    expect(cursor.committed).toBe(3 + 9 + 5);
    expect(cursor.received).toBe(cursor.committed);
  });

  it.each([
    [{ startOffset: -1 }, /startOffset/],
    [{ maxLineLength: 0 }, /maxLineLength/],
  ])('refuses %o', (options, message) => {
    expect(() => new LineCursor(options)).toThrow(message);
  });
});
