import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { PipesMessageChannel } from '@slurm-pipes/pipes-protocol';
import { SlurmTransportError } from '@slurm-pipes/slurm-transport';
import { afterEach, describe, expect, it } from 'vitest';
import { JobOutputRelay } from '../../src/slurm/job-output-relay.js';
import { startJobTail } from '../../src/slurm/job-tail.js';
import { type LocalTailSpawner, localTailSpawner } from './relay/local-tail-spawner.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'job-tail-'));
  const spawner = localTailSpawner();
  cleanups.push(() => {
    spawner.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const paths = ['messages.jsonl', 'stdout', 'stderr'].map((name) => join(dir, name));
  const lines: string[] = [];
  const channel: PipesMessageChannel = {
    kind: 'file',
    closed: false,
    write: (message) => lines.push(JSON.stringify(message)),
    writeLine: (json) => lines.push(json),
    flush() {},
    close: async () => {},
  };
  const stdout = new PassThrough();
  const out: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const relay = new JobOutputRelay({ channel, stdout, stderr: new PassThrough(), log });
  return { dir, spawner, paths, lines, out, logs, log, relay };
}

const logLine = (i: number) =>
  `${JSON.stringify({ __dagster_pipes_version: '0.1', method: 'log', params: { message: `seq ${i}`, level: 'INFO' } })}\n`;
const fast = {
  retry: { initialDelayMs: 10, maxDelayMs: 50 },
  tail: { pollIntervalMs: 5, maxPollIntervalMs: 20, inotify: false },
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sizesOf = (paths: string[]) =>
  paths.map((path) => statSync(path, { throwIfNoEntry: false })?.size ?? 0);

async function writeWhileCutting(
  spawner: LocalTailSpawner,
  paths: string[],
  total: number,
  cut: (round: number) => void,
) {
  let written = 0;
  let round = 0;
  let carry = '';
  while (written < total) {
    let text = carry;
    const batch = Math.min(total - written, 100 + Math.floor(Math.random() * 200));
    for (let i = 0; i < batch; i++) text += logLine(written + i);
    written += batch;
    // End most writes in the middle of a line: the rest comes with the next write.
    const cutAt = written < total ? text.length - Math.floor(Math.random() * 60) : text.length;
    carry = text.slice(cutAt);
    appendFileSync(paths[0] as string, text.slice(0, cutAt));
    appendFileSync(paths[1] as string, `out ${round}\n`);
    round += 1;
    cut(round);
    await sleep(20);
  }
  expect(spawner.spawns).toBeGreaterThan(0);
}

describe('startJobTail', () => {
  it('relays every line exactly once and in order while the connection is cut and refused', async () => {
    const { spawner, paths, lines, out, relay, log, logs } = setup();
    const tail = startJobTail(
      spawner,
      paths,
      (i, chunk) => (i === 0 ? relay.messages(chunk) : i === 1 ? relay.stdout(chunk) : relay.stderr(chunk)),
      log,
      fast,
    );
    const total = 40_000;
    await writeWhileCutting(spawner, paths, total, (round) => {
      if (round % 15 === 0) spawner.cut();
      // A longer outage: the login is refused a few times in a row.
      if (round % 60 === 0) spawner.refuse(4);
    });
    expect(await tail.drain(sizesOf(paths), 5000)).toBe(true);
    expect(await tail.stop()).toBeUndefined();
    relay.finish([]);
    expect(spawner.cuts).toBeGreaterThanOrEqual(5);
    const seqs = lines.map((line) => Number(JSON.parse(line).params.message.slice(4)));
    expect(seqs.length).toBe(total);
    expect(seqs.every((seq, i) => seq === i)).toBe(true);
    expect(Buffer.concat(out).toString()).toBe(
      Array.from(
        { length: (Buffer.concat(out).toString().match(/\n/g) ?? []).length },
        (_, r) => `out ${r}\n`,
      ).join(''),
    );
    expect(tail.offsets).toEqual(sizesOf(paths));
    expect(relay.messagesPosition).toEqual({ committed: sizesOf(paths)[0], received: sizesOf(paths)[0] });
    expect(logs.some((line) => /resuming at bytes \d+\/\d+\/\d+/.test(line))).toBe(true);
  }, 60_000);

  it('keeps drain waiting while it reconnects, beyond its idle timeout', async () => {
    const { spawner, paths, lines, relay, log } = setup();
    writeFileSync(paths[0] as string, logLine(0) + logLine(1));
    spawner.refuse(6);
    const tail = startJobTail(
      spawner,
      paths,
      (i, chunk) => (i === 0 ? relay.messages(chunk) : undefined),
      log,
      {
        ...fast,
        retry: { initialDelayMs: 100, maxDelayMs: 200 },
      },
    );
    expect(await tail.drain(sizesOf(paths), 50)).toBe(true);
    await tail.stop();
    expect(lines).toHaveLength(2);
  }, 20_000);

  it('ends on an error no reconnect can fix, with that error', async () => {
    const { spawner, paths, relay, log } = setup();
    spawner.failNext(new SlurmTransportError('ERR_SSH_AUTH', 'All configured authentication methods failed'));
    const tail = startJobTail(
      spawner,
      paths,
      (i, chunk) => (i === 0 ? relay.messages(chunk) : undefined),
      log,
      fast,
    );
    expect(await tail.drain([1, 0, 0], 5000)).toBe(false);
    const error = await tail.stop();
    expect(error).toMatchObject({ code: 'ERR_SSH_AUTH' });
    expect(spawner.spawns).toBe(1);
  });

  it('ends when the consumer throws, without reconnecting', async () => {
    const { spawner, paths, log } = setup();
    writeFileSync(paths[0] as string, logLine(0));
    const tail = startJobTail(
      spawner,
      paths,
      () => {
        throw new Error('the channel to Dagster is gone');
      },
      log,
      fast,
    );
    expect(await tail.drain(sizesOf(paths), 5000)).toBe(false);
    expect(await tail.stop()).toMatchObject({ message: 'the channel to Dagster is gone' });
    expect(spawner.spawns).toBe(1);
  });

  it('holds the tail back while the consumer waits for a full sink', async () => {
    const { spawner, paths, log } = setup();
    writeFileSync(paths[1] as string, 'x'.repeat(10_000));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chunks: number[] = [];
    const tail = startJobTail(
      spawner,
      paths,
      (i, chunk) => {
        chunks.push(chunk.length);
        return i === 1 ? gate : undefined;
      },
      log,
      { ...fast, tail: { ...fast.tail, maxChunkBytes: 1000 } },
    );
    await sleep(300);
    expect(chunks).toEqual([1000]);
    expect(tail.offsets).toEqual([0, 0, 0]);
    release();
    expect(await tail.drain(sizesOf(paths), 5000)).toBe(true);
    await tail.stop();
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(10_000);
  });
});
