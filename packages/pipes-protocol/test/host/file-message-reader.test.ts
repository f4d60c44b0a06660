import { existsSync } from 'node:fs';
import { appendFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodeBootstrapEnv, FileMessageReader, type PipesReaderEvent } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { collect, summarize, until } from './helpers/collect.js';
import { exited, messageLine, spawnFakeWorker } from './helpers/run-fake-worker.js';

const opened = `${messageLine('opened', { extras: {} })}\n`;
const closed = `${messageLine('closed', {})}\n`;
const log = (message: string) => `${messageLine('log', { message, level: 'INFO' })}\n`;

// Starts iterating in the background and exposes what arrived so far.
function tail(reader: FileMessageReader) {
  const events: PipesReaderEvent[] = [];
  const done = (async () => {
    for await (const event of reader.events()) events.push(event);
  })();
  return { events, done };
}

describe('FileMessageReader', () => {
  it('creates an empty private messages file and gives {path, include_stdio_in_messages}', async () => {
    await using reader = await FileMessageReader.open({ includeStdioInMessages: true });
    expect(reader.params).toEqual({ path: reader.path, include_stdio_in_messages: true });
    expect((await stat(reader.path)).size).toBe(0);
    expect((await stat(reader.path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(reader.path))).mode & 0o777).toBe(0o700);
    expect(reader.debugText).toBe(`Attempted to read messages from file ${reader.path}.`);
  });

  it('defaults include_stdio_in_messages to false', async () => {
    await using reader = await FileMessageReader.open();
    expect(reader.params.include_stdio_in_messages).toBe(false);
  });

  it('tails the file, waits for partial lines, reports bad lines and goes on; close drains and cleans up', async () => {
    const reader = await FileMessageReader.open();
    const { events, done } = tail(reader);
    await appendFile(reader.path, opened);
    await until(() => events.length === 1);
    await appendFile(reader.path, log('one').slice(0, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(1);
    await appendFile(reader.path, `${log('one').slice(20)}not json\n\n`);
    await until(() => events.length === 4);
    await appendFile(reader.path, log('two') + closed);
    await reader.close();
    await done;
    expect(summarize(events)).toEqual(['opened', 'log', 'error@3', 'error@4', 'log', 'closed']);
    const bad = events[2] as Extract<PipesReaderEvent, { kind: 'protocol-error' }>;
    expect(bad.raw).toBe('not json');
    expect(bad.error.code).toBe('ERR_PIPES_INVALID_MESSAGE');
    expect(events[1]).toMatchObject({ kind: 'message', line: 2, message: { params: { message: 'one' } } });
    expect(existsSync(dirname(reader.path))).toBe(false);
  });

  it('is woken by fs.watch, not only by the poll', async () => {
    await using reader = await FileMessageReader.open({ pollIntervalMs: 60_000 });
    const { events } = tail(reader);
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(reader.path, opened);
    // The poll would take a minute; only the watcher can deliver this in time.
    await until(() => events.length === 1, 3000);
  });

  it('flushes an unterminated last line on close', async () => {
    const reader = await FileMessageReader.open();
    const { events, done } = tail(reader);
    await appendFile(reader.path, opened + messageLine('closed', {}));
    await reader.close();
    await done;
    expect(summarize(events)).toEqual(['opened', 'closed']);
  });

  it('reports a too-long line and keeps reading', async () => {
    const reader = await FileMessageReader.open({ maxLineLength: 100 });
    const { events, done } = tail(reader);
    await appendFile(reader.path, opened + log('x'.repeat(200)) + closed);
    await reader.close();
    await done;
    expect(summarize(events)).toEqual(['opened', 'error@2', 'closed']);
    expect((events[1] as { error: Error }).error.message).toMatch(
      /^Line 2 is longer than maxLineLength \(100 bytes\)/,
    );
  });

  it('reads a large message written in many pieces', async () => {
    const reader = await FileMessageReader.open();
    const { events, done } = tail(reader);
    const big = log('ü'.repeat(300_000));
    for (let i = 0; i < big.length; i += 70_001) await appendFile(reader.path, big.slice(i, i + 70_001));
    await reader.close();
    await done;
    expect(events).toHaveLength(1);
    expect((events[0] as { message: { params: { message: string } } }).message.params.message).toHaveLength(
      300_000,
    );
  });

  it('reads what a real child process writes', async () => {
    const reader = await FileMessageReader.open();
    const { events, done } = tail(reader);
    const child = spawnFakeWorker(
      [
        { method: 'opened', params: { extras: {} } },
        { raw: `${messageLine('log', { message: 'slow', level: 'INFO' }).slice(0, 10)}` },
        { sleep: 150 },
        { raw: `${messageLine('log', { message: 'slow', level: 'INFO' }).slice(10)}\n` },
        { method: 'bogus', params: {} },
        { method: 'closed', params: {} },
      ],
      encodeBootstrapEnv({
        DAGSTER_PIPES_CONTEXT: { data: { run_id: 'r' } },
        DAGSTER_PIPES_MESSAGES: reader.params,
      }),
    );
    expect(await exited(child)).toBe(0);
    await reader.close();
    await done;
    expect(summarize(events)).toEqual(['opened', 'log', 'error@3', 'closed']);
    expect((events[2] as { error: Error }).error.message).toMatch(/^Unknown message method "bogus"/);
  });

  it('ends the iteration with the abort reason and still cleans up on close', async () => {
    const controller = new AbortController();
    const reader = await FileMessageReader.open({ signal: controller.signal });
    const iteration = collect(reader.events());
    await appendFile(reader.path, opened);
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('stop'));
    await expect(iteration).rejects.toThrow('stop');
    await reader.close();
    expect(existsSync(dirname(reader.path))).toBe(false);
  });

  it('gives an empty iteration when closed before iterating', async () => {
    const reader = await FileMessageReader.open();
    await reader.close();
    expect(await collect(reader.events())).toEqual([]);
  });

  it.each([0, -5, Number.NaN])('rejects pollIntervalMs %s', async (pollIntervalMs) => {
    await expect(FileMessageReader.open({ pollIntervalMs })).rejects.toThrow(RangeError);
  });
});
