import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult, RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { SlurmTransportError } from '@slurm-pipes/slurm-transport';
import { afterEach, describe, expect, it } from 'vitest';
import { startJobTail } from '../../../src/slurm/job-tail.js';
import { drainJobOutput } from '../../../src/slurm/relay/drain-job-output.js';
import { localTailSpawner } from './local-tail-spawner.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

// Runs commands on this machine, as the login node would; `failures` transient errors come first.
function localExecutor(failures = 0): RemoteExecutor & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    exec: (argv) => {
      calls.push([...argv]);
      if (failures-- > 0)
        return Promise.reject(new SlurmTransportError('ERR_SSH_DISCONNECTED', 'The connection was lost.'));
      return new Promise<ExecResult>((resolve) =>
        execFile(argv[0] as string, argv.slice(1), { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
          resolve({ stdout, stderr, exitCode: error ? Number(error.code ?? 1) : 0, signal: null }),
        ),
      );
    },
  };
}

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'drain-'));
  const spawner = localTailSpawner();
  cleanups.push(() => {
    spawner.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const paths = ['messages.jsonl', 'stdout', 'stderr'].map((name) => join(dir, name));
  const content = [Buffer.from('é'.repeat(5000) + '\n'.repeat(3)), Buffer.from('out\n'), Buffer.alloc(0)];
  for (const [i, path] of paths.entries()) writeFileSync(path, content[i] as Buffer);
  return { spawner, paths, content };
}

const collect = () => {
  const got: Buffer[][] = [[], [], []];
  return {
    got,
    feed: (index: number, chunk: Buffer) => {
      got[index]?.push(chunk);
    },
  };
};
const fast = {
  tail: { pollIntervalMs: 5, maxPollIntervalMs: 20, inotify: false },
  retry: { initialDelayMs: 10 },
};

describe('drainJobOutput', () => {
  it('lets the tail finish when it can, reading nothing by range', async () => {
    const { spawner, paths, content } = files();
    const { got, feed } = collect();
    const tail = startJobTail(spawner, paths, feed, () => {}, fast);
    const executor = localExecutor();
    const drained = await drainJobOutput({ executor, paths, tail, feed, log: () => {} });
    expect(drained).toEqual({ complete: true, sizes: content.map((c) => c.length) });
    expect(got.map((parts) => Buffer.concat(parts))).toEqual(content);
    expect(executor.calls).toHaveLength(1);
  });

  it('reads what a failed tail did not deliver in bounded ranges, bytes intact', async () => {
    const { spawner, paths, content } = files();
    spawner.failNext(
      new SlurmTransportError('ERR_SSH_AUTH', 'All configured authentication methods failed.'),
    );
    const { got, feed } = collect();
    const tail = startJobTail(spawner, paths, feed, () => {}, fast);
    const logs: string[] = [];
    const drained = await drainJobOutput({
      executor: localExecutor(),
      paths,
      tail,
      feed,
      log: (line) => logs.push(line),
      rangeBytes: 999,
    });
    expect(drained.complete).toBe(true);
    expect(got.map((parts) => Buffer.concat(parts))).toEqual(content);
    expect(Math.max(...(got[0] ?? []).map((c) => c.length))).toBe(999);
    expect(logs.some((line) => line.includes('reading the rest of'))).toBe(true);
  });

  it('retries the size read through a short outage', async () => {
    const { spawner, paths, content } = files();
    const { got, feed } = collect();
    const tail = startJobTail(spawner, paths, feed, () => {}, fast);
    const logs: string[] = [];
    const drained = await drainJobOutput({
      executor: localExecutor(2),
      paths,
      tail,
      feed,
      log: (line) => logs.push(line),
    });
    expect(drained.complete).toBe(true);
    expect(got.map((parts) => Buffer.concat(parts))).toEqual(content);
    expect(logs.filter((line) => line.includes('retrying in'))).toHaveLength(2);
  }, 10_000);

  it('says it is incomplete when the login node stays out of reach', async () => {
    const { spawner, paths } = files();
    spawner.failNext(
      new SlurmTransportError('ERR_SSH_AUTH', 'All configured authentication methods failed.'),
    );
    const { feed } = collect();
    const tail = startJobTail(spawner, paths, feed, () => {}, fast);
    const drained = await drainJobOutput({
      executor: localExecutor(1000),
      paths,
      tail,
      feed,
      log: () => {},
      retryForMs: 1500,
    });
    expect(drained).toEqual({ complete: false, sizes: undefined });
  }, 10_000);
});
