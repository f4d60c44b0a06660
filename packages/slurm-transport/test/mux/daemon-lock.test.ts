import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSlurmTransportError } from '../../src/errors.js';
import { acquireDaemonLock, lockHolder, lockIsStale } from '../../src/mux/daemon-lock.js';
import { tempMuxDir } from './helpers.js';

const noSocket = async () => false;

describe('the daemon lock', () => {
  it('lets exactly one of many concurrent contenders win', async () => {
    await using tmp = await tempMuxDir();
    const lockPath = join(tmp.dir, 'mux.lock');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => acquireDaemonLock(lockPath, noSocket)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(isSlurmTransportError(outcome.reason, 'ERR_MUX')).toBe(true);
    }
    expect(await lockHolder(lockPath)).toBe(process.pid);
  });

  it("breaks a dead process's lock and releases only its own", async () => {
    await using tmp = await tempMuxDir();
    const lockPath = join(tmp.dir, 'mux.lock');
    await writeFile(lockPath, '2147483646 deadbeef\n');
    expect(await lockHolder(lockPath)).toBeUndefined();
    expect(await lockIsStale(lockPath)).toBe(true);
    const lock = await acquireDaemonLock(lockPath, noSocket);
    expect(await lockIsStale(lockPath)).toBe(false);
    expect((await readFile(lockPath, 'utf8')).startsWith(`${process.pid} `)).toBe(true);
    await writeFile(lockPath, `${process.pid} someone-else\n`);
    await lock.release();
    expect(await readFile(lockPath, 'utf8')).toBe(`${process.pid} someone-else\n`);
  });
});
