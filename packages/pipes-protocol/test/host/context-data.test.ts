import { buildPipesContextData, isPipesError, resolveContextData } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';

describe('buildPipesContextData', () => {
  it('builds an op-step context with all ten keys in Dagster order', () => {
    const data = buildPipesContextData({ runId: 'run-1' });
    expect(data).toEqual({
      asset_keys: null,
      code_version_by_asset_key: null,
      provenance_by_asset_key: null,
      partition_key: null,
      partition_key_range: null,
      partition_time_window: null,
      run_id: 'run-1',
      job_name: null,
      retry_number: 0,
      extras: {},
    });
    expect(Object.keys(data)).toEqual([
      'asset_keys',
      'code_version_by_asset_key',
      'provenance_by_asset_key',
      'partition_key',
      'partition_key_range',
      'partition_time_window',
      'run_id',
      'job_name',
      'retry_number',
      'extras',
    ]);
  });

  it('defaults run_id to a random UUID', () => {
    const a = buildPipesContextData().run_id;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(buildPipesContextData().run_id).not.toBe(a);
  });

  it('escapes path-part keys, keeps escaped strings, dedupes and sorts by code point', () => {
    const data = buildPipesContextData({
      assetKeys: [['warehouse', 'daily/sales'], 'b/c', ['a'], 'b/c', ['😀'], ['\uffff']],
      codeVersionByAssetKey: { a: 'v1' },
      provenanceByAssetKey: {
        'b/c': { code_version: 'v0', input_data_versions: { a: 'd1' }, is_user_provided: true },
      },
    });
    expect(data.asset_keys).toEqual(['a', 'b/c', 'warehouse/daily\\/sales', '\uffff', '😀']);
    expect(data.code_version_by_asset_key).toEqual({
      a: 'v1',
      'b/c': null,
      'warehouse/daily\\/sales': null,
      '\uffff': null,
      '😀': null,
    });
    expect(data.provenance_by_asset_key?.['b/c']).toEqual({
      code_version: 'v0',
      input_data_versions: { a: 'd1' },
      is_user_provided: true,
    });
    expect(data.provenance_by_asset_key?.a).toBeNull();
  });

  it('derives the range from a single partition key and writes Dates as Python isoformat', () => {
    const data = buildPipesContextData({
      partitionKey: '2024-01-01',
      partitionTimeWindow: {
        start: new Date('2024-01-01T00:00:00Z'),
        end: new Date('2024-01-02T00:00:00.250Z'),
      },
      jobName: 'job',
      retryNumber: 2,
      extras: { greeting: 'hello' },
    });
    expect(data).toMatchObject({
      partition_key: '2024-01-01',
      partition_key_range: { start: '2024-01-01', end: '2024-01-01' },
      partition_time_window: { start: '2024-01-01T00:00:00+00:00', end: '2024-01-02T00:00:00.250000+00:00' },
      job_name: 'job',
      retry_number: 2,
      extras: { greeting: 'hello' },
    });
  });

  it('accepts a range without a single key (multi-partition run)', () => {
    const data = buildPipesContextData({ partitionKeyRange: { start: 'a', end: 'c' } });
    expect(data.partition_key).toBeNull();
    expect(data.partition_key_range).toEqual({ start: 'a', end: 'c' });
  });

  it.each([
    [{ retryNumber: -1 }, RangeError],
    [{ retryNumber: 1.5 }, RangeError],
    [{ assetKeys: [[]] }, TypeError],
    [{ assetKeys: [''] }, TypeError],
    [{ partitionTimeWindow: { start: 'a', end: 'b' } }, TypeError],
    [{ partitionKey: 'p', partitionTimeWindow: { start: new Date(Number.NaN), end: 'b' } }, TypeError],
  ])('rejects %j', (options, errorClass) => {
    expect(() => buildPipesContextData(options)).toThrow(errorClass);
  });
});

describe('resolveContextData', () => {
  it('fills Dagster defaults for omitted keys', () => {
    expect(resolveContextData({ run_id: 'r', retry_number: 0 })).toMatchObject({
      asset_keys: null,
      extras: {},
    });
  });

  it('throws ERR_PIPES_INVALID_CONTEXT with the problem', () => {
    try {
      resolveContextData({ run_id: 1 as unknown as string, retry_number: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isPipesError(error, 'ERR_PIPES_INVALID_CONTEXT')).toBe(true);
      expect((error as Error).message).toMatchInlineSnapshot(`
        "Invalid Pipes context data:
        ✖ Invalid input: expected string, received number
          → at run_id"
      `);
    }
  });
});
