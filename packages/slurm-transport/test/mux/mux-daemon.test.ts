import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { skipReason } from '../../../../test/helpers/flags.js';
import {
  isSlurmTransportError,
  MuxClient,
  type MuxDaemon,
  runMuxDaemon,
  SshConnection,
  type SshConnectionOptions,
  type TailChunk,
  tailRemoteFiles,
} from '../../src/index.js';
import { type RealSshd, realSshdSkipReason, startRealSshd } from '../helpers/real-sshd.js';
import { publicKeyLogins, sshOptions, tempMuxDir, waitFor } from './helpers.js';

// An in-process daemon in front of a throwaway OpenSSH sshd: the socket's security, the wire
// protocol's robustness, and every RemoteTransport call through the mux against the real thing.
const missing = skipReason(realSshdSkipReason());

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(missing !== undefined)('the multiplexing daemon in front of a real sshd', () => {
  let sshd: RealSshd;
  let options: SshConnectionOptions;
  let tmp: Awaited<ReturnType<typeof tempMuxDir>>;
  let daemon: MuxDaemon;
  let client: MuxClient;

  beforeAll(async () => {
    sshd = await startRealSshd();
    options = sshOptions(sshd);
    tmp = await tempMuxDir();
    daemon = await runMuxDaemon({ dir: tmp.dir });
    client = await MuxClient.connect(options, { dir: tmp.dir });
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await daemon?.close();
    await sshd?.stop();
    await tmp?.[Symbol.asyncDispose]();
  });

  // Raw WebSocket to the daemon, to speak the protocol by hand.
  async function rawSocket(token: string | undefined): Promise<{ ws: WebSocket; status: number }> {
    const ws = new WebSocket(`ws+unix://${daemon.paths.socketPath}:/v1`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, status: 101 }));
      ws.once('unexpected-response', (_request, response) => {
        resolve({ ws, status: response.statusCode ?? 0 });
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  function nextJson(ws: WebSocket): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>));
    });
  }

  it('keeps its directory 0700 and its socket and token 0600', async () => {
    expect((await stat(tmp.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(daemon.paths.socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(daemon.paths.tokenPath)).mode & 0o777).toBe(0o600);
    expect((await readFile(daemon.paths.tokenPath, 'utf8')).length).toBe(64);
    expect(Number.parseInt(await readFile(daemon.paths.lockPath, 'utf8'), 10)).toBe(process.pid);
  });

  it('refuses clients without the token or with a wrong one', async () => {
    const before = daemon.status().rejectedClients;
    expect((await rawSocket(undefined)).status).toBe(401);
    expect((await rawSocket('0'.repeat(64))).status).toBe(401);
    const token = await readFile(daemon.paths.tokenPath, 'utf8');
    expect((await rawSocket(`${token}x`)).status).toBe(401);
    expect(daemon.status().rejectedClients).toBe(before + 3);
    const { ws, status } = await rawSocket(token);
    expect(status).toBe(101);
    ws.close();
  });

  it('answers malformed frames with errors and keeps serving', async () => {
    const { ws } = await rawSocket(await readFile(daemon.paths.tokenPath, 'utf8'));
    try {
      ws.send('not json');
      expect(await nextJson(ws)).toMatchObject({ type: 'error', id: null, error: { code: 'ERR_MUX' } });
      ws.send(JSON.stringify({ type: 'exec', id: 7, argv: 'ls' }));
      const invalid = await nextJson(ws);
      expect(invalid).toMatchObject({
        type: 'error',
        id: 7,
        error: { name: 'SlurmTransportError', code: 'ERR_MUX' },
      });
      expect((invalid.error as { message: string }).message).toMatch(/Malformed frame:[\s\S]*conn/);
      ws.send(JSON.stringify({ type: 'teleport', id: 8 }));
      expect(await nextJson(ws)).toMatchObject({ type: 'error', id: 8 });
      ws.send(Buffer.from([9, 0]), { binary: true });
      expect(await nextJson(ws)).toMatchObject({ type: 'error', id: null, error: { code: 'ERR_MUX' } });
      ws.send(JSON.stringify({ type: 'exec', id: 9, conn: 'nobody@nowhere:22', argv: ['true'] }));
      expect(await nextJson(ws)).toMatchObject({ type: 'error', id: 9, error: { code: 'ERR_MUX' } });
      ws.send(JSON.stringify({ type: 'status', id: 10 }));
      expect(await nextJson(ws)).toMatchObject({ type: 'result', id: 10, value: { pid: process.pid } });
    } finally {
      ws.close();
    }
  });

  it('runs commands like a direct connection: output, exit codes, stdin, quoting, errors', async () => {
    const hostile = `it's "quoted" $(rm -rf /) \`x\` \\ ; |`;
    await expect(client.exec(['printf', '%s', hostile])).resolves.toEqual({
      stdout: hostile,
      stderr: '',
      exitCode: 0,
      signal: null,
    });
    await expect(client.exec(['sh', '-c', 'echo oops >&2; exit 4'])).resolves.toMatchObject({
      stderr: 'oops\n',
      exitCode: 4,
    });
    await expect(client.exec(['cat'], { stdin: 'text in' })).resolves.toMatchObject({ stdout: 'text in' });
    await expect(client.exec(['cat'], { stdin: Buffer.from('bytes in') })).resolves.toMatchObject({
      stdout: 'bytes in',
    });
    await expect(client.exec([])).rejects.toThrow(TypeError);
    const timedOut = await client.exec(['sleep', '5'], { timeoutMs: 200 }).catch((error: unknown) => error);
    expect(isSlurmTransportError(timedOut, 'ERR_SSH_TIMEOUT')).toBe(true);
    expect((timedOut as Error).message).toContain('did not finish within 200 ms');
  });

  it('streams a spawned process byte-exactly in both directions', async () => {
    const data = randomBytes(3 * 1_048_576 + 17);
    const path = join(sshd.workDir, 'random.bin');
    await writeFile(path, data);
    const cat = await client.spawn(['cat', path]);
    const received: Buffer[] = [];
    for await (const chunk of cat.stdout as AsyncIterable<Buffer>) received.push(chunk);
    expect(await cat.exited).toEqual({ exitCode: 0, signal: null });
    expect(Buffer.concat(received).equals(data)).toBe(true);

    const echo = await client.spawn(['sh', '-c', 'cat; echo done >&2; exit 2']);
    const back: Buffer[] = [];
    let stderr = '';
    echo.stdout.on('data', (chunk: Buffer) => back.push(chunk));
    echo.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    echo.stdin.end(data);
    expect(await echo.exited).toEqual({ exitCode: 2, signal: null });
    expect(createHash('sha256').update(Buffer.concat(back)).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    expect(stderr).toBe('done\n');
  });

  it('holds a remote command back while the local consumer does not read (bounded buffering)', async () => {
    const total = 24 * 1_048_576;
    const flood = await client.spawn(['head', '-c', String(total), '/dev/zero']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Unread: at most the daemon's 1 MiB window plus one read-ahead sits here; the rest waits remotely.
    expect(flood.stdout.readableLength).toBeLessThanOrEqual(2 * 1_048_576);
    expect(daemon.status().connections[0]?.channelsInUse).toBe(1);
    let received = 0;
    for await (const chunk of flood.stdout as AsyncIterable<Buffer>) received += chunk.length;
    expect(received).toBe(total);
    expect(await flood.exited).toEqual({ exitCode: 0, signal: null });
  });

  it('gives channels back when a consumer stops reading: aborted or destroyed output never leaks a slot', async () => {
    // More stuck floods than the connection's 8 channels: a leaked slot would make the last exec wait forever.
    for (let round = 0; round < 5; round++) {
      const controller = new AbortController();
      const aborted = await client.spawn(['head', '-c', '33554432', '/dev/zero'], {
        signal: controller.signal,
      });
      const destroyed = await client.spawn(['head', '-c', '33554432', '/dev/zero']);
      for await (const _chunk of destroyed.stdout) break;
      destroyed.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      expect(
        isSlurmTransportError(await aborted.exited.catch((error: unknown) => error), 'ERR_ABORTED'),
      ).toBe(true);
      await destroyed.exited.catch(() => {});
    }
    await expect(client.exec(['echo', 'free'], { timeoutMs: 10_000 })).resolves.toMatchObject({
      stdout: 'free\n',
    });
    await waitFor('every channel to be released', () => daemon.status().connections[0]?.channelsInUse === 0);
  }, 30_000);

  it('serves tailRemoteFiles through the mux', async () => {
    const path = join(sshd.workDir, 'tail.log');
    await writeFile(path, 'first\n');
    const controller = new AbortController();
    const chunks: TailChunk[] = [];
    const tail = (async () => {
      for await (const chunk of tailRemoteFiles(client, [{ path }], {
        signal: controller.signal,
        inotify: false,
      })) {
        chunks.push(chunk);
        if (Buffer.concat(chunks.map((c) => c.chunk)).toString() === 'first\nsecond\n') controller.abort();
      }
    })();
    await waitFor('the first line', () => chunks.length > 0);
    await writeFile(path, 'first\nsecond\n');
    await tail;
    expect(Buffer.concat(chunks.map((c) => c.chunk)).toString()).toBe('first\nsecond\n');
  });

  it('uploads, reads, stats and creates directories through the daemon', async () => {
    const local = join(tmp.dir, 'payload.sh');
    await writeFile(local, '#!/bin/sh\necho payload\n', { mode: 0o755 });
    const progress: number[] = [];
    const cacheDir = join(sshd.workDir, 'cache');
    const uploaded = await client.uploadFile(local, cacheDir, { onProgress: (sent) => progress.push(sent) });
    expect(uploaded).toMatchObject({
      uploaded: true,
      size: 23,
      remotePath: expect.stringMatching(/payload\.sh$/),
    });
    expect(progress.at(-1)).toBe(23);
    await expect(client.uploadFile(local, cacheDir)).resolves.toMatchObject({ uploaded: false });
    expect((await client.readFile(uploaded.remotePath)).toString()).toBe('#!/bin/sh\necho payload\n');
    const stats = await client.stat(uploaded.remotePath);
    expect(stats).toMatchObject({ size: 23, isFile: true, isDirectory: false });
    expect(stats?.mode && stats.mode & 0o777).toBe(0o755);
    expect(stats?.mtime).toBeInstanceOf(Date);
    await expect(client.stat(join(sshd.workDir, 'missing'))).resolves.toBeUndefined();
    await client.mkdir(join(sshd.workDir, 'a', 'b'), { mode: 0o750 });
    expect((await client.stat(join(sshd.workDir, 'a', 'b')))?.isDirectory).toBe(true);
    const missingFile = await client.readFile(join(sshd.workDir, 'missing')).catch((error: unknown) => error);
    expect(isSlurmTransportError(missingFile, 'ERR_SFTP')).toBe(true);
  });

  // The daemon aborts the SSH exec, which closes the channel. Whether the remote command dies
  // then is up to sshd: for a root login it refuses `signal` requests ("session signalling
  // requires privilege separation") and leaves the command running, so this sshd cannot show it;
  // mux-fake-server.test.ts proves the kill against a server that honours channel close.
  it('aborts an exec through the mux: ERR_ABORTED at once, the channel released', async () => {
    const pidFile = join(sshd.workDir, 'sleeper.pid');
    const controller = new AbortController();
    const running = client.exec(['bash', '-c', `echo $$ > ${pidFile}; exec sleep 30`], {
      signal: controller.signal,
    });
    await waitFor(
      'the remote pid',
      async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '',
    );
    expect(daemon.status().connections[0]?.channelsInUse).toBe(1);
    controller.abort();
    const error = await running.catch((caught: unknown) => caught);
    expect(isSlurmTransportError(error, 'ERR_ABORTED')).toBe(true);
    await waitFor('the channel to be released', () => daemon.status().connections[0]?.channelsInUse === 0);
    const pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('shares one login among clients and reports it in status', async () => {
    const second = await MuxClient.connect(options, { dir: tmp.dir });
    try {
      await Promise.all(Array.from({ length: 12 }, (_, i) => second.exec(['echo', String(i)])));
      const status = await second.status();
      expect(status.clients).toBe(2);
      expect(status.authCount).toBe(1);
      expect(status.connections).toEqual([
        expect.objectContaining({
          key: `${sshd.username}@127.0.0.1:${sshd.port}`,
          state: 'ready',
          authCount: 1,
          clients: 2,
        }),
      ]);
      expect(await publicKeyLogins(sshd)).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('refuses a second daemon on the same directory', async () => {
    const error = await runMuxDaemon({ dir: tmp.dir }).catch((caught: unknown) => caught);
    expect(isSlurmTransportError(error, 'ERR_MUX')).toBe(true);
    expect((error as Error).message).toContain(`pid ${process.pid}`);
  });

  // Informative (printed); the bound only catches gross regressions, since a loaded machine makes
  // the real sshd's own exec time swing by tens of ms.
  it('measures the overhead of an exec through the mux against a direct connection', async () => {
    await using direct = await SshConnection.connect(options);
    const viaMux: number[] = [];
    const viaDirect: number[] = [];
    const time = async (samples: number[], run: () => Promise<unknown>) => {
      const started = performance.now();
      await run();
      samples.push(performance.now() - started);
    };
    for (let i = 0; i < 17; i++) {
      await time(viaMux, () => client.exec(['true']));
      await time(viaDirect, () => direct.exec(['true']));
    }
    const median = (samples: number[]) => samples.slice(2).sort((a, b) => a - b)[7] as number;
    console.log(
      `exec \`true\` median: mux ${median(viaMux).toFixed(1)} ms, direct ${median(viaDirect).toFixed(1)} ms, ` +
        `overhead ${(median(viaMux) - median(viaDirect)).toFixed(1)} ms`,
    );
    expect(median(viaMux)).toBeLessThan(2 * median(viaDirect) + 50);
  }, 60_000);
});
