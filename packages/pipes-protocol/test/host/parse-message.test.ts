import {
  isPipesError,
  PIPES_METHODS,
  type PipesMessage,
  type PipesMethod,
  parsePipesMessage,
} from '@slurm-pipes/pipes-protocol';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { anyMessage, type GeneratedMessage, messageOf } from './helpers/arbitraries.js';
import { messageLine } from './helpers/run-fake-worker.js';

function errorOf(line: string): { code: string; message: string; cause: unknown } {
  try {
    parsePipesMessage(line);
  } catch (error) {
    if (!isPipesError(error)) throw error;
    return { code: error.code, message: error.message, cause: error.cause };
  }
  throw new Error(`expected ${line} to be rejected`);
}

describe('parsePipesMessage', () => {
  it.each([
    ['opened', { extras: {} }],
    ['opened', null],
    ['closed', {}],
    ['closed', null],
    [
      'closed',
      {
        exception: {
          message: 'ValueError: boom\n',
          stack: ['  File "x"'],
          name: 'ValueError',
          cause: null,
          context: null,
        },
      },
    ],
    ['log', { message: 'hi', level: 'WARNING' }],
    ['log', { message: 'hi', level: 'fatal' }],
    ['log', { message: 'hi' }],
    [
      'report_asset_materialization',
      { asset_key: 'a/b\\/c', data_version: 'v1', metadata: { n: { raw_value: 1, type: 'int' } } },
    ],
    ['report_asset_materialization', { asset_key: 'a', data_version: null, metadata: null }],
    [
      'report_asset_check',
      { asset_key: 'a', check_name: 'c', passed: false, metadata: null, severity: 'WARN' },
    ],
    ['report_custom_message', { payload: [1, 'two', { three: null }] }],
    ['report_custom_message', { payload: null }],
    ['log_external_stream', { stream: 'stderr', text: 'x\n', extras: {} }],
    ['log_external_stream', { stream: 'stdout', text: 'x' }],
  ] as const)('accepts %s %j', (method, params) => {
    const message = parsePipesMessage(messageLine(method, params));
    expect(message).toEqual({ __dagster_pipes_version: '0.1', method, params });
  });

  it('accepts a message without the version field (the file reader never checks it)', () => {
    expect(parsePipesMessage('{"method":"opened","params":{"extras":{}}}')).toEqual({
      __dagster_pipes_version: '0.1',
      method: 'opened',
      params: { extras: {} },
    });
  });

  it('accepts surrounding whitespace and a trailing carriage return', () => {
    expect(parsePipesMessage(` ${messageLine('closed', {})}\r`).method).toBe('closed');
  });

  it('keeps record keys named __proto__ (zod output would drop them)', () => {
    const line = messageLine('opened', JSON.parse('{"extras": {"__proto__": {"x": 1}}}'));
    const message = parsePipesMessage(line);
    expect(Object.keys((message.params as { extras: object }).extras)).toEqual(['__proto__']);
  });

  it('narrows params by method', () => {
    const message = parsePipesMessage(messageLine('log', { message: 'hi', level: 'INFO' }));
    expectTypeOf(message).toEqualTypeOf<PipesMessage>();
    if (message.method === 'log') expectTypeOf(message.params.message).toEqualTypeOf<string>();
  });

  it('rejects a line that is not JSON, with the SyntaxError as cause', () => {
    const error = errorOf('{"method": "log", ');
    expect(error.code).toBe('ERR_PIPES_INVALID_MESSAGE');
    expect(error.cause).toBeInstanceOf(SyntaxError);
    // The SyntaxError text comes from V8 and varies between Node versions.
    expect(error.message).toMatch(
      /^Message line is not JSON \(.+\): "\{\\"method\\": \\"log\\", "\. Each message must be one JSON object alone on its line\.$/,
    );
  });

  it.each([
    ['an array', '[1, 2]'],
    ['a number', '42'],
    ['no method', '{"params": {}}'],
    ['no params', '{"method": "opened"}'],
    ['params a string', '{"method": "opened", "params": "x"}'],
  ])('rejects %s as not an envelope', (_, line) => {
    const error = errorOf(line);
    expect(error.message).toMatch(/^Message is not a Pipes envelope/);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).name).toBe('ZodError');
  });

  it('rejects an unknown method, naming it', () => {
    expect(errorOf(messageLine('launched', { extras: {} })).message).toMatchInlineSnapshot(
      `"Unknown message method "launched"; expected one of opened, closed, log, report_asset_materialization, report_asset_check, report_custom_message, log_external_stream."`,
    );
  });

  it('names the method and every problem of the params', () => {
    const error = errorOf(messageLine('log', { message: 7, level: 'loud', extra: true }));
    expect((error.cause as Error).name).toBe('ZodError');
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid params for method "log":
      ✖ Unrecognized key: "extra"
        → at params
      ✖ Invalid input: expected string, received number
        → at params.message
      ✖ level must be one of critical, error, warning, info, debug, fatal, warn (any case)
        → at params.level"
    `);
  });

  it.each([
    ['report_asset_materialization', { asset_key: 'a', metadata: null }, 'params.data_version'],
    [
      'report_asset_check',
      { asset_key: 'a', check_name: 'c', passed: true, metadata: null, severity: 'INFO' },
      'params.severity',
    ],
    [
      'report_asset_check',
      { asset_key: 'a', check_name: 'c', passed: 'yes', metadata: null, severity: 'WARN' },
      'params.passed',
    ],
    ['report_custom_message', {}, 'params.payload'],
    ['log_external_stream', { stream: 'stdin', text: '' }, 'params.stream'],
    ['closed', { exception: { message: 'x' } }, 'params.exception.stack'],
    ['opened', {}, 'params.extras'],
    [
      'report_asset_materialization',
      { asset_key: 'a', data_version: null, metadata: { m: { raw_value: 1, type: 'job' } } },
      'params.metadata.m.type',
    ],
    [
      'report_asset_materialization',
      { asset_key: 'a', data_version: null, metadata: { m: { raw_value: 1.5, type: 'int' } } },
      'params.metadata.m.raw_value',
    ],
    [
      'report_asset_materialization',
      { asset_key: 'a', data_version: null, metadata: { m: 3 } },
      'params.metadata.m',
    ],
  ] as const)('rejects %s %j at %s', (method, params, path) => {
    const error = errorOf(messageLine(method, params));
    expect(error.message).toContain(`Invalid params for method "${method}"`);
    expect(error.message).toContain(`→ at ${path}`);
  });
});

// Mutations that each make a valid message invalid; `undefined` when one does not apply.
type Mutation = (m: GeneratedMessage) => unknown;
const params = (m: GeneratedMessage) => (m.params ?? {}) as Record<string, unknown>;
const REQUIRED: Record<PipesMethod, string[]> = {
  opened: ['extras'],
  closed: [],
  log: ['message'],
  report_asset_materialization: ['asset_key', 'data_version', 'metadata'],
  report_asset_check: ['asset_key', 'check_name', 'passed', 'metadata', 'severity'],
  report_custom_message: ['payload'],
  log_external_stream: ['stream', 'text'],
};
const WRONG_TYPE: Partial<Record<PipesMethod, Record<string, unknown>>> = {
  opened: { extras: [] },
  closed: { exception: { message: 'no stack' } },
  log: { message: 42, level: 'LOUD' },
  report_asset_materialization: {
    asset_key: 1,
    data_version: 2,
    metadata: { m: { raw_value: 'x', type: 'job' } },
  },
  report_asset_check: { check_name: null, passed: 'yes', severity: 'INFO', metadata: [] },
  log_external_stream: { stream: 'stdin', text: 1, extras: 'x' },
};
const mutations: Record<string, (key: number) => Mutation> = {
  unknownMethod: () => (m) => ({ ...m, method: `${m.method}_v2` }),
  unknownParamKey: () => (m) => ({ ...m, params: { ...params(m), __unexpected__: 1 } }),
  paramsNotObject: (k) => (m) => ({ ...m, params: [[], 'x', 1, true][k % 4] }),
  dropRequired: (k) => (m) => {
    const required = REQUIRED[m.method];
    if (m.params === null || required.length === 0) return undefined;
    const { [required[k % required.length] as string]: _, ...rest } = params(m);
    return { ...m, params: rest };
  },
  wrongType: (k) => (m) => {
    const wrong = Object.entries(WRONG_TYPE[m.method] ?? {});
    if (wrong.length === 0) return undefined;
    const [key, value] = wrong[k % wrong.length] as [string, unknown];
    return { ...m, params: { ...params(m), [key]: value } };
  },
  noMethod:
    () =>
    ({ method: _, ...rest }) =>
      rest,
};

describe('parsePipesMessage (properties)', () => {
  it.each(PIPES_METHODS)('accepts every valid generated %s message, unchanged', (method) => {
    fc.assert(
      fc.property(messageOf(method), (message) => {
        const line = JSON.stringify(message);
        expect(parsePipesMessage(line)).toEqual(JSON.parse(line));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects every mutated message with ERR_PIPES_INVALID_MESSAGE', () => {
    fc.assert(
      fc.property(anyMessage, fc.constantFrom(...Object.keys(mutations)), fc.nat(), (message, name, k) => {
        const mutated = (mutations[name] as (key: number) => Mutation)(k)(message);
        fc.pre(mutated !== undefined);
        expect(() => parsePipesMessage(JSON.stringify(mutated))).toThrow(
          expect.objectContaining({ code: 'ERR_PIPES_INVALID_MESSAGE' }),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
