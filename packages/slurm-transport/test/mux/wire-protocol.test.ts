import { describe, expect, it } from 'vitest';
import { SlurmTransportError } from '../../src/errors.js';
import { decodeDataFrame, encodeDataFrame } from '../../src/mux/wire-data.js';
import { fromWireError, toWireError } from '../../src/mux/wire-errors.js';
import { parseClientFrame, parseDaemonFrame } from '../../src/mux/wire-frames.js';
import { connectionKey, fromWireOptions, toWireOptions } from '../../src/mux/wire-options.js';
import { resolveConnectionOptions } from '../../src/ssh/connection-options.js';
import { silentLogger } from '../../src/ssh/logger.js';

describe('binary data frames', () => {
  it('round-trips stream, id and bytes', () => {
    const chunk = Buffer.from([0, 1, 2, 255]);
    for (const stream of ['stdout', 'stderr', 'stdin'] as const) {
      expect(decodeDataFrame(encodeDataFrame(0xffff_fffe, stream, chunk))).toEqual({
        id: 0xffff_fffe,
        stream,
        chunk,
      });
    }
    expect(decodeDataFrame(encodeDataFrame(3, 'stdout', Buffer.alloc(0)))).toEqual({
      id: 3,
      stream: 'stdout',
      chunk: Buffer.alloc(0),
    });
  });

  it.each([
    [Buffer.from([0, 0, 0]), /shorter than its 5-byte header/],
    [Buffer.from([7, 0, 0, 0, 1]), /stream #7/],
    [Buffer.from([0, 0, 0, 0, 0]), /request id 0/],
  ])('rejects %o', (data, message) => {
    const decoded = decodeDataFrame(data);
    expect('error' in decoded && decoded.error).toMatch(message);
  });
});

describe('control frames', () => {
  it.each([
    ['{"type":"status","id":1}', { frame: { type: 'status', id: 1 } }],
    [
      '{"type":"exec","id":2,"conn":"u@h:22","argv":["ls","-l"],"stdin":{"base64":"aGk="}}',
      { frame: expect.objectContaining({ argv: ['ls', '-l'] }) },
    ],
    [
      '{"type":"ack","id":3,"stream":"stdout","bytes":10}',
      { frame: { type: 'ack', id: 3, stream: 'stdout', bytes: 10 } },
    ],
    ['{"type":"kbd-answer","id":4,"answers":null}', { frame: { type: 'kbd-answer', id: 4, answers: null } }],
  ])('accepts %s', (text, expected) => {
    expect(parseClientFrame(text)).toEqual(expected);
  });

  it.each([
    ['{', null, /not JSON/],
    ['[]', null, /expected object/],
    ['{"type":"exec","id":5,"conn":"c","argv":[]}', 5, /argv/],
    ['{"type":"exec","id":6,"conn":"c","argv":["x"],"extra":1}', 6, /extra/],
    ['{"type":"ack","id":7,"stream":"stdin","bytes":1}', 7, /stream/],
    ['{"type":"stat","id":0,"conn":"c","path":"/"}', null, /id/],
    ['{"type":"exec","id":8,"conn":"c","argv":["x"],"stdin":{"base64":"***"}}', 8, /base64/],
  ])('rejects %s naming the problem (id %s)', (text, id, message) => {
    const parsed = parseClientFrame(text);
    expect(parsed).toMatchObject({ id });
    expect('error' in parsed && parsed.error).toMatch(message);
  });

  it('checks daemon frames too', () => {
    expect(parseDaemonFrame('{"type":"exit","id":1,"exitCode":null,"signal":"TERM"}')).toEqual({
      frame: { type: 'exit', id: 1, exitCode: null, signal: 'TERM' },
    });
    expect(parseDaemonFrame('{"type":"error","id":2,"error":{"name":"Nope","message":"x"}}')).toMatchObject({
      id: 2,
    });
  });
});

describe('errors across the socket', () => {
  it('keeps the code, message and command result of a SlurmTransportError', () => {
    const original = new SlurmTransportError('ERR_SSH_TIMEOUT', 'too slow', {
      command: 'sleep 9',
      exitCode: null,
      signal: 'TERM',
      stdout: 'a',
      stderr: 'b',
      level: 'client-timeout',
      cause: new Error('not sent'),
    });
    const wire = JSON.parse(JSON.stringify(toWireError(original)));
    const parsed = parseDaemonFrame(JSON.stringify({ type: 'error', id: 1, error: wire }));
    if (!('frame' in parsed) || parsed.frame.type !== 'error') throw new Error('expected an error frame');
    const rebuilt = fromWireError(parsed.frame.error);
    expect(rebuilt).toBeInstanceOf(SlurmTransportError);
    expect(rebuilt).toMatchObject({
      code: 'ERR_SSH_TIMEOUT',
      message: 'too slow',
      command: 'sleep 9',
      exitCode: null,
      signal: 'TERM',
      stdout: 'a',
      stderr: 'b',
      level: 'client-timeout',
    });
  });

  it('keeps TypeError and RangeError, and turns anything else into ERR_MUX', () => {
    expect(fromWireError(toWireError(new TypeError('bad argv')))).toBeInstanceOf(TypeError);
    expect(fromWireError(toWireError(new RangeError('bad n')))).toBeInstanceOf(RangeError);
    expect(fromWireError(toWireError(new Error('boom')))).toMatchObject({
      code: 'ERR_MUX',
      message: 'The multiplexing daemon failed: boom',
    });
  });
});

describe('connection options across the socket', () => {
  const resolved = resolveConnectionOptions(
    {
      host: 'login.example',
      username: 'alice',
      privateKey: Buffer.from('KEY'),
      passphrase: 'pp',
      knownHostsPath: 'relative/known_hosts',
      agent: '/run/agent.sock',
      jumpHost: {
        host: 'jump.example',
        port: 2222,
        username: 'bob',
        password: 'pw',
        hostKeyPolicy: 'accept-new',
        agent: false,
      },
    },
    {},
  );

  it('sends what the client resolved: absolute paths, its agent socket, secrets', () => {
    const wire = toWireOptions(resolved, '/home/alice');
    expect(wire).toMatchObject({
      host: 'login.example',
      port: 22,
      privateKeyBase64: Buffer.from('KEY').toString('base64'),
      passphrase: 'pp',
      knownHostsPath: '/home/alice/relative/known_hosts',
      agent: '/run/agent.sock',
      keyboardInteractive: true,
      jumpHost: { host: 'jump.example', port: 2222, password: 'pw', hostKeyPolicy: 'accept-new' },
    });
    expect(wire.jumpHost).not.toHaveProperty('agent');
    const relay = () => undefined;
    const back = fromWireOptions(wire, relay, silentLogger);
    expect(back).toMatchObject({
      privateKey: Buffer.from('KEY'),
      keyboardInteractive: relay,
      jumpHost: { agent: false },
    });
  });

  it('shares by user@host:port, jump chain and host key policy, not by credentials', () => {
    const wire = toWireOptions(resolved, '/');
    expect(connectionKey(wire)).toBe('alice@login.example:22 via bob@jump.example:2222[accept-new]');
    expect(connectionKey({ ...wire, password: 'other', jumpHost: undefined })).toBe('alice@login.example:22');
  });
});
