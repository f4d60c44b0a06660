import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlurmTransportError } from '../../src/errors.js';
import {
  SshConnection,
  type SshConnectionOptions,
  type TailChunk,
  tailRemoteFiles,
} from '../../src/ssh/index.js';
import { type RealSshd, realSshdSkipReason, startRealSshd } from '../helpers/real-sshd.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

// Against a throwaway OpenSSH sshd (MaxSessions 3) on loopback: what the fake server cannot
// prove — real login-shell quoting, real MaxSessions refusals, SFTP, and the remote tail loop.
const skipReason = realSshdSkipReason();
if (skipReason !== undefined) {
  console.warn(`Skipping real-sshd tests: ${skipReason}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(20);
  }
}

// Remote tail loops reading files under `dir` (other test files run loops of their own).
function tailLoops(dir: string): number {
  try {
    return execFileSync('pgrep', ['-f', `slurm-pipes-tail .*${dir}/`])
      .toString()
      .trim()
      .split('\n').length;
  } catch {
    return 0;
  }
}

describe.skipIf(skipReason !== undefined)('against a throwaway OpenSSH sshd', () => {
  let sshd: RealSshd;
  let proxy: TcpProxy;
  let options: SshConnectionOptions;
  let conn: SshConnection;
  let local: string;

  beforeAll(async () => {
    sshd = await startRealSshd({ maxSessions: 3 });
    proxy = await startTcpProxy(sshd.port);
    options = {
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKeyPath: sshd.privateKeyPath,
      knownHostsPath: sshd.knownHostsPath,
      agent: false,
    };
    conn = await SshConnection.connect(options);
    local = await mkdtemp(join(tmpdir(), 'slurm-pipes-local-'));
  }, 30_000);

  afterAll(async () => {
    await conn?.close();
    await proxy?.close();
    await sshd?.stop();
    if (local !== undefined) {
      await rm(local, { recursive: true, force: true });
    }
  });

  it('measures connect and exec latency (TCP no-delay on)', async () => {
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const measure = async (target: SshConnectionOptions) => {
      const connects: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await (await SshConnection.connect(target)).close();
        connects.push(performance.now() - started);
      }
      await using measured = await SshConnection.connect(target);
      const execs: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        await measured.exec(['true']);
        execs.push(performance.now() - started);
      }
      return { connect: median(connects), exec: median(execs) };
    };
    const withRc = await measure(options);
    // sshd runs every command through the login shell, and Debian's bash sources ~/.bashrc when
    // started by sshd unless SHLVL is already set: this second server shows the cost without it.
    await using clean = await startRealSshd({ extraConfig: ['SetEnv SHLVL=1'] });
    const withoutRc = await measure({
      ...options,
      port: clean.port,
      knownHostsPath: clean.knownHostsPath,
      privateKeyPath: clean.privateKeyPath,
    });
    console.info(
      `real sshd: connect median ${withRc.connect.toFixed(1)} ms; exec \`true\` median ${withRc.exec.toFixed(1)} ms ` +
        `(login shell sources ~/.bashrc), ${withoutRc.exec.toFixed(1)} ms without it`,
    );
    expect(withoutRc.exec).toBeLessThan(withRc.exec + 50);
  });

  it('delivers hostile arguments verbatim through the login shell', async () => {
    const args = [
      "it's",
      'say "hi"',
      '$(touch /tmp/slurm-pipes-pwned)',
      '`id`',
      'line1\nline2',
      '  spaces  ',
      'tab\there',
      'ünïcødé 日本語 🚀',
      '!history',
      'back\\slash',
      '',
      '*',
      '$HOME',
      '--flag=x',
      '; rm -rf /',
    ];
    const result = await conn.exec(['printf', '%s\\0', ...args]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\0').slice(0, -1)).toEqual(args);
    expect((await conn.exec(['test', '-e', '/tmp/slurm-pipes-pwned'])).exitCode).toBe(1);
    expect((await conn.exec(['printf', '%s', 'plain-args_1.0'])).stdout).toBe('plain-args_1.0');
  });

  it('keeps the exit status when the exec reply and the exit arrive in one read (busy event loop)', async () => {
    for (let i = 0; i < 5; i++) {
      const running = conn.exec(['true']);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      // Block the event loop until the command has ended, so ssh2 parses all its packets at once.
      const until = Date.now() + 400;
      while (Date.now() < until) {
        // busy wait
      }
      expect(await running).toEqual({ stdout: '', stderr: '', exitCode: 0, signal: null });
    }
  });

  it('runs 20 concurrent commands with MaxSessions 3: all succeed, extra ones queue', async () => {
    await using fresh = await SshConnection.connect(options);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fresh.exec(['sh', '-c', 'sleep 0.05; echo "$1"', 'sh', String(i)]),
      ),
    );
    expect(results.map((result) => result.stdout.trim())).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    expect(fresh.channelLimit).toBe(3);
  });

  it('uploads into the content-addressed cache atomically and skips cached files', async () => {
    const file = join(local, 'payload.bin');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(file, content);
    await chmod(file, 0o755);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const cache = join(sshd.workDir, 'cache');
    const progress: number[] = [];
    const first = await conn.uploadFile(file, cache, { onProgress: (sent) => progress.push(sent) });
    expect(first).toEqual({
      remotePath: `${cache}/${sha256}/payload.bin`,
      sha256,
      size: content.length,
      uploaded: true,
    });
    expect(progress.at(-1)).toBe(content.length);
    expect(progress.length).toBeGreaterThan(1);
    const remoteSum = await conn.exec(['sha256sum', first.remotePath]);
    expect(remoteSum.stdout.split(' ')[0]).toBe(sha256);
    expect(((await conn.stat(first.remotePath))?.mode ?? 0) & 0o777).toBe(0o755);
    expect(await readdir(join(cache, sha256))).toEqual(['payload.bin']);
    const second = await conn.uploadFile(file, cache, {
      onProgress: () => expect.fail('no transfer on a cache hit'),
    });
    expect(second.uploaded).toBe(false);
    const renamed = await conn.uploadFile(file, cache, { name: 'job.sh', mode: 0o700 });
    expect(renamed).toMatchObject({ remotePath: `${cache}/${sha256}/job.sh`, uploaded: true });
  });

  it('mkdir -p with a mode, stat and readFile', async () => {
    const nested = join(sshd.workDir, 'a', 'b', 'c');
    await conn.mkdir(nested, { mode: 0o750 });
    await conn.mkdir(nested, { mode: 0o750 });
    const stats = await conn.stat(nested);
    expect(stats).toMatchObject({ isDirectory: true, isFile: false });
    expect((stats?.mode ?? 0) & 0o777).toBe(0o750);
    await writeFile(join(nested, 'f.txt'), 'hello ü');
    expect((await conn.readFile(join(nested, 'f.txt'))).toString('utf8')).toBe('hello ü');
    expect(await conn.stat(join(nested, 'missing'))).toBeUndefined();
    const error = await conn.readFile(join(nested, 'missing')).catch((e: unknown) => e);
    expect(isSlurmTransportError(error, 'ERR_SFTP')).toBe(true);
  });

  it('tails several files over one channel, survives a dropped connection and yields every byte once, in order', async () => {
    // Through the cuttable proxy; the host key is recorded under the proxy's [host]:port.
    const proxyKnownHosts = join(local, 'proxy_known_hosts');
    const hostKey = (await readFile(sshd.knownHostsPath, 'utf8')).replace(
      `:${sshd.port} `,
      `:${proxy.port} `,
    );
    await writeFile(proxyKnownHosts, hostKey);
    const via = await SshConnection.connect({
      ...options,
      port: proxy.port,
      knownHostsPath: proxyKnownHosts,
      reconnect: { initialDelayMs: 50 },
    });
    const paths = ['messages.jsonl', 'slurm.out', 'slurm.err'].map((name) =>
      join(sshd.workDir, `tail-${name}`),
    );
    const [messages, out, err] = paths as [string, string, string];
    await writeFile(messages, '{"m":1}\n{"m":');
    await writeFile(out, '');
    // slurm.err does not exist yet.
    const controller = new AbortController();
    const received = new Map<string, Buffer[]>(paths.map((path) => [path, []]));
    const ends = new Map<string, number>(paths.map((path) => [path, 0]));
    const consumer = (async () => {
      for await (const { path, offset, chunk } of tailRemoteFiles(
        via,
        paths.map((path) => ({ path })),
        {
          signal: controller.signal,
        },
      ) as AsyncIterable<TailChunk>) {
        expect(offset).toBe(ends.get(path));
        ends.set(path, offset + chunk.length);
        received.get(path)?.push(chunk);
      }
    })();
    const text = (path: string) => Buffer.concat(received.get(path) ?? []).toString('utf8');
    const euro = Buffer.from('€', 'utf8');
    await waitFor('first chunk', () => text(messages) === '{"m":1}\n{"m":');
    expect(tailLoops(sshd.workDir)).toBe(1);
    await appendFile(messages, '2}\n');
    await appendFile(out, Buffer.concat([Buffer.from('partial '), euro.subarray(0, 1)]));
    await waitFor('split character', () => (ends.get(out) ?? 0) === 9);
    await appendFile(out, euro.subarray(1));
    await appendFile(err, 'err line\n');
    await waitFor('all three files', () => text(err) === 'err line\n' && text(out) === 'partial €');

    proxy.cut();
    await appendFile(messages, '{"m":3}\n');
    await appendFile(out, ' line\n');
    await waitFor(
      'resumed after reconnect',
      () => text(messages).endsWith('{"m":3}\n') && text(out).endsWith(' line\n'),
      15_000,
    );
    const big = randomBytes(1_500_000).toString('base64');
    await appendFile(err, big);
    await waitFor('a large append', () => text(err).length === 'err line\n'.length + big.length, 15_000);

    expect(text(messages)).toBe('{"m":1}\n{"m":2}\n{"m":3}\n');
    expect(text(out)).toBe('partial € line\n');
    expect(text(err)).toBe(`err line\n${big}`);
    expect(proxy.connections).toBe(2);

    controller.abort();
    await consumer;
    await waitFor('the remote loop to exit', () => tailLoops(sshd.workDir) === 0, 5_000);
    await via.close();
  }, 60_000);

  it('resumes from a byte offset', async () => {
    const path = join(sshd.workDir, 'resume.log');
    await writeFile(path, '0123456789');
    const controller = new AbortController();
    const chunks: TailChunk[] = [];
    for await (const chunk of tailRemoteFiles(conn, [{ path, offset: 4 }], { signal: controller.signal })) {
      chunks.push(chunk);
      controller.abort();
    }
    expect(chunks).toEqual([{ path, offset: 4, chunk: Buffer.from('456789') }]);
    await waitFor('the remote loop to exit', () => tailLoops(sshd.workDir) === 0, 5_000);
  });
});
