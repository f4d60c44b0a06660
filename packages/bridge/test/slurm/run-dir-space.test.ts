import type { ExecResult, RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { describe, expect, it } from 'vitest';
import { isDiskFull, parseDfPk, runDirFullNote } from '../../src/slurm/run-dir-space.js';

const df = (available: number, total: number) =>
  `Filesystem     1024-blocks  Used Available Capacity Mounted on\ntmpfs ${total} ${total - available} ${available} 99% /home/u/base\n`;
const executor = (result: Partial<ExecResult> | Error): RemoteExecutor => ({
  async exec() {
    if (result instanceof Error) throw result;
    return { stdout: '', stderr: '', exitCode: 0, signal: null, ...result };
  },
});

describe('run directory space', () => {
  it('parses df -Pk', () => {
    expect(parseDfPk(df(12, 512))).toEqual({ availableKiB: 12, totalKiB: 512 });
    expect(parseDfPk('Filesystem 1024-blocks Used Available Capacity Mounted on\n')).toBeUndefined();
  });

  it('calls a filesystem full under 64 KiB or 1% free', () => {
    expect(isDiskFull({ availableKiB: 0, totalKiB: 512 })).toBe(true);
    expect(isDiskFull({ availableKiB: 63, totalKiB: 1_000_000_000 })).toBe(true);
    expect(isDiskFull({ availableKiB: 5_000, totalKiB: 1_000_000 })).toBe(true);
    expect(isDiskFull({ availableKiB: 200_000, totalKiB: 1_000_000 })).toBe(false);
  });

  it('names ENOSPC, the space and the fix for a full run directory, and nothing otherwise', async () => {
    const note = await runDirFullNote(executor({ stdout: df(0, 512) }), '/base/runs/r/a');
    expect(note).toMatch(
      /run directory \/base\/runs\/r\/a is full \(No space left on device, ENOSPC: 0 KiB free of 512 KiB\)/,
    );
    expect(note).toMatch(/Fix: free space there.*slurm\.remoteBase/);
    expect(await runDirFullNote(executor({ stdout: df(400_000, 1_000_000) }), '/x')).toBeUndefined();
    expect(await runDirFullNote(executor({ exitCode: 1 }), '/x')).toBeUndefined();
    expect(await runDirFullNote(executor(new Error('ssh down')), '/x')).toBeUndefined();
  });
});
