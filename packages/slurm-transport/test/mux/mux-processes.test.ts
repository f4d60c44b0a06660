import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../../../../test/helpers/flags.js';
import {
  getMuxDaemonStatus,
  type MuxPaths,
  openRemoteTransport,
  resolveMuxPaths,
  type SshConnectionOptions,
  stopMuxDaemon,
} from '../../src/index.js';
import { type RealSshd, realSshdSkipReason, startRealSshd } from '../helpers/real-sshd.js';
import { fixtureCommand, publicKeyLogins, repoRoot, sshOptions, tempMuxDir, waitFor } from './helpers.js';

// Separate bridge-like processes against a throwaway sshd, each starting the daemon on first use
// through `daemonCommand`, as the CLI will: one daemon, one SSH login for all of them.
const missing = skipReason(realSshdSkipReason());
const run = promisify(execFile);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(missing !== undefined)('bridge processes sharing the daemon', () => {
  let sshd: RealSshd;
  let options: SshConnectionOptions;
  let tmp: Awaited<ReturnType<typeof tempMuxDir>>;
  let paths: MuxPaths;
  const daemonCommand = fixtureCommand('mux-daemon.ts');

  beforeAll(async () => {
    sshd = await startRealSshd();
    options = sshOptions(sshd);
    tmp = await tempMuxDir();
    paths = resolveMuxPaths({ dir: tmp.dir });
  }, 30_000);

  afterAll(async () => {
    const status = await getMuxDaemonStatus({ dir: tmp.dir }).catch(() => undefined);
    await stopMuxDaemon({ dir: tmp.dir }).catch(() => false);
    if (status !== undefined) await waitFor('the daemon to exit', () => !isAlive(status.pid)).catch(() => {});
    await sshd?.stop();
    await tmp?.[Symbol.asyncDispose]();
  });

  function startClient(execs: number): Promise<{ pid: number; ok: number; mux: boolean }> {
    const [node, ...args] = fixtureCommand('mux-exec-client.ts') as [string, ...string[]];
    return run(node, args, {
      cwd: repoRoot,
      env: {
        ...process.env,
        SLURM_PIPES_MUX_DIR: tmp.dir,
        MUX_TEST_SSH: JSON.stringify(options),
        MUX_TEST_DAEMON: JSON.stringify(daemonCommand),
        MUX_TEST_EXECS: String(execs),
      },
    }).then(
      ({ stdout }) => JSON.parse(stdout) as { pid: number; ok: number; mux: boolean },
      async (error: Error & { stderr?: string }) => {
        const log = await readFile(paths.logPath, 'utf8').catch(() => '(no daemon log)');
        throw new Error(
          `client failed: ${error.message}\n${error.stderr ?? ''}\ndaemon log:\n${log.slice(-4_000)}`,
        );
      },
    );
  }

  it('5 processes started at once start ONE daemon and share ONE SSH login for 150 commands', async () => {
    const before = await publicKeyLogins(sshd);
    const results = await Promise.all(Array.from({ length: 5 }, () => startClient(30)));
    expect(results.map((result) => [result.ok, result.mux])).toEqual(
      Array.from({ length: 5 }, () => [30, true]),
    );
    expect(new Set(results.map((result) => result.pid)).size).toBe(5);
    expect((await publicKeyLogins(sshd)) - before).toBe(1);
    const status = await getMuxDaemonStatus({ dir: tmp.dir });
    expect(status).toMatchObject({
      authCount: 1,
      connections: [expect.objectContaining({ authCount: 1, state: 'ready' })],
    });
    const log = await readFile(paths.logPath, 'utf8');
    expect(log.match(/Listening on /g)).toHaveLength(1);
    // Only one process even tried: the others waited on its `.starting` claim.
    expect(log).not.toContain('mux daemon not started');
    expect(log.match(/Client connected/g)?.length).toBeGreaterThanOrEqual(5);
    expect((await stat(paths.socketPath)).mode & 0o777).toBe(0o600);
  }, 90_000);

  it('replaces the socket of a daemon that died (kill -9) and logs in again once', async () => {
    const first = await getMuxDaemonStatus({ dir: tmp.dir });
    expect(first).toBeDefined();
    const oldPid = (first as { pid: number }).pid;
    process.kill(oldPid, 'SIGKILL');
    await waitFor('the daemon to die', () => !isAlive(oldPid));
    expect((await stat(paths.socketPath)).isSocket()).toBe(true);
    expect(Number.parseInt(await readFile(paths.lockPath, 'utf8'), 10)).toBe(oldPid);

    const before = await publicKeyLogins(sshd);
    const results = await Promise.all([startClient(5), startClient(5)]);
    expect(results.map((result) => result.ok)).toEqual([5, 5]);
    const second = await getMuxDaemonStatus({ dir: tmp.dir });
    expect(second?.pid).not.toBe(oldPid);
    expect(Number.parseInt(await readFile(paths.lockPath, 'utf8'), 10)).toBe(second?.pid);
    expect((await publicKeyLogins(sshd)) - before).toBe(1);
  }, 90_000);

  it('reaches the daemon from this process too, then stops it on request', async () => {
    await using transport = await openRemoteTransport(options, {
      dir: tmp.dir,
      daemonCommand,
      mux: 'required',
    });
    await expect(transport.exec(['echo', 'here'])).resolves.toMatchObject({ stdout: 'here\n' });
    const status = await getMuxDaemonStatus({ dir: tmp.dir });
    expect(status?.clients).toBe(2); // this transport and the status query
    await transport.close();
    expect(await stopMuxDaemon({ dir: tmp.dir })).toBe(true);
    await waitFor('the daemon to exit', () => !isAlive(status?.pid ?? 0));
    await expect(stat(paths.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(getMuxDaemonStatus({ dir: tmp.dir })).resolves.toBeUndefined();
  }, 60_000);
});
