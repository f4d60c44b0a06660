import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlurmTransportError, type SlurmTransportError } from '../../src/errors.js';
import {
  type Logger,
  SshConnection,
  type SshConnectionOptions,
  type SshConnectionState,
} from '../../src/ssh/index.js';
import { startFakeSshServer, testKeyPair } from '../helpers/fake-ssh-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const PASSWORD = 'pw-Secret-123';
const PASSPHRASE = 'pp-Secret-456';
const OTP = '913370';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slurm-pipes-conn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function knownHosts(...lines: string[]): Promise<string> {
  const path = join(dir, `known_hosts_${++fileCounter}`);
  await writeFile(path, lines.map((line) => `${line}\n`).join(''));
  return path;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (message) => lines.push(message),
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
  };
}

async function rejection(promise: Promise<unknown>): Promise<SlurmTransportError> {
  try {
    await promise;
  } catch (error) {
    expect(isSlurmTransportError(error)).toBe(true);
    return error as SlurmTransportError;
  }
  throw new Error('expected a rejection');
}

describe('SshConnection against an in-process ssh2 server', () => {
  describe('authentication', () => {
    it('logs in with a password, runs commands and closes idempotently', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const states: SshConnectionState[] = [];
      const conn = SshConnection.lazy({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      conn.on('state', (state) => states.push(state));
      expect(conn.state).toBe('idle');
      const result = await conn.exec(['printf', '%s|%s', 'a b', "it's"]);
      expect(result).toEqual({ stdout: "a b|it's", stderr: '', exitCode: 0, signal: null });
      expect(server.authLog).toEqual(['password:ok']);
      await Promise.all([conn.close(), conn.close()]);
      expect(states).toEqual(['connecting', 'ready', 'closed']);
      expect((await rejection(conn.exec(['true']))).code).toBe('ERR_SSH_DISCONNECTED');
    });

    it('logs in with an encrypted key and its passphrase', async () => {
      const keys = testKeyPair(PASSPHRASE);
      await using server = await startFakeSshServer({ publicKey: keys.public });
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        privateKey: keys.private,
        passphrase: PASSPHRASE,
        agent: false,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      expect((await conn.exec(['echo', 'ok'])).stdout).toBe('ok\n');
      expect(server.authLog).toEqual(['publickey:ok']);
    });

    it('reads the key from privateKeyPath and explains a missing or wrong passphrase without echoing it', async () => {
      const keys = testKeyPair(PASSPHRASE);
      const keyPath = join(dir, 'id_encrypted');
      await writeFile(keyPath, keys.private, { mode: 0o600 });
      await using server = await startFakeSshServer({ publicKey: keys.public });
      const base = {
        host: server.host,
        port: server.port,
        username: server.username,
        privateKeyPath: keyPath,
        agent: false as const,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      };
      const missing = await rejection(SshConnection.connect(base));
      expect(missing.code).toBe('ERR_SSH_CONFIG');
      expect(missing.message).toContain('pass `passphrase`');
      const wrong = await rejection(SshConnection.connect({ ...base, passphrase: 'not-it-789' }));
      expect(wrong.code).toBe('ERR_SSH_CONFIG');
      expect(wrong.message).toContain('The passphrase is wrong');
      expect(wrong.message).not.toContain('not-it-789');
      await using conn = await SshConnection.connect({ ...base, passphrase: PASSPHRASE });
      expect((await conn.exec(['true'])).exitCode).toBe(0);
    });

    it('closes the TCP connection it opened when the key cannot be decrypted', async () => {
      const keys = testKeyPair(PASSPHRASE);
      const keyPath = join(dir, 'id_encrypted_leak');
      await writeFile(keyPath, keys.private, { mode: 0o600 });
      // A bare TCP server: the key fails before the handshake starts, so it never has to speak SSH.
      const closed: Promise<void>[] = [];
      const server = createServer((socket) => {
        closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as { port: number };
        const error = await rejection(
          SshConnection.connect({
            host: '127.0.0.1',
            port,
            username: 'u',
            privateKeyPath: keyPath,
            passphrase: 'not-it-789',
            agent: false,
            hostKeyPolicy: 'off',
          }),
        );
        expect(error.code).toBe('ERR_SSH_CONFIG');
        expect(closed).toHaveLength(1);
        const outcome = await Promise.race([
          closed[0]?.then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still open after 2 s'), 2_000)),
        ]);
        expect(outcome).toBe('closed');
      } finally {
        server.close();
      }
    });

    it('answers a one-time-code prompt after the key (partial success) with a callback', async () => {
      const keys = testKeyPair();
      await using server = await startFakeSshServer({ publicKey: keys.public, otp: OTP });
      const prompts: string[] = [];
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        privateKey: keys.private,
        agent: false,
        knownHostsPath: await knownHosts(server.knownHostsLine),
        keyboardInteractive: (challenge) => {
          prompts.push(
            `${challenge.target} ${challenge.name}: ${challenge.prompts.map((p) => p.prompt).join()}`,
          );
          return [OTP];
        },
      });
      expect((await conn.exec(['true'])).exitCode).toBe(0);
      expect(server.authLog).toEqual(['publickey:partial', 'keyboard-interactive:ok']);
      expect(prompts).toEqual([
        `${server.username}@127.0.0.1:${server.port} Two-factor: Verification code: `,
      ]);
    });

    it('takes the one-time code from the environment variable named by otpEnvVar', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD, otp: OTP });
      const knownHostsPath = await knownHosts(server.knownHostsLine);
      const options: SshConnectionOptions = {
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        knownHostsPath,
        otpEnvVar: 'SLURM_PIPES_TEST_OTP',
      };
      const missing = await rejection(SshConnection.connect(options));
      expect(missing.code).toBe('ERR_SSH_AUTH');
      expect(missing.message).toContain('no answer for "Verification code:"');
      process.env.SLURM_PIPES_TEST_OTP = OTP;
      try {
        await using conn = await SshConnection.connect(options);
        expect((await conn.exec(['true'])).exitCode).toBe(0);
      } finally {
        delete process.env.SLURM_PIPES_TEST_OTP;
      }
    });

    it('fails with ERR_SSH_AUTH naming what was tried, never the password', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const logger = recordingLogger();
      const error = await rejection(
        SshConnection.connect({
          host: server.host,
          port: server.port,
          username: server.username,
          password: 'wrong-Secret-000',
          agent: false,
          logger,
          knownHostsPath: await knownHosts(server.knownHostsLine),
        }),
      );
      expect(error.code).toBe('ERR_SSH_AUTH');
      expect(error.level).toBe('client-authentication');
      expect(error.message).toContain('tried password, keyboard-interactive');
      expect(error.message).toContain('the server allows');
      for (const text of [error.message, ...logger.lines]) {
        expect(text).not.toContain('wrong-Secret-000');
      }
    });

    it.skipIf(!existsSync('/usr/bin/ssh-agent'))(
      'authenticates through ssh-agent (SSH_AUTH_SOCK)',
      async () => {
        const keyPath = join(dir, 'id_agent');
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
        const socket = join(dir, 'agent.sock');
        const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
        try {
          for (let i = 0; i < 100 && !existsSync(socket); i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          execFileSync('ssh-add', ['-q', keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
          await using server = await startFakeSshServer({ publicKey: await readFile(`${keyPath}.pub`) });
          await using conn = await SshConnection.connect({
            host: server.host,
            port: server.port,
            username: server.username,
            agent: socket,
            knownHostsPath: await knownHosts(server.knownHostsLine),
          });
          expect((await conn.exec(['true'])).exitCode).toBe(0);
          expect(server.authLog).toEqual(['publickey:ok']);
        } finally {
          agent.kill();
        }
      },
    );
  });

  describe('host key verification', () => {
    it("refuses an unknown host under 'strict' (the default) and says how to add it", async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const path = join(dir, 'absent_known_hosts');
      const error = await rejection(
        SshConnection.connect({
          host: server.host,
          port: server.port,
          username: server.username,
          password: PASSWORD,
          agent: false,
          knownHostsPath: path,
        }),
      );
      expect(error.code).toBe('ERR_SSH_HOST_KEY');
      expect(error.message).toContain(`The host key of [127.0.0.1]:${server.port} (ssh-ed25519 SHA256:`);
      expect(error.message).toContain(`ssh-keyscan -p ${server.port} 127.0.0.1 >> ${path}`);
      expect(server.authLog).toEqual([]);
    });

    it("records a new host under 'accept-new', then trusts it under 'strict'", async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const path = await knownHosts('# existing', 'other.host ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWp');
      const options = {
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false as const,
        knownHostsPath: path,
      };
      await (await SshConnection.connect({ ...options, hostKeyPolicy: 'accept-new' })).close();
      expect((await readFile(path, 'utf8')).split('\n').at(-2)).toBe(server.knownHostsLine);
      await (await SshConnection.connect(options)).close();
    });

    it('refuses a changed key under every checking policy, naming the line and the fix', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const impostor = ssh2.utils.parseKey(testKeyPair().public);
      if (impostor instanceof Error || Array.isArray(impostor)) {
        throw new Error('key');
      }
      const name = `[127.0.0.1]:${server.port}`;
      const path = await knownHosts(
        '# comment',
        `${name} ssh-ed25519 ${impostor.getPublicSSH().toString('base64')}`,
      );
      for (const hostKeyPolicy of ['strict', 'accept-new'] as const) {
        const error = await rejection(
          SshConnection.connect({
            host: server.host,
            port: server.port,
            username: server.username,
            password: PASSWORD,
            agent: false,
            knownHostsPath: path,
            hostKeyPolicy,
          }),
        );
        expect(error.code).toBe('ERR_SSH_HOST_KEY');
        expect(error.message).toContain(`does not match ${path}:2`);
        expect(error.message).toContain(`ssh-keygen -R '${name}' -f ${path}`);
      }
    });

    it("accepts hashed entries, and anything under 'off'", async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const path = await knownHosts(server.knownHostsLine);
      execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' });
      expect(await readFile(path, 'utf8')).toMatch(/^\|1\|/);
      const options = {
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false as const,
      };
      await (await SshConnection.connect({ ...options, knownHostsPath: path })).close();
      await (
        await SshConnection.connect({ ...options, hostKeyPolicy: 'off', knownHostsPath: join(dir, 'none') })
      ).close();
    });
  });

  describe('exec', () => {
    it('returns non-zero exits, stderr and signals as results, and feeds stdin', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      expect(await conn.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({
        stdout: 'out\n',
        stderr: 'err\n',
        exitCode: 3,
        signal: null,
      });
      expect((await conn.exec(['cat'], { stdin: 'from stdin\nü' })).stdout).toBe('from stdin\nü');
      expect(await conn.exec(['sh', '-c', 'kill -KILL $$'])).toMatchObject({
        exitCode: null,
        signal: 'KILL',
      });
      expect(server.commands[0]).toBe(
        `exec bash --noprofile --norc -c 'sh -c '\\''echo out; echo err >&2; exit 3'\\'''`,
      );
    });

    it('times out with ERR_SSH_TIMEOUT (carrying the command), aborts with ERR_ABORTED, and frees the channel', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        maxChannels: 1,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      const timedOut = await rejection(conn.exec(['sleep', '5'], { timeoutMs: 200 }));
      expect(timedOut.code).toBe('ERR_SSH_TIMEOUT');
      expect(timedOut.command).toBe('sleep 5');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      expect((await rejection(conn.exec(['sleep', '5'], { signal: controller.signal }))).code).toBe(
        'ERR_ABORTED',
      );
      expect((await conn.exec(['echo', 'still works'], { timeoutMs: 5_000 })).stdout).toBe('still works\n');
    });

    it('queues beyond maxChannels and never exceeds it', async () => {
      await using server = await startFakeSshServer({
        password: PASSWORD,
        exec: () => ({ stdout: 'x', delayMs: 30 }),
      });
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        maxChannels: 3,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      const results = await Promise.all(Array.from({ length: 15 }, () => conn.exec(['work'])));
      expect(results.every((result) => result.stdout === 'x')).toBe(true);
      expect(server.peakSessions).toBe(3);
      expect(server.refusedSessions).toBe(0);
    });

    it('adapts to a server that refuses sessions sooner (MaxSessions) and still runs everything', async () => {
      await using server = await startFakeSshServer({
        password: PASSWORD,
        maxSessions: 2,
        exec: () => ({ stdout: 'x', delayMs: 30 }),
      });
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      const results = await Promise.all(Array.from({ length: 20 }, () => conn.exec(['work'])));
      expect(results.filter((result) => result.exitCode === 0)).toHaveLength(20);
      expect(server.peakSessions).toBe(2);
      expect(server.refusedSessions).toBeGreaterThan(0);
      expect(conn.channelLimit).toBe(2);
    });
  });

  describe('connecting', () => {
    it('shares one connection between concurrent first calls of a lazy connection', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      await using conn = SshConnection.lazy({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        knownHostsPath: await knownHosts(server.knownHostsLine),
      });
      await Promise.all([conn.ensureConnected(), conn.exec(['true']), conn.exec(['true'])]);
      expect(server.connections).toBe(1);
    });

    it('fails fast with ERR_SSH_CONNECT on a closed port', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const address = probe.address();
          probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
        });
      });
      const error = await rejection(
        SshConnection.connect({ host: '127.0.0.1', port, username: 'u', password: 'p', agent: false }),
      );
      expect(error.code).toBe('ERR_SSH_CONNECT');
      expect(error.message).toContain(`Cannot open a TCP connection to 127.0.0.1:${port}: ECONNREFUSED`);
    });

    it('gives up after connectTimeoutMs when the server never answers', async () => {
      const sockets: import('node:net').Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const address = silent.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        const started = Date.now();
        const error = await rejection(
          SshConnection.connect({
            host: '127.0.0.1',
            port,
            username: 'u',
            password: 'p',
            agent: false,
            connectTimeoutMs: 300,
          }),
        );
        expect(error.code).toBe('ERR_SSH_TIMEOUT');
        expect(Date.now() - started).toBeLessThan(3_000);
      } finally {
        for (const socket of sockets) {
          socket.destroy();
        }
        silent.close();
      }
    });

    it('tunnels through a jump host and checks the target under its own name', async () => {
      const keys = testKeyPair();
      await using jump = await startFakeSshServer({ username: 'jumper', password: PASSWORD });
      await using target = await startFakeSshServer({ publicKey: keys.public });
      await using conn = await SshConnection.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: keys.private,
        agent: false,
        knownHostsPath: await knownHosts(target.knownHostsLine),
        jumpHost: {
          host: jump.host,
          port: jump.port,
          username: 'jumper',
          password: PASSWORD,
          agent: false,
          knownHostsPath: await knownHosts(jump.knownHostsLine),
        },
      });
      expect((await conn.exec(['echo', 'via jump'])).stdout).toBe('via jump\n');
      expect(jump.commands).toEqual([]);
      expect(target.commands).toHaveLength(1);
    });

    it('closes for good when its signal aborts', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const controller = new AbortController();
      const conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        hostKeyPolicy: 'off',
        signal: controller.signal,
      });
      const running = conn.exec(['sleep', '5']);
      controller.abort();
      expect(conn.state).toBe('closed');
      expect((await rejection(running)).code).toBe('ERR_SSH_DISCONNECTED');
      expect((await rejection(conn.ensureConnected())).code).toBe('ERR_SSH_DISCONNECTED');
    });

    it('validates options up front, naming the option', () => {
      const base = { host: 'h', username: 'u' };
      expect(() => SshConnection.lazy({ ...base, port: 70_000 })).toThrow(
        'options.port must be an integer from 1 to 65535, got 70000',
      );
      expect(() => SshConnection.lazy({ ...base, maxChannels: 0 })).toThrow(
        'maxChannels must be a positive integer, got 0',
      );
      expect(() => SshConnection.lazy({ ...base, hostKeyPolicy: 'yes' as never })).toThrow(
        /hostKeyPolicy must be one of/,
      );
      expect(() => SshConnection.lazy({ ...base, jumpHost: { host: '', username: 'j' } })).toThrow(
        /options.jumpHost.host/,
      );
    });
  });

  describe('reconnect', () => {
    it('fails in-flight commands with ERR_SSH_DISCONNECTED, reconnects with backoff and runs new ones', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      await using proxy = await startTcpProxy(server.port);
      await using conn = await SshConnection.connect({
        host: '127.0.0.1',
        port: proxy.port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        hostKeyPolicy: 'off',
        reconnect: { initialDelayMs: 20, maxAttempts: 5 },
      });
      const events: string[] = [];
      conn.on('state', (state) => events.push(state));
      conn.on('disconnect', (error) => events.push(`disconnect:${error.code}`));
      conn.on('reconnect', (attempt) => events.push(`reconnect:${attempt}`));
      const inFlight = conn.exec(['sleep', '5']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.cut();
      expect((await rejection(inFlight)).code).toBe('ERR_SSH_DISCONNECTED');
      expect((await conn.exec(['echo', 'back'])).stdout).toBe('back\n');
      expect(events).toEqual(['disconnect:ERR_SSH_DISCONNECTED', 'reconnecting', 'reconnect:1', 'ready']);
      expect(proxy.connections).toBe(2);
    });

    it('reconnects the whole chain when the jump host drops', async () => {
      await using jump = await startFakeSshServer({ username: 'jumper', password: PASSWORD });
      await using target = await startFakeSshServer({ password: PASSWORD });
      await using conn = await SshConnection.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        password: PASSWORD,
        agent: false,
        hostKeyPolicy: 'off',
        reconnect: { initialDelayMs: 20 },
        jumpHost: {
          host: jump.host,
          port: jump.port,
          username: 'jumper',
          password: PASSWORD,
          agent: false,
          hostKeyPolicy: 'off',
        },
      });
      const disconnected = new Promise<SlurmTransportError>((resolve) => conn.once('disconnect', resolve));
      jump.dropConnections();
      expect((await disconnected).message).toContain(`(through the jump host jumper@127.0.0.1:${jump.port})`);
      expect((await conn.exec(['echo', 'again'])).stdout).toBe('again\n');
      expect([jump.connections, target.connections]).toEqual([2, 2]);
    });

    it('returns to idle after maxAttempts and connects again on the next call', async () => {
      await using server = await startFakeSshServer({ password: PASSWORD });
      const proxy = await startTcpProxy(server.port);
      const { port } = proxy;
      await using conn = await SshConnection.connect({
        host: '127.0.0.1',
        port,
        username: server.username,
        password: PASSWORD,
        agent: false,
        hostKeyPolicy: 'off',
        reconnect: { initialDelayMs: 10, maxAttempts: 2 },
      });
      const idle = new Promise<void>((resolve) => conn.on('state', (state) => state === 'idle' && resolve()));
      await proxy.close();
      await idle;
      expect(conn.lastError?.code).toBe('ERR_SSH_CONNECT');
      expect((await rejection(conn.exec(['true']))).code).toBe('ERR_SSH_CONNECT');
    });
  });
});
