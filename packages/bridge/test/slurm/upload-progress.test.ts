import { describe, expect, it } from 'vitest';
import { formatBytes, uploadProgressLogger } from '../../src/slurm/payload/upload-progress.js';

describe('upload progress', () => {
  it('logs long uploads at most every 2 s, and their end', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = uploadProgressLogger(
      'env.tar',
      (line) => lines.push(line),
      () => now,
    );
    const total = 100 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += 1024 * 1024) {
      now += 100;
      progress(sent, total);
    }
    progress(total, total);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines[0]).toMatch(/^uploading env\.tar: \d+% of 100\.0 MiB \(\d+\.\d MiB\/s\)$/);
    expect(lines.at(-1)).toMatch(/^uploading env\.tar: 100% of 100\.0 MiB/);
  });

  it('stays silent for small files', () => {
    const lines: string[] = [];
    const progress = uploadProgressLogger('x', (line) => lines.push(line));
    progress(10, 1000);
    progress(1000, 1000);
    expect(lines).toEqual([]);
  });

  it.each([
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('formats %i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
