import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensurePrivateDir,
  isSlurmTransportError,
  type KeyboardInteractiveChallenge,
  type Logger,
  MuxClient,
  openRemoteTransport,
  resolveMuxPaths,
  runMuxDaemon,
  SshConnection,
  type SshConnectionOptions,
} from '../../src/index.js';
import { type FakeSshServer, startFakeSshServer } from '../helpers/fake-ssh-server.js';
import { tempMuxDir, waitFor } from './helpers.js';

// The daemon in front of the in-process ssh2 server: logins counted by the server itself,
// keyboard-interactive relaying, lifecycle (idle exit, lost daemon) and the fallback rules.
const PASSWORD = 'pw-Mux-Secret-1';
const OTP = '424242';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn') };
}

async function passwordOptions(server: FakeSshServer, dir: string): Promise<SshConnectionOptions> {
  const knownHostsPath = join(dir, 'known_hosts');
  await writeFile(knownHostsPath, `${server.knownHostsLine}\n`);
  return {
    host: server.host,
    port: server.port,
    username: server.username,
    password: PASSWORD,
    agent: false,
    knownHostsPath,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the multiplexing daemon in front of an in-process ssh2 server', () => {
  it('shares one login among many clients: the server sees one authentication and one TCP connection', async () => {
    await using server = await startFakeSshServer({ password: PASSWORD });
    await using tmp = await tempMuxDir();
    await using _daemon = await runMuxDaemon({ dir: tmp.dir, logger: recordingLogger() });
    const options = await passwordOptions(server, tmp.dir);
    const clients = await Promise.all(
      Array.from({ length: 4 }, () => MuxClient.connect(options, { dir: tmp.dir })),
    );
    try {
      const results = await Promise.all(
        clients.flatMap((client, c) =>
          Array.from({ length: 10 }, (_, i) => client.exec(['echo', `${c}.${i}`])),
        ),
      );
      expect(results.map((result) => result.stdout)).toEqual(
        clients.flatMap((_, c) => Array.from({ length: 10 }, (_, i) => `${c}.${i}\n`)),
      );
      expect(server.authLog.filter((entry) => entry.endsWith(':ok'))).toHaveLength(1);
      expect(server.connections).toBe(1);
      expect(server.peakSessions).toBeLessThanOrEqual(8);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('kills the remote command when an exec through the mux is aborted', async () => {
    await using server = await startFakeSshServer({ password: PASSWORD });
    await using tmp = await tempMuxDir();
    await using _daemon = await runMuxDaemon({ dir: tmp.dir, logger: recordingLogger() });
    await using client = await MuxClient.connect(await passwordOptions(server, tmp.dir), { dir: tmp.dir });
    const pidFile = join(tmp.dir, 'sleeper.pid');
    const controller = new AbortController();
    const running = client.exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], {
      signal: controller.signal,
    });
    await waitFor(
      'the remote pid',
      async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '',
    );
    const pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
    expect(isAlive(pid)).toBe(true);
    controller.abort();
    expect(isSlurmTransportError(await running.catch((error: unknown) => error), 'ERR_ABORTED')).toBe(true);
    await waitFor(`remote pid ${pid} to die`, () => !isAlive(pid), 5_000);
    expect(server.openSessions).toBe(0);
  });

  it('relays a one-time-code challenge to the client and never logs secrets', async () => {
    await using server = await startFakeSshServer({ password: PASSWORD, otp: OTP });
    await using tmp = await tempMuxDir();
    await using daemon = await runMuxDaemon({ dir: tmp.dir });
    const challenges: KeyboardInteractiveChallenge[] = [];
    const options: SshConnectionOptions = {
      ...(await passwordOptions(server, tmp.dir)),
      keyboardInteractive: (challenge) => {
        challenges.push(challenge);
        return challenge.prompts.map(() => OTP);
      },
    };
    await using client = await MuxClient.connect(options, { dir: tmp.dir });
    await expect(client.exec(['echo', 'in'])).resolves.toMatchObject({ stdout: 'in\n' });
    expect(challenges).toEqual([
      expect.objectContaining({
        target: `tester@127.0.0.1:${server.port}`,
        prompts: [{ prompt: 'Verification code: ', echo: false }],
      }),
    ]);
    expect(server.authLog).toContain('keyboard-interactive:ok');
    await client.close();
    await daemon.close();
    const log = await readFile(daemon.paths.logPath, 'utf8');
    expect(log).toContain('Authenticated');
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(OTP);
  });

  it('exits after the idle timeout and removes its socket, token and lock', async () => {
    await using server = await startFakeSshServer({ password: PASSWORD });
    await using tmp = await tempMuxDir();
    const daemon = await runMuxDaemon({ dir: tmp.dir, idleTimeoutMs: 300, logger: recordingLogger() });
    const client = await MuxClient.connect(await passwordOptions(server, tmp.dir), { dir: tmp.dir });
    await client.exec(['sleep', '0.5']);
    expect(daemon.status().clients).toBe(1);
    await client.close();
    const started = performance.now();
    await daemon.closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    for (const path of [daemon.paths.socketPath, daemon.paths.tokenPath, daemon.paths.lockPath]) {
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(server.connections).toBe(1);
  });

  it('fails running calls with ERR_SSH_DISCONNECTED when the daemon goes, and redials on the next call', async () => {
    await using server = await startFakeSshServer({ password: PASSWORD });
    await using tmp = await tempMuxDir();
    const first = await runMuxDaemon({ dir: tmp.dir, logger: recordingLogger() });
    await using client = await MuxClient.connect(await passwordOptions(server, tmp.dir), { dir: tmp.dir });
    const running = client.exec(['sleep', '5']).catch((error: unknown) => error);
    const spawned = await client.spawn(['sleep', '5']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.close();
    expect(isSlurmTransportError(await running, 'ERR_SSH_DISCONNECTED')).toBe(true);
    expect(
      isSlurmTransportError(await spawned.exited.catch((error: unknown) => error), 'ERR_SSH_DISCONNECTED'),
    ).toBe(true);
    await using _second = await runMuxDaemon({ dir: tmp.dir, logger: recordingLogger() });
    await expect(client.exec(['echo', 'back'])).resolves.toMatchObject({ stdout: 'back\n' });
  });

  describe('openRemoteTransport', () => {
    it("falls back to a direct connection in 'auto' mode and says so on the logger", async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      await using tmp = await tempMuxDir();
      const options = await passwordOptions(server, tmp.dir);
      const shared = join(tmp.dir, 'shared');
      await mkdir(shared, { mode: 0o755 });
      await chmod(shared, 0o755);
      const logger = recordingLogger();
      await using transport = await openRemoteTransport(options, { dir: shared, logger });
      expect(transport).toBeInstanceOf(SshConnection);
      await expect(transport.exec(['echo', 'direct'])).resolves.toMatchObject({ stdout: 'direct\n' });
      expect(logger.lines.filter((line) => line.startsWith('warn'))).toEqual([
        expect.stringMatching(
          /^warn SSH multiplexing unavailable, connecting to tester@127\.0\.0\.1:\d+ directly.*mode is 755/,
        ),
      ]);

      const broken = recordingLogger();
      const started = performance.now();
      await using direct = await openRemoteTransport(options, {
        dir: join(tmp.dir, 'broken'),
        daemonCommand: [process.execPath, '-e', 'process.exit(7)'],
        logger: broken,
      });
      expect(direct).toBeInstanceOf(SshConnection);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(broken.lines.find((line) => line.startsWith('warn'))).toMatch(
        /exited \(exit code 7\) without serving/,
      );
    });

    it("throws ERR_MUX in 'required' mode, connects directly in 'off' mode, and never falls back on SSH errors", async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      await using tmp = await tempMuxDir();
      const options = await passwordOptions(server, tmp.dir);
      const required = await openRemoteTransport(options, {
        mux: 'required',
        dir: join(tmp.dir, 'none'),
      }).catch((error: unknown) => error);
      expect(isSlurmTransportError(required, 'ERR_MUX')).toBe(true);
      expect((required as Error).message).toMatch(/No daemonCommand was given/);
      await using off = await openRemoteTransport(options, { mux: 'off' });
      expect(off).toBeInstanceOf(SshConnection);
      await using _daemon = await runMuxDaemon({ dir: tmp.dir, logger: recordingLogger() });
      const logger = recordingLogger();
      const denied = await openRemoteTransport(
        { ...options, password: 'wrong', keyboardInteractive: false },
        { dir: tmp.dir, logger },
      ).catch((error: unknown) => error);
      expect(isSlurmTransportError(denied, 'ERR_SSH_AUTH')).toBe(true);
      expect(logger.lines.filter((line) => line.startsWith('warn'))).toEqual([]);
      await expect(openRemoteTransport(options, { mux: 'sometimes' as 'auto' })).rejects.toThrow(RangeError);
    });
  });

  describe('the private directory', () => {
    it('refuses a directory open to others, a symlink, and one owned by someone else', async () => {
      await using tmp = await tempMuxDir();
      const open = join(tmp.dir, 'open');
      await mkdir(open);
      await chmod(open, 0o750);
      await expect(ensurePrivateDir(open)).rejects.toThrow(/mode is 750/);
      const link = join(tmp.dir, 'link');
      await symlink(tmp.dir, link);
      await expect(ensurePrivateDir(link)).rejects.toThrow(/not a directory/);
      if (process.getuid?.() === 0) {
        const foreign = join(tmp.dir, 'foreign');
        await mkdir(foreign, { mode: 0o700 });
        execFileSync('chown', ['65534', foreign]);
        await expect(ensurePrivateDir(foreign)).rejects.toThrow(/owned by uid 65534/);
      }
      const fresh = join(tmp.dir, 'a', 'b');
      await ensurePrivateDir(fresh);
      expect((await stat(fresh)).mode & 0o777).toBe(0o700);
      await rm(fresh, { recursive: true });
    });

    it('keeps the socket path under 100 bytes', () => {
      const long = `/tmp/${'x'.repeat(90)}`;
      expect(resolveMuxPaths({ env: { XDG_RUNTIME_DIR: '/run/user/1000' } }).socketPath).toBe(
        '/run/user/1000/slurm-pipes/mux-v1.sock',
      );
      expect(resolveMuxPaths({ env: { XDG_RUNTIME_DIR: long } }).dir).toBe(
        `/tmp/slurm-pipes-${process.getuid?.()}`,
      );
      expect(resolveMuxPaths({ env: { SLURM_PIPES_MUX_DIR: '/tmp/m' } }).socketPath).toBe(
        '/tmp/m/mux-v1.sock',
      );
      expect(() => resolveMuxPaths({ dir: long })).toThrow(RangeError);
    });
  });
});
