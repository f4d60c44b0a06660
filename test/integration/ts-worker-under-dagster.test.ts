// TypeScript workers (test/fixtures/workers/) launched by the REAL Dagster through
// dagster.PipesSubprocessClient; every assertion reads Dagster's own event log.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DagsterMaterializeResult,
  type DagsterRunResult,
  errorChainText,
  eventsOf,
  logsOf,
  materializationOf,
  materializeWithDagster,
} from '../helpers/dagster.js';
import { skipReason } from '../helpers/flags.js';
import { dagsterMissing } from '../helpers/python.js';

const extras = (value: Record<string, unknown>) => ({ extras_json: JSON.stringify(value) });

describe.skipIf(skipReason(dagsterMissing()) !== undefined)('TypeScript worker under real Dagster', () => {
  let result: DagsterMaterializeResult;
  const run = (name: string): DagsterRunResult => {
    const found = result.runs.find((r) => r.name === name);
    if (!found) throw new Error(`no run ${name}`);
    return found;
  };

  beforeAll(async () => {
    result = await materializeWithDagster([
      {
        name: 'main',
        selection: [
          'all_metadata',
          ['multi', 'a/b'],
          ['multi', 'plain'],
          'fails',
          'crashes',
          'stdio_capture',
        ],
      },
      {
        name: 'daily',
        selection: ['daily_partitioned'],
        partitionKey: '2024-03-05',
        runConfig: {
          ops: { daily_partitioned: { config: extras({ greeting: 'hi', n: 1.5, list: [1, 'a'] }) } },
        },
      },
      {
        name: 'static',
        selection: ['static_partitioned'],
        partitionKey: 'blue',
        runConfig: { ops: { static_partitioned: { config: extras({ greeting: 'hey' }) } } },
      },
      {
        name: 'static-again',
        selection: ['static_partitioned'],
        partitionKey: 'blue',
        runConfig: { ops: { static_partitioned: { config: extras({ greeting: 'again' }) } } },
      },
    ]);
  });

  it('runs Dagster 1.13 and fails only the steps whose worker failed', () => {
    expect(result.dagster_version).toMatch(/^1\.13\./);
    const failed = eventsOf(run('main'), 'STEP_FAILURE').map((e) => e.step_key);
    expect(failed.sort()).toEqual(['crashes', 'fails']);
    expect(
      eventsOf(run('main'), 'STEP_SUCCESS')
        .map((e) => e.step_key)
        .sort(),
    ).toEqual(['all_metadata', 'multi_slash', 'stdio_capture']);
    for (const name of ['daily', 'static', 'static-again']) expect(run(name).success).toBe(true);
    // Dagster warns when opened/closed is missing; every worker sent both.
    const warnings = run('main').events.filter((e) => e.message.includes('did not receive'));
    expect(warnings).toEqual([]);
  });

  describe('metadata of every type, as Dagster stored it', () => {
    const cases: [key: string, cls: string, valueClass: string, value: unknown][] = [
      ['infer_text', 'TextMetadataValue', 'str', 'hello'],
      ['infer_int', 'IntMetadataValue', 'int', 42],
      ['infer_float', 'FloatMetadataValue', 'float', 2.5],
      ['infer_whole_float', 'FloatMetadataValue', 'float', 3],
      ['infer_bool', 'BoolMetadataValue', 'bool', true],
      ['infer_list', 'JsonMetadataValue', 'list', [1, 'two']],
      ['infer_null', 'NullMetadataValue', 'NoneType', null],
      ['explicit_infer', 'TextMetadataValue', 'str', 'inferred'],
      ['text', 'TextMetadataValue', 'str', 'some text'],
      ['url', 'UrlMetadataValue', 'str', 'https://dagster.io/'],
      ['path', 'PathMetadataValue', 'str', '/data/out.parquet'],
      ['notebook', 'NotebookMetadataValue', 'str', '/notebooks/report.ipynb'],
      ['json', 'JsonMetadataValue', 'dict', { rows: 3, nested: { ok: true } }],
      ['md', 'MarkdownMetadataValue', 'str', '# Title\n\n*bold*'],
      ['float', 'FloatMetadataValue', 'float', 1],
      ['float_fraction', 'FloatMetadataValue', 'float', 0.25],
      ['int', 'IntMetadataValue', 'int', 7],
      ['bool', 'BoolMetadataValue', 'bool', false],
      ['asset', 'DagsterAssetMetadataValue', 'AssetKey', { asset_key_path: ['upstream', 'tbl'] }],
      ['null', 'NullMetadataValue', 'NoneType', null],
      ['timestamp', 'TimestampMetadataValue', 'float', 1704164645.5],
      ['timestamp_int', 'TimestampMetadataValue', 'float', 1700000000],
      ['seen_asset_key', 'TextMetadataValue', 'str', 'all_metadata'],
      ['seen_code_version', 'TextMetadataValue', 'str', 'v-meta'],
      ['seen_is_partition_step', 'BoolMetadataValue', 'bool', false],
      [
        'seen_partition_key_error',
        'TextMetadataValue',
        'str',
        'ERR_PIPES_UNDEFINED: Missing required property: `partition_key` is undefined. Current step does not target any partitions.',
      ],
      [
        'seen_extra_error',
        'TextMetadataValue',
        'str',
        'ERR_PIPES_UNDEFINED: Extra `missing` is undefined. Extras must be provided by user.',
      ],
    ];

    it.each(cases)('%s → %s(%s)', (key, cls, valueClass, value) => {
      const entry = materializationOf(run('main'), ['all_metadata']).metadata[key];
      expect(entry).toMatchObject({ class: cls, value_class: valueClass });
      expect(entry?.value).toEqual(value);
    });

    it('keeps whole floats as Python floats (repr 1.0 / 3.0), not ints', () => {
      const { metadata } = materializationOf(run('main'), ['all_metadata']);
      expect(metadata.float?.repr).toBe('1.0');
      expect(metadata.infer_whole_float?.repr).toBe('3.0');
      expect(metadata.timestamp_int?.repr).toBe('1700000000.0');
    });

    it('dagster_run carries the run id', () => {
      const { metadata } = materializationOf(run('main'), ['all_metadata']);
      expect(metadata.dagster_run).toMatchObject({
        class: 'DagsterRunMetadataValue',
        value: run('main').run_id,
      });
    });

    it('table, table_schema and table_column_lineage become Dagster records', () => {
      const { metadata } = materializationOf(run('main'), ['all_metadata']);
      expect(metadata.table?.class).toBe('TableMetadataValue');
      expect(metadata.table?.value).toMatchObject({
        records: [
          { __class__: 'TableRecord', data: { name: 'a', count: 1, ratio: 0.5, ok: true } },
          { __class__: 'TableRecord', data: { name: 'b', count: 2, ratio: 1.5, ok: false } },
        ],
        schema: {
          columns: [
            {
              name: 'name',
              type: 'string',
              description: 'the name',
              constraints: { nullable: false, unique: true },
            },
            { name: 'count', type: 'int', tags: { pii: 'no' } },
            { name: 'ratio', type: 'float' },
            { name: 'ok', type: 'bool' },
          ],
        },
      });
      expect(metadata.table_schema).toMatchObject({
        class: 'TableSchemaMetadataValue',
        value: {
          __class__: 'TableSchema',
          columns: [
            { name: 'id', type: 'int', constraints: { nullable: false, other: ['> 0'] } },
            { name: 'label', type: 'string', description: 'a label' },
          ],
        },
      });
      expect(metadata.table_column_lineage).toMatchObject({
        class: 'TableColumnLineageMetadataValue',
        value: {
          __class__: 'TableColumnLineage',
          deps_by_column: {
            id: [{ asset_key: { path: ['upstream', 'tbl'] }, column_name: 'id' }],
            // A string asset_key is one part (AssetKey.from_coercible), a list gives the parts.
            label: [
              { asset_key: { path: ['single_part'] }, column_name: 'name' },
              { asset_key: { path: ['upstream', 'tbl'] }, column_name: 'label' },
            ],
          },
        },
      });
    });

    it('records the data version and code version', () => {
      const { tags } = materializationOf(run('main'), ['all_metadata']);
      expect(tags).toMatchObject({
        'dagster/data_version': 'dv-ts-1',
        'dagster/data_version_is_user_provided': 'true',
        'dagster/code_version': 'v-meta',
      });
    });
  });

  it('records asset check results, passed and failed, with WARN and ERROR severity', () => {
    const checks = eventsOf(run('main'), 'ASSET_CHECK_EVALUATION', 'all_metadata').map((e) => e.check);
    expect(checks).toEqual([
      {
        asset_key: ['all_metadata'],
        check_name: 'passes_warn',
        passed: true,
        severity: 'WARN',
        metadata: { score: { class: 'FloatMetadataValue', value: 0.99, value_class: 'float', repr: '0.99' } },
      },
      {
        asset_key: ['all_metadata'],
        check_name: 'fails_warn',
        passed: false,
        severity: 'WARN',
        metadata: {},
      },
      {
        asset_key: ['all_metadata'],
        check_name: 'fails_error',
        passed: false,
        severity: 'ERROR',
        metadata: {
          why: { class: 'MarkdownMetadataValue', value: '**bad**', value_class: 'str', repr: "'**bad**'" },
        },
      },
    ]);
  });

  it('logs at every level, and custom messages reach get_custom_messages()', () => {
    expect(logsOf(run('main'), 'all_metadata')).toEqual([
      ['INFO', '[pipes] external process successfully opened dagster pipes.'],
      ['DEBUG', 'debug from ts'],
      ['INFO', 'info from ts'],
      ['WARNING', 'warning from ts'],
      ['ERROR', 'error from ts'],
      ['CRITICAL', 'critical from ts'],
      ['WARNING', 'warn alias from ts'],
      [
        'INFO',
        'custom_messages=[{"kind": "custom", "n": 1, "nested": [true, null, "x"]}, "second custom message"]',
      ],
    ]);
  });

  describe('multi-asset step with "/" inside key parts', () => {
    it('sees escaped keys and reports each one explicitly', () => {
      const slash = materializationOf(run('main'), ['multi', 'a/b']);
      const plain = materializationOf(run('main'), ['multi', 'plain']);
      expect(slash.asset_key_escaped).toBe('multi/a\\/b');
      expect(slash.metadata.seen_key?.value).toBe('multi/a\\/b');
      expect(slash.metadata.seen_keys?.value).toEqual(['multi/a\\/b', 'multi/plain']);
      expect(slash.tags['dagster/data_version']).toBe('dv-multi/a\\/b');
      expect(plain.metadata.seen_key?.value).toBe('multi/plain');
    });

    it('refused a report without a key, with Python message', () => {
      const slash = materializationOf(run('main'), ['multi', 'a/b']);
      expect(slash.metadata.missing_key_error?.value).toBe(
        'Calling `report_asset_materialization` without passing an asset key is undefined. Current step targets multiple assets.',
      );
    });

    it('records a check given with an explicit key', () => {
      expect(eventsOf(run('main'), 'ASSET_CHECK_EVALUATION', 'multi_slash').map((e) => e.check)).toEqual([
        {
          asset_key: ['multi', 'plain'],
          check_name: 'multi_check',
          passed: true,
          severity: 'WARN',
          metadata: {},
        },
      ]);
    });
  });

  describe('failures', () => {
    const closedWithException = (step: string) =>
      eventsOf(run('main'), 'ENGINE_EVENT', step).find((e) =>
        e.message.includes('[pipes] external process pipes closed with exception'),
      )?.error;

    it('a worker that throws fails the step; its message, stack and cause are in the event log', () => {
      const error = closedWithException('fails');
      expect(error?.message).toBe('WorkerFailure: boom from ts worker\n');
      expect(error?.cls_name).toBe('WorkerFailure');
      expect(error?.stack.some((frame) => frame.includes('fails.ts') && frame.endsWith('\n'))).toBe(true);
      expect(error?.stack[0]).toMatch(/^ {2}at failDeep \(.*fails\.ts:\d+:\d+\)\n$/);
      expect(error?.cause).toMatchObject({
        message: 'TypeError: the root cause\n',
        cls_name: 'TypeError',
        cause: null,
      });
      expect(error?.context).toBeNull();

      const [failure] = eventsOf(run('main'), 'STEP_FAILURE', 'fails');
      expect(errorChainText(failure?.error)).toContain('External execution process failed with code 1');
      expect(logsOf(run('main'), 'fails')).toContainEqual(['INFO', 'about to fail']);
    });

    it('an uncaught exception outside any helper is reported by the process hooks', () => {
      const error = closedWithException('crashes');
      expect(error).toMatchObject({
        message: 'RangeError: uncaught kaboom\n',
        cls_name: 'RangeError',
        cause: null,
      });
      expect(error?.stack[0]).toContain('crashes.ts');
      const [failure] = eventsOf(run('main'), 'STEP_FAILURE', 'crashes');
      expect(errorChainText(failure?.error)).toContain('External execution process failed with code 1');
    });
  });

  it('include_stdio_in_messages: plain stdout/stderr writes reach Dagster as log_external_stream', () => {
    const main = run('main');
    // forward_stdio=False: the text can only have come through the messages file.
    expect(main.captured_stdout).toContain('STDOUT-MARKER-7f3a from console.log\n');
    expect(main.captured_stdout).toContain('STDOUT-MARKER-late\n');
    expect(main.captured_stderr).toContain('STDERR-MARKER-9c1e from process.stderr\n');
    expect(materializationOf(main, ['stdio_capture']).metadata.captured?.value).toBe(true);
  });

  describe('partitions, extras and provenance as the worker saw them', () => {
    it('daily partition: key, range and time window; extras from run config', () => {
      const daily = run('daily');
      const m = materializationOf(daily, ['daily_partitioned']);
      expect(m.partition).toBe('2024-03-05');
      const values = Object.fromEntries(Object.entries(m.metadata).map(([k, v]) => [k, v.value]));
      expect(values).toEqual({
        asset_key: 'daily_partitioned',
        asset_keys: ['daily_partitioned'],
        code_version: 'v-daily',
        provenance: { value: null },
        is_partition_step: true,
        partition_key: '2024-03-05',
        partition_key_range: { start: '2024-03-05', end: '2024-03-05' },
        partition_time_window: {
          value: { start: '2024-03-05T00:00:00+00:00', end: '2024-03-06T00:00:00+00:00' },
        },
        run_id: daily.run_id,
        job_name: '__ephemeral_asset_job__',
        retry_number: 0,
        extras: { greeting: 'hi', n: 1.5, list: [1, 'a'] },
        greeting: 'hi',
      });
      expect(m.metadata.retry_number?.class).toBe('IntMetadataValue');
      expect(m.tags['dagster/data_version']).toBe('dv-2024-03-05');
    });

    it('static partition: no time window', () => {
      const m = materializationOf(run('static'), ['static_partitioned']);
      expect(m.partition).toBe('blue');
      expect(m.metadata.partition_key?.value).toBe('blue');
      expect(m.metadata.partition_key_range?.value).toEqual({ start: 'blue', end: 'blue' });
      expect(m.metadata.partition_time_window?.value).toEqual({ value: null });
      expect(m.metadata.greeting?.value).toBe('hey');
    });

    it('a second materialization sees the provenance of the first', () => {
      expect(materializationOf(run('static'), ['static_partitioned']).metadata.provenance?.value).toEqual({
        value: null,
      });
      expect(
        materializationOf(run('static-again'), ['static_partitioned']).metadata.provenance?.value,
      ).toEqual({
        value: { code_version: 'v-static', input_data_versions: {}, is_user_provided: true },
      });
    });
  });
});
