import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireStepLock,
  isStale,
  type LockHolder,
  parseLockAnswer,
  processIsAlive,
} from '../../src/slurm/reattach/step-lock.js';
import { localExecutor } from './reattach-local-executor.js';

const quiet = () => {};

describe('lock answers and staleness', () => {
  it.each([
    ['acquired\n', 'acquired'],
    ['held 3 abc 123 login1\n', { ageSeconds: 3, token: 'abc', pid: 123, host: 'login1' }],
    ['held 0 \n', { ageSeconds: 0, token: '', pid: undefined, host: undefined }],
    ['garbage', undefined],
  ])('%j', (stdout, answer) => {
    expect(parseLockAnswer(stdout)).toEqual(answer);
  });

  const holder = (extra: Partial<LockHolder>): LockHolder => ({
    token: 't',
    pid: 999_999,
    host: 'other',
    ageSeconds: 1,
    ...extra,
  });
  const me = { host: 'here', staleAfterMs: 60_000, isAlive: (pid: number) => pid === 1 };
  it.each([
    ['fresh, another machine', holder({}), false],
    ['silent too long', holder({ ageSeconds: 61 }), true],
    ['dead process of this machine', holder({ host: 'here' }), true],
    ['live process of this machine', holder({ host: 'here', pid: 1 }), false],
    ['no owner yet, fresh', holder({ token: '', pid: undefined, host: undefined }), false],
  ])('%s', (_name, h, stale) => {
    expect(isStale(h, me)).toBe(stale);
  });

  it('probes processes of this machine', () => {
    expect(processIsAlive(process.pid)).toBe(true);
    expect(processIsAlive(2 ** 22 + 12_345)).toBe(false);
  });
});

describe('acquireStepLock on a real file system', () => {
  let runDir: string;
  beforeEach(async () => {
    runDir = join(await mkdtemp(join(tmpdir(), 'reattach-lock-')), 'runs', 'r', 'step');
  });
  afterEach(async () => {
    await rm(join(runDir, '..', '..', '..'), { recursive: true, force: true });
  });

  it('admits one launch at a time, and the next once released', async () => {
    const exec = localExecutor();
    const first = await acquireStepLock(exec, runDir, { log: quiet });
    await expect(
      acquireStepLock(exec, runDir, { log: quiet, waitTimeoutMs: 300, pollMs: 50 }),
    ).rejects.toMatchObject({
      code: 'ERR_BRIDGE_RELAY',
      message: expect.stringMatching(/Nothing was submitted/),
    });
    await first.release();
    await first.release();
    const second = await acquireStepLock(exec, runDir, { log: quiet });
    await second[Symbol.asyncDispose]();
    expect(await readdir(runDir)).toEqual([]);
  });

  it('keeps concurrent launches apart', async () => {
    const exec = localExecutor();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        const lock = await acquireStepLock(exec, runDir, { log: quiet, pollMs: 20 });
        inside += 1;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inside -= 1;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
  });

  it('keeps many launches apart when locks are released between their tries (repeated)', async () => {
    // A lock released between a launch's failed mkdir and its check used to fail that launch.
    const exec = localExecutor();
    for (let round = 0; round < 15; round += 1) {
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const lock = await acquireStepLock(exec, runDir, { log: quiet, pollMs: 5 });
          inside += 1;
          most = Math.max(most, inside);
          inside -= 1;
          await lock.release();
        }),
      );
      expect(most).toBe(1);
    }
  });

  it('says why the lock cannot be created when something else is in its place', async () => {
    await mkdir(runDir, { recursive: true });
    await writeFile(join(runDir, '.lock'), 'not a directory');
    await expect(acquireStepLock(localExecutor(), runDir, { log: quiet })).rejects.toMatchObject({
      code: 'ERR_BRIDGE_RELAY',
      message: expect.stringMatching(/Could not create the lock .*\.lock.*exit code 4.*File exists/),
    });
  });

  it('breaks the lock of a bridge of this machine that died holding it, at once', async () => {
    // The pid of a process that ran and was reaped (bash waits for its foreground child).
    const dead = Number(execFileSync('bash', ['-c', "sh -c 'echo $$'; true"]).toString().trim());
    await mkdir(join(runDir, '.lock'), { recursive: true });
    await writeFile(join(runDir, '.lock', 'owner'), `deadbeef ${dead} ${hostname()}\n`);
    const lines: string[] = [];
    const started = Date.now();
    const lock = await acquireStepLock(localExecutor(), runDir, { log: (l) => lines.push(l) });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(lines.join('\n')).toMatch(/breaking the stale lock .* pid \d+/);
    await lock.release();
  });

  it('breaks a lock nobody refreshed for staleAfterMs, and waits for a live one until aborted', async () => {
    await mkdir(join(runDir, '.lock'), { recursive: true });
    const owner = join(runDir, '.lock', 'owner');
    await writeFile(owner, 'cafe 1 elsewhere\n');
    const controller = new AbortController();
    const lines: string[] = [];
    const waiting = acquireStepLock(localExecutor(), runDir, {
      log: (l) => lines.push(l),
      signal: controller.signal,
      pollMs: 50,
    });
    setTimeout(() => controller.abort(new Error('stop')), 300);
    await expect(waiting).rejects.toThrow('stop');
    expect(lines[0]).toMatch(/another launch of this step \(elsewhere pid 1\) holds/);

    const old = new Date(Date.now() - 120_000);
    await utimes(owner, old, old);
    const lock = await acquireStepLock(localExecutor(), runDir, { log: quiet, staleAfterMs: 60_000 });
    await lock.release();
    expect((await readdir(runDir)).filter((name) => name.startsWith('.lock'))).toEqual([]);
  });
});
