import {
  createPipesContext,
  isPipesError,
  PipesMetadataValues as M,
  openMessageWriterChannel,
  PipesContextData,
  type PipesContextDataInput,
} from '@slurm-pipes/pipes-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { contextData, type FakeHost, fakeHost } from './helpers/fake-host.js';

let host: FakeHost | undefined;
afterEach(() => host?.cleanup());

function open(overrides: Partial<PipesContextDataInput> = {}) {
  host = fakeHost();
  const channel = openMessageWriterChannel({ path: host.messagesPath });
  const context = createPipesContext({ data: PipesContextData.parse(contextData(overrides)), channel });
  const h = host;
  return { context, params: () => h.messages().map((m) => [m.method, m.params]) };
}

function pipesError(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (error) {
    expect(isPipesError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('accessors mirror dagster_pipes.PipesContext', () => {
  it('single asset, unpartitioned', () => {
    const { context } = open({ extras: { greeting: 'hi', zero: 0 } });
    expect(context.isAssetStep).toBe(true);
    expect(context.assetKey).toBe('my_asset');
    expect(context.assetKeys).toEqual(['my_asset']);
    expect(context.codeVersion).toBe('v1');
    expect(context.codeVersionByAssetKey).toEqual({ my_asset: 'v1' });
    expect(context.provenance).toBeNull();
    expect(context.provenanceByAssetKey).toEqual({ my_asset: null });
    expect(context.isPartitionStep).toBe(false);
    expect(context.runId).toBe('run-1');
    expect(context.jobName).toBe('__ASSET_JOB');
    expect(context.retryNumber).toBe(0);
    expect(context.extras).toEqual({ greeting: 'hi', zero: 0 });
    expect(context.getExtra('zero')).toBe(0);
  });

  const partitioned = {
    partition_key: '2024-01-01',
    partition_key_range: { start: '2024-01-01', end: '2024-01-01' },
    partition_time_window: { start: '2024-01-01T00:00:00+00:00', end: '2024-01-02T00:00:00+00:00' },
  };

  it('partitioned step', () => {
    const { context } = open(partitioned);
    expect(context.isPartitionStep).toBe(true);
    expect(context.partitionKey).toBe('2024-01-01');
    expect(context.partitionKeyRange).toEqual({ start: '2024-01-01', end: '2024-01-01' });
    expect(context.partitionTimeWindow).toEqual(partitioned.partition_time_window);
  });

  it('a partition range without time window returns null for the window', () => {
    const { context } = open({ partition_key_range: { start: 'a', end: 'c' } });
    expect(context.partitionTimeWindow).toBeNull();
    expect(pipesError(() => context.partitionKey, 'ERR_PIPES_UNDEFINED')).toBe(
      'Missing required property: `partition_key` is undefined. Current step does not target any partitions.',
    );
  });

  it.each([
    [
      'assetKey',
      {},
      'Missing required property: `asset_key` is undefined. Current step does not target an asset.',
    ],
    [
      'assetKeys',
      {},
      'Missing required property: `asset_keys` is undefined. Current step does not target an asset.',
    ],
    [
      'provenance',
      {},
      'Missing required property: `provenance` is undefined. Current step does not target an asset.',
    ],
    [
      'provenanceByAssetKey',
      {},
      'Missing required property: `provenance_by_asset_key` is undefined. Current step does not target an asset.',
    ],
    [
      'codeVersion',
      {},
      'Missing required property: `code_version` is undefined. Current step does not target an asset.',
    ],
    [
      'codeVersionByAssetKey',
      {},
      'Missing required property: `code_version_by_asset_key` is undefined. Current step does not target an asset.',
    ],
    ['assetKey', { multi: true }, '`asset_key` is undefined. Current step targets multiple assets.'],
    ['provenance', { multi: true }, '`provenance` is undefined. Current step targets multiple assets.'],
    ['codeVersion', { multi: true }, '`code_version` is undefined. Current step targets multiple assets.'],
    [
      'partitionKey',
      {},
      'Missing required property: `partition_key` is undefined. Current step does not target any partitions.',
    ],
    [
      'partitionKeyRange',
      {},
      'Missing required property: `partition_key_range` is undefined. Current step does not target any partitions.',
    ],
    [
      'partitionTimeWindow',
      {},
      'Missing required property: `partition_time_window` is undefined. Current step does not target any partitions.',
    ],
  ] as const)('%s throws %j', (getter, how, expected) => {
    const { context } = open(
      'multi' in how
        ? {
            asset_keys: ['a', 'b'],
            code_version_by_asset_key: { a: null, b: null },
            provenance_by_asset_key: { a: null, b: null },
          }
        : getter.startsWith('partition')
          ? {}
          : { asset_keys: null, code_version_by_asset_key: null, provenance_by_asset_key: null },
    );
    expect(pipesError(() => context[getter], 'ERR_PIPES_UNDEFINED')).toBe(expected);
  });

  it('getExtra names the missing extra', () => {
    const { context } = open();
    expect(pipesError(() => context.getExtra('nope'), 'ERR_PIPES_UNDEFINED')).toBe(
      'Extra `nope` is undefined. Extras must be provided by user.',
    );
    expect(pipesError(() => context.getExtra('toString'), 'ERR_PIPES_UNDEFINED')).toMatch(/Extra `toString`/);
  });
});

describe('messages', () => {
  it('writes opened first, then the calls, then closed', async () => {
    const { context, params } = open();
    context.log.debug('d');
    context.log.info('i');
    context.log.warning('w');
    context.log.warn('w2');
    context.log.error('e');
    context.log.critical('c');
    context.log('FATAL', 'f');
    context.log('Warning' as 'warning', 'w3'); // any case at runtime
    context.reportCustomMessage({ any: ['json', 1] });
    context.reportCustomMessage(undefined);
    context.logExternalStream('stderr', 'text\n');
    await context.close();
    expect(params()).toEqual([
      ['opened', { extras: {} }],
      ['log', { message: 'd', level: 'DEBUG' }],
      ['log', { message: 'i', level: 'INFO' }],
      ['log', { message: 'w', level: 'WARNING' }],
      ['log', { message: 'w2', level: 'WARNING' }],
      ['log', { message: 'e', level: 'ERROR' }],
      ['log', { message: 'c', level: 'CRITICAL' }],
      ['log', { message: 'f', level: 'CRITICAL' }],
      ['log', { message: 'w3', level: 'WARNING' }],
      ['report_custom_message', { payload: { any: ['json', 1] } }],
      ['report_custom_message', { payload: null }],
      ['log_external_stream', { stream: 'stderr', text: 'text\n', extras: {} }],
      ['closed', {}],
    ]);
  });

  it('reportAssetMaterialization: Python key order, null metadata and data version by default', () => {
    const { context, params } = open();
    context.reportAssetMaterialization();
    expect(host?.rawMessages().split('\n')[1]).toBe(
      '{"__dagster_pipes_version":"0.1","method":"report_asset_materialization","params":{"asset_key":"my_asset","data_version":null,"metadata":null}}',
    );
    expect(params()).toHaveLength(2);
  });

  it('reportAssetMaterialization: metadata and data version; once per key', () => {
    const { context, params } = open({ asset_keys: ['a', 'b'] });
    context.reportAssetMaterialization({
      assetKey: 'a',
      dataVersion: 'v9',
      metadata: { f: M.float(2), n: 1 },
    });
    expect(host?.rawMessages()).toContain(
      '"metadata":{"f":{"raw_value":2.0,"type":"float"},"n":{"raw_value":1,"type":"__infer__"}}',
    );
    expect(
      pipesError(() => context.reportAssetMaterialization({ assetKey: 'a' }), 'ERR_PIPES_ASSET_KEY'),
    ).toBe(
      'Calling `report_asset_materialization` with asset key `a` is undefined. Asset has already been materialized, so no additional data can be reported for it.',
    );
    expect(pipesError(() => context.reportAssetMaterialization(), 'ERR_PIPES_ASSET_KEY')).toMatch(
      /targets multiple assets/,
    );
    context.reportAssetMaterialization({ assetKey: 'b' });
    expect(params().map(([m]) => m)).toEqual([
      'opened',
      'report_asset_materialization',
      'report_asset_materialization',
    ]);
  });

  it('a refused report writes nothing and does not count as materialized', () => {
    const { context, params } = open();
    pipesError(
      () => context.reportAssetMaterialization({ metadata: { x: Number.NaN } }),
      'ERR_PIPES_INVALID_METADATA',
    );
    expect(
      pipesError(
        () => context.reportAssetMaterialization({ dataVersion: 3 as unknown as string }),
        'ERR_PIPES_INVALID_MESSAGE',
      ),
    ).toBe(
      'Invalid type for parameter `data_version` of `report_asset_materialization`. Expected a string or null, got `number`.',
    );
    context.reportAssetMaterialization();
    expect(params()).toHaveLength(2);
  });

  it('reportAssetCheck: default severity ERROR, key order as Python', () => {
    const { context } = open();
    context.reportAssetCheck({ checkName: 'c', passed: false });
    context.reportAssetCheck({ checkName: 'd', passed: true, severity: 'WARN', metadata: { s: 1 } });
    const lines = host?.rawMessages().split('\n') ?? [];
    expect(lines[1]).toBe(
      '{"__dagster_pipes_version":"0.1","method":"report_asset_check","params":{"asset_key":"my_asset","check_name":"c","passed":false,"metadata":null,"severity":"ERROR"}}',
    );
    expect(lines[2]).toContain(
      '"passed":true,"metadata":{"s":{"raw_value":1,"type":"__infer__"}},"severity":"WARN"',
    );
  });

  it.each([
    [
      { checkName: 'c', passed: true, severity: 'INFO' },
      'Invalid value for parameter `severity` of `report_asset_check`. Expected one of `WARN`, `ERROR`, got `INFO`.',
    ],
    [
      { checkName: 'c', passed: 'yes' },
      'Invalid type for parameter `passed` of `report_asset_check`. Expected a boolean, got `string`.',
    ],
    [
      { checkName: 1, passed: true },
      'Invalid type for parameter `check_name` of `report_asset_check`. Expected a string, got `number`.',
    ],
  ])('reportAssetCheck refuses %j', (options, expected) => {
    const { context } = open();
    expect(pipesError(() => context.reportAssetCheck(options as never), 'ERR_PIPES_INVALID_MESSAGE')).toBe(
      expected,
    );
  });

  it('refuses bad log levels, streams and payloads', () => {
    const { context } = open();
    expect(pipesError(() => context.log('verbose' as never, 'x'), 'ERR_PIPES_INVALID_MESSAGE')).toBe(
      'Invalid log level "verbose". Use one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case; "warn" and "fatal" are aliases).',
    );
    expect(
      pipesError(() => context.logExternalStream('stdlog' as never, 'x'), 'ERR_PIPES_INVALID_MESSAGE'),
    ).toBe('Invalid stream "stdlog": use "stdout" or "stderr".');
    expect(
      pipesError(
        () => context.reportCustomMessage({ n: Number.POSITIVE_INFINITY }),
        'ERR_PIPES_INVALID_MESSAGE',
      ),
    ).toMatch(/^The custom message payload is not JSON: Value at \.params\.payload\.n is Infinity/);
  });

  it('close is idempotent, carries an exception, and later writes throw', async () => {
    const { context, params } = open();
    const closing = context.close(new Error('bad'));
    expect(context.close()).toBe(closing);
    await closing;
    expect(context.isClosed).toBe(true);
    expect(pipesError(() => context.log.info('late'), 'ERR_PIPES_CLOSED')).toBe(
      'Cannot send message after pipes context is closed.',
    );
    const closed = params().at(-1);
    expect(closed?.[0]).toBe('closed');
    expect(closed?.[1]).toMatchObject({
      exception: { message: 'Error: bad\n', name: 'Error', cause: null, context: null },
    });
  });

  it('supports await using', async () => {
    let read: () => unknown[] = () => [];
    {
      await using context = open().context;
      read = () => host?.messages() ?? [];
      context.log.info('inside');
    }
    expect(read().map((m) => (m as { method: string }).method)).toEqual(['opened', 'log', 'closed']);
  });
});

describe('no-op context (not launched by Dagster)', () => {
  it('drops every report and closes silently', async () => {
    const context = createPipesContext({
      data: PipesContextData.parse({ run_id: '', retry_number: 0 }),
      channel: null,
    });
    expect(context.isNoop).toBe(true);
    context.reportAssetMaterialization({ metadata: { x: Number.NaN } });
    context.reportAssetCheck({ checkName: 'c', passed: false });
    context.reportCustomMessage(1);
    context.log.info('x');
    await context.close();
    expect(context.isClosed).toBe(true);
  });
});
