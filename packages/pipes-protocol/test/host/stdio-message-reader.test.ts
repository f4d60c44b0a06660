import { PassThrough } from 'node:stream';
import { encodeBootstrapEnv, type PipesReaderEvent, StdioMessageReader } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { collect, summarize } from './helpers/collect.js';
import { exited, messageLine, spawnFakeWorker } from './helpers/run-fake-worker.js';

describe('StdioMessageReader', () => {
  it('gives {stdio: stream} params, stdout by default', () => {
    expect(StdioMessageReader.create().params).toEqual({ stdio: 'stdout' });
    expect(StdioMessageReader.create({ stream: 'stderr' }).params).toEqual({ stdio: 'stderr' });
    expect(() => StdioMessageReader.create({ stream: 'stdin' as 'stdout' })).toThrow(TypeError);
  });

  it.each([
    ['a message', messageLine('opened', { extras: {} }), 'opened'],
    ['plain text', 'hello world', 'out:hello world'],
    [
      'JSON without the version field',
      '{"method": "opened", "params": {}}',
      'out:{"method": "opened", "params": {}}',
    ],
    ['a JSON array', '[1, 2]', 'out:[1, 2]'],
    [
      'broken JSON that looks like an object',
      '{"__dagster_pipes_version": ',
      'out:{"__dagster_pipes_version": ',
    ],
    ['an empty line', '', 'out:'],
    ['a Pipes-looking line with bad params', messageLine('log', { message: 1 }), 'error@1'],
    ['a Pipes-looking line with an unknown method', messageLine('launched', {}), 'error@1'],
  ])('classifies %s', async (_, line, expected) => {
    const source = new PassThrough();
    const reader = StdioMessageReader.create({ source });
    source.end(`${line}\n`);
    expect(summarize(await collect(reader.events()))).toEqual([expected]);
  });

  it('splits chunks anywhere and flushes an unterminated last line at the end', async () => {
    const source = new PassThrough();
    const reader = StdioMessageReader.create({ source });
    const iteration = collect(reader.events());
    const text = `before\n${messageLine('opened', { extras: {} })}\nünï€\n${messageLine('closed', {})}`;
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) source.write(bytes.subarray(i, i + 7));
    source.end();
    const events = await iteration;
    expect(summarize(events)).toEqual(['out:before', 'opened', 'out:ünï€', 'closed']);
    expect(events.map((e) => e.line)).toEqual([1, 2, 3, 4]);
  });

  it('accepts string chunks (a stream with an encoding set)', async () => {
    const source = new PassThrough({ encoding: 'utf8' });
    const reader = StdioMessageReader.create({ source });
    source.end('a\nb\n');
    expect(summarize(await collect(reader.events()))).toEqual(['out:a', 'out:b']);
  });

  it('reads a real child stdout attached after launch, mixing messages and output', async () => {
    const reader = StdioMessageReader.create();
    const iteration = collect(reader.events());
    const child = spawnFakeWorker(
      [
        { print: 'starting' },
        { method: 'opened', params: { extras: {} } },
        { raw: messageLine('log', { message: 'split', level: 'DEBUG' }).slice(0, 15) },
        { sleep: 100 },
        { raw: `${messageLine('log', { message: 'split', level: 'DEBUG' }).slice(15)}\n` },
        { print: 'done' },
        { method: 'closed', params: {} },
      ],
      encodeBootstrapEnv({
        DAGSTER_PIPES_CONTEXT: { data: { run_id: 'r' } },
        DAGSTER_PIPES_MESSAGES: reader.params,
      }),
    );
    if (!child.stdout) throw new Error('no stdout');
    reader.attach(child.stdout);
    expect(await exited(child)).toBe(0);
    await reader.close();
    const events = await iteration;
    expect(summarize(events)).toEqual(['out:starting', 'opened', 'log', 'out:done', 'closed']);
    expect((events[2] as Extract<PipesReaderEvent, { kind: 'message' }>).message.params).toEqual({
      message: 'split',
      level: 'DEBUG',
    });
  });

  it('ends at once on close when nothing was attached', async () => {
    const reader = StdioMessageReader.create();
    const iteration = collect(reader.events());
    await reader.close();
    expect(await iteration).toEqual([]);
  });

  it('refuses a second source', () => {
    const reader = StdioMessageReader.create({ source: new PassThrough() });
    expect(() => reader.attach(new PassThrough())).toThrow(TypeError);
  });

  it('stops on abort without destroying the source', async () => {
    const controller = new AbortController();
    const source = new PassThrough();
    const reader = StdioMessageReader.create({ source, signal: controller.signal });
    const iteration = collect(reader.events());
    source.write('a\n');
    controller.abort(new Error('stop'));
    await expect(iteration).rejects.toThrow('stop');
    expect(source.destroyed).toBe(false);
    await reader.close();
  });
});
