import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SlurmTransportError } from '../../src/errors.js';
import {
  type RemoteExit,
  type RemoteProcess,
  type RemoteSpawner,
  SshConnection,
  type TailChunk,
  tailRemoteFiles,
} from '../../src/ssh/index.js';
import { startFakeSshServer } from '../helpers/fake-ssh-server.js';

// A scripted process: writes `output` to stdout, then ends with `exit` (or fails with `error`).
function scriptedProcess(
  output: Buffer[],
  end: { exit?: RemoteExit; error?: unknown; stderr?: string },
): RemoteProcess {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let settle: { resolve: (exit: RemoteExit) => void; reject: (error: unknown) => void } | undefined;
  const exited = new Promise<RemoteExit>((resolve, reject) => {
    settle = { resolve, reject };
  });
  exited.catch(() => {});
  setImmediate(() => {
    for (const data of output) {
      stdout.write(data);
    }
    if (end.stderr !== undefined) {
      stderr.end(end.stderr);
    }
    stdout.end();
    setImmediate(() =>
      end.error === undefined
        ? settle?.resolve(end.exit ?? { exitCode: 0, signal: null })
        : settle?.reject(end.error),
    );
  });
  return { stdout, stderr, stdin: new PassThrough(), exited, close() {} };
}

function stubSpawner(processes: Array<() => RemoteProcess>): RemoteSpawner & { argvs: string[][] } {
  const argvs: string[][] = [];
  return {
    argvs,
    async spawn(argv) {
      argvs.push([...argv]);
      const next = processes.shift();
      if (next === undefined) {
        throw new SlurmTransportError('ERR_SSH_DISCONNECTED', 'no more scripted processes');
      }
      return next();
    },
  };
}

const offsetsOf = (argv: string[]) => argv.slice(11).filter((_, index) => index % 2 === 1);

describe('tailRemoteFiles', () => {
  it('restarts from the end of the last complete frame after a drop, so every byte comes once', async () => {
    const lost = new SlurmTransportError('ERR_SSH_DISCONNECTED', 'lost');
    const spawner = stubSpawner([
      // Drops in the middle of the second frame of file 0.
      () => scriptedProcess([Buffer.from('H 1 poll\nD 0 0 4\nab\ncD 1 0 2\nxyD 0 4 5\nde')], { error: lost }),
      () =>
        scriptedProcess([Buffer.from('H 1 poll\nD 0 4 5\ndefgh')], { exit: { exitCode: 0, signal: null } }),
    ]);
    const controller = new AbortController();
    const chunks: TailChunk[] = [];
    for await (const chunk of tailRemoteFiles(spawner, [{ path: 'a' }, { path: 'b' }], {
      signal: controller.signal,
    })) {
      chunks.push(chunk);
      if (chunks.length === 3) {
        controller.abort();
      }
    }
    expect(chunks.map(({ path, offset, chunk }) => [path, offset, chunk.toString()])).toEqual([
      ['a', 0, 'ab\nc'],
      ['b', 0, 'xy'],
      ['a', 4, 'defgh'],
    ]);
    expect(spawner.argvs.map(offsetsOf)).toEqual([
      ['0', '0'],
      ['4', '2'],
    ]);
    expect(spawner.argvs[0]?.slice(0, 6)).toEqual([
      'exec',
      'bash',
      '--noprofile',
      '--norc',
      '-c',
      expect.any(String),
    ]);
  });

  it('gives up after maxRestarts when the remote loop keeps failing, reporting its stderr', async () => {
    const failing = () =>
      scriptedProcess([], {
        exit: { exitCode: 2, signal: null },
        stderr: 'bash: syntax error near unexpected token',
      });
    const spawner = stubSpawner([failing, failing, failing]);
    const iterator = tailRemoteFiles(spawner, [{ path: 'a' }], { maxRestarts: 2 });
    const error = await (async () => {
      for await (const _ of iterator) {
        // no data expected
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlurmTransportError);
    expect((error as SlurmTransportError).code).toBe('ERR_REMOTE_COMMAND');
    expect((error as SlurmTransportError).message).toContain('syntax error');
    expect(spawner.argvs).toHaveLength(3);
  }, 10_000);

  it('does not retry errors no restart can fix', async () => {
    const spawner: RemoteSpawner = {
      spawn: () => Promise.reject(new SlurmTransportError('ERR_SSH_AUTH', 'denied')),
    };
    await expect(tailRemoteFiles(spawner, [{ path: 'a' }]).next()).rejects.toMatchObject({
      code: 'ERR_SSH_AUTH',
    });
  });

  it('validates files and options', async () => {
    const spawner = stubSpawner([]);
    await expect(tailRemoteFiles(spawner, []).next()).rejects.toThrow(TypeError);
    await expect(tailRemoteFiles(spawner, [{ path: 'a', offset: -1 }]).next()).rejects.toThrow(
      'files[0].offset',
    );
    await expect(tailRemoteFiles(spawner, [{ path: 'a' }], { pollIntervalMs: 0 }).next()).rejects.toThrow(
      'pollIntervalMs',
    );
  });

  it('follows files through a real bash loop behind an ssh2 server, across a dropped connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slurm-pipes-tail-'));
    try {
      await using server = await startFakeSshServer({ password: 'pw' });
      await using conn = await SshConnection.connect({
        host: server.host,
        port: server.port,
        username: server.username,
        password: 'pw',
        agent: false,
        hostKeyPolicy: 'off',
        reconnect: { initialDelayMs: 20 },
      });
      const path = join(dir, 'out.log');
      await writeFile(path, 'first\npart');
      const controller = new AbortController();
      const received: Buffer[] = [];
      let end = 0;
      const consumer = (async () => {
        for await (const { offset, chunk } of tailRemoteFiles(conn, [{ path }], {
          signal: controller.signal,
        })) {
          expect(offset).toBe(end);
          end += chunk.length;
          received.push(chunk);
        }
      })();
      const text = () => Buffer.concat(received).toString();
      const until = async (predicate: () => boolean) => {
        for (let i = 0; i < 500 && !predicate(); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(predicate()).toBe(true);
      };
      await until(() => text() === 'first\npart');
      server.dropConnections();
      await appendFile(path, 'ial\nsecond\n');
      await until(() => text() === 'first\npartial\nsecond\n');
      expect(server.connections).toBe(2);
      controller.abort();
      await consumer;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
