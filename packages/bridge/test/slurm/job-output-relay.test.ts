import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { PipesMessageChannel } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { JobOutputRelay } from '../../src/slurm/job-output-relay.js';

function fakeChannel() {
  const lines: string[] = [];
  const channel: PipesMessageChannel = {
    kind: 'file',
    closed: false,
    write: (message) => lines.push(JSON.stringify(message)),
    writeLine: (json) => lines.push(json),
    flush() {},
    close: async () => {},
  };
  return { channel, lines };
}

function setup() {
  const { channel, lines } = fakeChannel();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const logs: string[] = [];
  let closedCalls = 0;
  const relay = new JobOutputRelay({
    channel,
    stdout,
    stderr,
    log: (line) => logs.push(line),
    onClosed: () => {
      closedCalls += 1;
    },
  });
  return { relay, lines, logs, stdout, stderr, closedCalls: () => closedCalls };
}

const msg = (method: string, params: object) =>
  JSON.stringify({ __dagster_pipes_version: '0.1', method, params });
const opened = msg('opened', { extras: {} });
const log1 = msg('log', { message: 'héllo', level: 'INFO' });
const mat =
  '{"__dagster_pipes_version": "0.1", "method": "report_asset_materialization", "params": {"asset_key": "a", "metadata": {"x": {"raw_value": 1.0, "type": "float"}}, "data_version": null}}';
const check = msg('report_asset_check', {
  asset_key: 'a',
  check_name: 'c',
  passed: true,
  metadata: null,
  severity: 'WARN',
});
const custom = msg('report_custom_message', { payload: [1, 2] });
const closedWithError = msg('closed', {
  exception: { message: 'ValueError: boom\n', stack: [], name: 'ValueError', cause: null, context: null },
});

describe('JobOutputRelay', () => {
  it('relays each message once and in order, folds opened and captures closed', () => {
    const { relay, lines, closedCalls } = setup();
    const text = Buffer.from([opened, log1, custom, closedWithError, ''].join('\n'));
    // Chunks split anywhere, including inside the two-byte "é".
    const cut = text.indexOf('é') + 1;
    relay.messages(text.subarray(0, 5));
    relay.messages(text.subarray(5, cut));
    relay.messages(text.subarray(cut));
    relay.finish([]);
    expect(lines).toEqual([log1, custom]);
    expect(relay.payloadException?.name).toBe('ValueError');
    expect(relay.closedSeen).toBe(true);
    expect(closedCalls()).toBe(1);
  });

  it('holds materializations (and checks after them) until finish, then adds the metadata', () => {
    const { relay, lines } = setup();
    relay.messages(Buffer.from(`${check}\n${mat}\n${log1}\n${check}\n`));
    expect(lines).toEqual([check, log1]);
    relay.finish([['slurm_job_id', '{"raw_value":"5","type":"text"}']]);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('"x": {"raw_value": 1.0, "type": "float"}');
    expect(JSON.parse(lines[2] as string).params.metadata.slurm_job_id.raw_value).toBe('5');
    expect(lines[3]).toBe(check);
  });

  it('reports invalid lines as ERROR logs naming the line and goes on', () => {
    const { relay, lines, logs } = setup();
    relay.messages(Buffer.from(`not json\n${log1}\n{"method":"nope","params":{}}\n\n${custom}\n`));
    relay.finish([]);
    expect(lines).toHaveLength(5);
    const errors = lines.filter((line) => line.includes('"level":"ERROR"'));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain('payload message line 1 was not relayed');
    expect(errors[1]).toContain('payload message line 3 was not relayed');
    expect(errors[2]).toContain('payload message line 4 was not relayed');
    expect(lines).toContain(log1);
    expect(lines).toContain(custom);
    expect(relay.invalidCount).toBe(3);
    expect(logs.filter((line) => line.startsWith('ERROR'))).toHaveLength(3);
  });

  it('takes an unterminated last line as a message at the end', () => {
    const { relay, lines } = setup();
    relay.messages(Buffer.from(log1));
    expect(lines).toEqual([]);
    relay.finish([]);
    expect(lines).toEqual([log1]);
  });

  it('forwards stdout and stderr bytes and keeps the last stderr lines', () => {
    const { relay, stdout, stderr } = setup();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (d: Buffer) => out.push(d));
    stderr.on('data', (d: Buffer) => err.push(d));
    relay.stdout(Buffer.from('out\n'));
    for (let i = 1; i <= 40; i++) relay.stderr(Buffer.from(`err ${i}\r\n`));
    expect(Buffer.concat(out).toString()).toBe('out\n');
    expect(Buffer.concat(err).toString()).toContain('err 40\r\n');
    const tail = relay.stderrTail(30);
    expect(tail).toHaveLength(30);
    expect(tail[0]).toBe('err 11');
    expect(tail.at(-1)).toBe('err 40');
  });

  it('keeps only the end of a huge stderr', () => {
    const { relay } = setup();
    relay.stderr(Buffer.from(`${'x'.repeat(200_000)}\nlast line\n`));
    expect(relay.stderrTail()).toEqual(['last line']);
  });

  it('streams logs while holding results, within a memory budget past which they spill to a file', () => {
    const { channel, lines } = fakeChannel();
    const tmpDir = mkdtempSync(join(tmpdir(), 'relay-held-'));
    try {
      const relay = new JobOutputRelay({
        channel,
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        log: () => {},
        held: { memoryBytes: 0, tmpDir },
      });
      const text = [mat, ...Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? check : log1)), ''].join(
        '\n',
      );
      relay.messages(Buffer.from(text));
      expect(lines).toHaveLength(2000);
      expect(relay.heldCount).toBe(1001);
      expect(readdirSync(tmpDir)).toHaveLength(1);
      relay.finish([['slurm_job_id', '{"raw_value":"5","type":"text"}']]);
      expect(lines).toHaveLength(3001);
      expect(JSON.parse(lines[2000] as string).params.metadata.slurm_job_id.raw_value).toBe('5');
      expect(lines.slice(2001).every((line) => line === check)).toBe(true);
      expect(readdirSync(tmpDir)).toEqual([]);
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it('reports where it stands in messages.jsonl: committed lines and the held partial line', () => {
    const { relay } = setup();
    relay.messages(Buffer.from(`${log1}\n${custom.slice(0, 10)}`));
    const first = Buffer.byteLength(`${log1}\n`);
    expect(relay.messagesPosition).toEqual({ committed: first, received: first + 10 });
    relay.messages(Buffer.from(`${custom.slice(10)}\n`));
    const all = first + Buffer.byteLength(`${custom}\n`);
    expect(relay.messagesPosition).toEqual({ committed: all, received: all });
  });
});
