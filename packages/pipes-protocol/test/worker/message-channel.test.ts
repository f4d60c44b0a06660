import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import {
  isPipesError,
  makePipesMessage,
  openMessageWriterChannel,
  PipesFloat,
} from '@slurm-pipes/pipes-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeHost, fakeHost } from './helpers/fake-host.js';

let host: FakeHost | undefined;
afterEach(() => host?.cleanup());

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  return () => text;
}

describe('file channel ({path})', () => {
  it('appends exactly one complete line per message, in order, synchronously', () => {
    host = fakeHost();
    const channel = openMessageWriterChannel({ path: host.messagesPath, include_stdio_in_messages: false });
    expect(channel.kind).toBe('file');
    channel.write(makePipesMessage('opened', { extras: {} }));
    expect(host.rawMessages()).toBe(
      '{"__dagster_pipes_version":"0.1","method":"opened","params":{"extras":{}}}\n',
    );
    channel.write(makePipesMessage('log', { message: 'a\nb', level: 'INFO' }));
    expect(host.rawMessages().split('\n')).toHaveLength(3);
    expect(host.messages().map((m) => m.method)).toEqual(['opened', 'log']);
  });

  it('writes PipesFloat whole numbers as 1.0', () => {
    host = fakeHost();
    const channel = openMessageWriterChannel({ path: host.messagesPath });
    channel.write({ x: new PipesFloat(1), y: 1 });
    expect(host.rawMessages()).toBe('{"x":1.0,"y":1}\n');
  });

  it('refuses NaN and writes nothing', () => {
    host = fakeHost();
    const channel = openMessageWriterChannel({ path: host.messagesPath });
    expect(() => channel.write({ x: Number.NaN })).toThrow(/Value at \.x is NaN/);
    expect(host.rawMessages()).toBe('');
  });

  it('writeLine relays a serialised message unchanged, and refuses line breaks', () => {
    host = fakeHost();
    const channel = openMessageWriterChannel({ path: host.messagesPath });
    channel.writeLine('{"a": 1.0}');
    expect(host.rawMessages()).toBe('{"a": 1.0}\n');
    expect(() => channel.writeLine('{"a":\n1}')).toThrow(
      'A Pipes message line must not contain a line break; serialise it with JSON.stringify (which escapes them).',
    );
  });

  it('throws ERR_PIPES_CLOSED after close; close is idempotent', async () => {
    host = fakeHost();
    const channel = openMessageWriterChannel({ path: host.messagesPath });
    const first = channel.close();
    expect(channel.close()).toBe(first);
    await first;
    expect(channel.closed).toBe(true);
    try {
      channel.write({});
      expect.unreachable();
    } catch (error) {
      expect(isPipesError(error, 'ERR_PIPES_CLOSED')).toBe(true);
    }
  });

  it('reports an unwritable file as ERR_PIPES_CHANNEL', () => {
    const channel = openMessageWriterChannel({ path: '/nonexistent-dir/messages' });
    try {
      channel.write({});
      expect.unreachable();
    } catch (error) {
      expect(isPipesError(error, 'ERR_PIPES_CHANNEL')).toBe(true);
      expect((error as Error).message).toMatch(/^Writing to the file message channel failed: ENOENT/);
    }
  });
});

describe('stdio channels', () => {
  it('{stdio} writes each message to the chosen stream at once', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    const channel = openMessageWriterChannel({ stdio: 'stderr' }, { stdout, stderr });
    expect(channel.kind).toBe('stdio');
    channel.write({ n: 1 });
    await new Promise((r) => setImmediate(r));
    expect(err()).toBe('{"n":1}\n');
    await channel.close();
    expect(out()).toBe('');
  });

  it('{buffered_stdio} holds messages until close', async () => {
    const stdout = new PassThrough();
    const out = collect(stdout);
    const channel = openMessageWriterChannel({ buffered_stdio: 'stdout' }, { stdout });
    channel.write({ n: 1 });
    channel.write({ n: 2 });
    await new Promise((r) => setImmediate(r));
    expect(out()).toBe('');
    await channel.close();
    await new Promise((r) => setImmediate(r));
    expect(out()).toBe('{"n":1}\n{"n":2}\n');
  });
});

describe('openMessageWriterChannel params', () => {
  it.each([
    [
      {},
      'Invalid params for PipesDefaultMessageWriter, expected key "path", "stdio" or "buffered_stdio", received {}. The orchestration side\'s message reader expects a message writer this package does not implement.',
    ],
    [{ bucket: 'b', key_prefix: 'k' }, /received \{"bucket":"b","key_prefix":"k"\}/],
    [{ path: 1 }, 'Message params key "path" must be a string, got 1.'],
    [
      { stdio: 'stdlog' },
      'Invalid value for key "stdio" in the message params, expected "stderr" or "stdout" but received "stdlog".',
    ],
    [{ buffered_stdio: null }, /key "buffered_stdio" .* received null/],
  ])('rejects %j', (params, message) => {
    try {
      openMessageWriterChannel(params);
      expect.unreachable();
    } catch (error) {
      expect(isPipesError(error, 'ERR_PIPES_INVALID_PARAMS')).toBe(true);
      if (typeof message === 'string') expect((error as Error).message).toBe(message);
      else expect((error as Error).message).toMatch(message);
    }
  });

  it('checks `path` first and ignores unknown keys', () => {
    host = fakeHost();
    const channel = openMessageWriterChannel({ stdio: 'bogus', path: host.messagesPath, log_writer: {} });
    expect(channel.kind).toBe('file');
  });
});

describe('include_stdio_in_messages', () => {
  it('captures writes to the streams, passes them through, and sends them in order', async () => {
    host = fakeHost();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const channel = openMessageWriterChannel(
      { path: host.messagesPath, include_stdio_in_messages: true },
      { stdout, stderr, captureIntervalMs: 60_000 },
    );
    stdout.write('one ');
    stdout.write(Buffer.from('two\n'));
    stderr.write('err\n');
    channel.write(makePipesMessage('log', { message: 'm', level: 'INFO' }));
    stdout.write('after\n');
    await channel.close();
    stdout.write('not captured\n');
    await new Promise((r) => setImmediate(r));
    expect(out()).toBe('one two\nafter\nnot captured\n');
    expect(host.messages().map((m) => m.params)).toEqual([
      { stream: 'stdout', text: 'one two\n', extras: {} },
      { stream: 'stderr', text: 'err\n', extras: {} },
      { message: 'm', level: 'INFO' },
      { stream: 'stdout', text: 'after\n', extras: {} },
    ]);
  });

  it('flushes periodically', async () => {
    host = fakeHost();
    const stdout = new PassThrough();
    const channel = openMessageWriterChannel(
      { path: host.messagesPath, include_stdio_in_messages: true },
      { stdout, stderr: new PassThrough(), captureIntervalMs: 20 },
    );
    stdout.write('tick\n');
    await new Promise((r) => setTimeout(r, 80));
    expect(readFileSync(host.messagesPath, 'utf8')).toContain('"text":"tick\\n"');
    await channel.close();
  });

  it('decodes multi-byte characters split across chunks', async () => {
    host = fakeHost();
    const stdout = new PassThrough();
    const channel = openMessageWriterChannel(
      { path: host.messagesPath, include_stdio_in_messages: true },
      { stdout, stderr: new PassThrough(), captureIntervalMs: 60_000 },
    );
    const bytes = Buffer.from('é\n');
    stdout.write(bytes.subarray(0, 1));
    stdout.write(bytes.subarray(1));
    await channel.close();
    expect(host.messages()).toEqual([
      {
        __dagster_pipes_version: '0.1',
        method: 'log_external_stream',
        params: { stream: 'stdout', text: 'é\n', extras: {} },
      },
    ]);
  });

  it('is off when the flag is false, and never on for stdio channels', async () => {
    const stdout = new PassThrough();
    const original = stdout.write;
    const channel = openMessageWriterChannel(
      { stdio: 'stderr', include_stdio_in_messages: true },
      { stdout, stderr: new PassThrough() },
    );
    expect(stdout.write).toBe(original);
    await channel.close();
    host = fakeHost();
    const file = openMessageWriterChannel(
      { path: host.messagesPath, include_stdio_in_messages: false },
      { stdout },
    );
    expect(stdout.write).toBe(original);
    await file.close();
  });
});
