import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HeldLine, HeldResults } from '../../../src/slurm/relay/held-results.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'held-test-'));
  dirs.push(dir);
  return dir;
};

describe('HeldResults', () => {
  it('keeps lines in memory under the budget and releases them in order', () => {
    const tmpDir = scratch();
    const held = new HeldResults({ tmpDir });
    held.push({ raw: '{"m":1}', materialization: true });
    held.push({ raw: '{"c":2}', materialization: false });
    expect(held.size).toBe(2);
    expect(held.spilled).toBe(false);
    const out: HeldLine[] = [];
    held.release((line) => out.push(line));
    expect(out).toEqual([
      { raw: '{"m":1}', materialization: true },
      { raw: '{"c":2}', materialization: false },
    ]);
    expect(held.size).toBe(0);
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('spills past the budget to a private file, keeps the order, and removes it on release', () => {
    const tmpDir = scratch();
    const held = new HeldResults({ memoryBytes: 100, tmpDir });
    const lines = Array.from({ length: 5000 }, (_, i) => ({
      raw: `{"seq":${i},"text":"${'é'.repeat(i % 50)}"}`,
      materialization: i % 7 === 0,
    }));
    for (const line of lines) held.push(line);
    expect(held.spilled).toBe(true);
    const [spillDir] = readdirSync(tmpDir);
    expect(spillDir).toMatch(/^slurm-pipes-held-/);
    const out: HeldLine[] = [];
    held.release((line) => out.push(line));
    expect(out).toEqual(lines);
    expect(existsSync(join(tmpDir, spillDir as string))).toBe(false);
  });

  it('dispose removes the file without releasing', () => {
    const tmpDir = scratch();
    const held = new HeldResults({ memoryBytes: 0, tmpDir });
    held.push({ raw: '{}', materialization: true });
    expect(readdirSync(tmpDir)).toHaveLength(1);
    held.dispose();
    held.dispose();
    expect(readdirSync(tmpDir)).toEqual([]);
    const out: HeldLine[] = [];
    held.release((line) => out.push(line));
    expect(out).toEqual([]);
  });
});
