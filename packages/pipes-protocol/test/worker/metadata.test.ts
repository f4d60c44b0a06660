import {
  isPipesError,
  PipesMetadataValues as M,
  normalizeMetadata,
  PipesFloat,
  type PipesMetadataInput,
  stringifyJson,
} from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';

const wire = (metadata: PipesMetadataInput) =>
  stringifyJson(normalizeMetadata(metadata, 'report_asset_materialization'));

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isPipesError(error, 'ERR_PIPES_INVALID_METADATA')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('normalizeMetadata: raw values become __infer__', () => {
  it.each([
    ['string', 'x', '{"raw_value":"x","type":"__infer__"}'],
    ['integer', 3, '{"raw_value":3,"type":"__infer__"}'],
    ['fraction', 2.5, '{"raw_value":2.5,"type":"__infer__"}'],
    ['PipesFloat', new PipesFloat(3), '{"raw_value":3.0,"type":"__infer__"}'],
    ['boolean', false, '{"raw_value":false,"type":"__infer__"}'],
    ['null', null, '{"raw_value":null,"type":"__infer__"}'],
    ['array', [1, { a: 'b' }], '{"raw_value":[1,{"a":"b"}],"type":"__infer__"}'],
  ] as const)('%s', (_, value, expected) => {
    expect(wire({ k: value as PipesMetadataInput[string] })).toBe(`{"k":${expected}}`);
  });
});

describe('normalizeMetadata: typed entries of all 17 types', () => {
  it.each([
    ['__infer__', { type: '__infer__', raw_value: { a: 1 } }, '{"raw_value":{"a":1},"type":"__infer__"}'],
    ['text', M.text('t'), '{"raw_value":"t","type":"text"}'],
    ['url', M.url('https://x'), '{"raw_value":"https://x","type":"url"}'],
    ['path', M.path('/p'), '{"raw_value":"/p","type":"path"}'],
    ['notebook', M.notebook('/n.ipynb'), '{"raw_value":"/n.ipynb","type":"notebook"}'],
    ['json', M.json({ a: [1] }), '{"raw_value":{"a":[1]},"type":"json"}'],
    ['json array', M.json([1, 2]), '{"raw_value":[1,2],"type":"json"}'],
    ['md', M.md('# h'), '{"raw_value":"# h","type":"md"}'],
    ['float (whole)', M.float(1), '{"raw_value":1.0,"type":"float"}'],
    ['float (literal)', { type: 'float', raw_value: 1 }, '{"raw_value":1.0,"type":"float"}'],
    ['float (fraction)', M.float(0.1), '{"raw_value":0.1,"type":"float"}'],
    [
      'float (PipesFloat)',
      { type: 'float', raw_value: new PipesFloat(2) },
      '{"raw_value":2.0,"type":"float"}',
    ],
    ['int', M.int(7), '{"raw_value":7,"type":"int"}'],
    ['bool', M.bool(true), '{"raw_value":true,"type":"bool"}'],
    ['dagster_run', M.dagsterRun('abc'), '{"raw_value":"abc","type":"dagster_run"}'],
    ['asset (string)', M.asset('a/b'), '{"raw_value":"a/b","type":"asset"}'],
    ['asset (parts)', M.asset(['a', 'b']), '{"raw_value":"a/b","type":"asset"}'],
    ['null', M.null(), '{"raw_value":null,"type":"null"}'],
    ['null (any raw value)', { type: 'null', raw_value: 'ignored' }, '{"raw_value":null,"type":"null"}'],
    [
      'table',
      M.table(
        [{ a: 1, b: 'x' }],
        [
          { name: 'a', type: 'int' },
          { name: 'b', type: 'string' },
        ],
      ),
      '{"raw_value":{"records":[{"a":1,"b":"x"}],"schema":[{"name":"a","type":"int"},{"name":"b","type":"string"}]},"type":"table"}',
    ],
    [
      'table (inferred schema)',
      M.table([{ a: 1, b: null, c: 0.5, d: true }, { b: 's' }]),
      '{"raw_value":{"records":[{"a":1,"b":null,"c":0.5,"d":true},{"b":"s"}],"schema":[{"name":"a","type":"int"},{"name":"b","type":"string"},{"name":"c","type":"float"},{"name":"d","type":"bool"}]},"type":"table"}',
    ],
    [
      'table_schema',
      M.tableSchema([{ name: 'id', type: 'int', constraints: { nullable: false } }]),
      '{"raw_value":{"columns":[{"name":"id","type":"int","constraints":{"nullable":false}}]},"type":"table_schema"}',
    ],
    [
      'table_column_lineage',
      M.tableColumnLineage({ c: [{ asset_key: ['u', 't'], column_name: 'x' }] }),
      '{"raw_value":{"deps_by_column":{"c":[{"asset_key":["u","t"],"column_name":"x"}]}},"type":"table_column_lineage"}',
    ],
    ['timestamp', M.timestamp(1700000000.5), '{"raw_value":1700000000.5,"type":"timestamp"}'],
    ['timestamp (Date)', M.timestamp(new Date(1500)), '{"raw_value":1.5,"type":"timestamp"}'],
  ] as const)('%s', (_, entry, expected) => {
    expect(wire({ k: entry as PipesMetadataInput[string] })).toBe(`{"k":${expected}}`);
  });
});

describe('normalizeMetadata: empty and skipped', () => {
  it('sends empty metadata as null (Python sends falsy metadata as None)', () => {
    expect(normalizeMetadata({}, 'm')).toBeNull();
    expect(normalizeMetadata(undefined, 'm')).toBeNull();
    expect(normalizeMetadata(null, 'm')).toBeNull();
    expect(normalizeMetadata({ a: undefined }, 'm')).toBeNull();
  });

  it('drops undefined entries as JSON.stringify does', () => {
    expect(normalizeMetadata({ a: undefined, b: 1 }, 'm')).toEqual({
      b: { raw_value: 1, type: '__infer__' },
    });
  });
});

describe('normalizeMetadata: errors say what to fix', () => {
  it.each([
    [
      'a plain object raw value',
      { k: { a: 1 } },
      'Invalid type for parameter `metadata` of `report_asset_materialization`. Expected values that are either raw metadata values or objects with schema `{raw_value: ..., type: ...}`. Got `metadata.k` = {"a":1}. To send an arbitrary object, wrap it: {type: \'json\', raw_value: …} (PipesMetadataValues.json(…)).',
    ],
    [
      'an entry with an extra key',
      { k: { type: 'text', raw_value: 'x', extra: 1 } },
      /Got `metadata\.k` = \{"type":"text","raw_value":"x","extra":1\}/,
    ],
    [
      'the job type real Dagster lacks',
      { k: { type: 'job', raw_value: 'j' } },
      'Invalid value for parameter `metadata.k.type` of `report_asset_materialization`. Expected one of `[__infer__, text, url, path, notebook, json, md, float, int, bool, dagster_run, asset, null, table, table_schema, table_column_lineage, timestamp]`, got `job`. Dagster has no `job` metadata type; send the job name as text.',
    ],
    [
      'NaN',
      { k: Number.NaN },
      /^`metadata\.k` of `report_asset_materialization` is NaN, which JSON cannot carry/,
    ],
    [
      'Infinity in json',
      { k: { type: 'json', raw_value: [Infinity] } },
      /raw_value` of `report_asset_materialization`\[0\] is Infinity/,
    ],
    ['a float typed NaN', { k: { type: 'float', raw_value: Number.NaN } }, /is NaN/],
    [
      'int with a fraction',
      { k: { type: 'int', raw_value: 1.5 } },
      /^Invalid raw value for metadata type `int` at `metadata\.k\.raw_value` of `report_asset_materialization`:\n/,
    ],
    [
      'text with a number',
      { k: { type: 'text', raw_value: 1 } },
      /metadata type `text`.*\n.*expected string/,
    ],
    [
      'a Date raw value',
      { k: new Date(0) },
      /is a Date, which is not JSON\. Convert it first \(e\.g\. a Date with PipesMetadataValues\.timestamp\(date\)/,
    ],
    [
      'a nested table cell',
      { k: { type: 'table', raw_value: { records: [{ a: [1] }], schema: [] } } },
      /records\[0\]\.a is an array; table cells must be strings, numbers, booleans or null\./,
    ],
    [
      'a table without schema',
      { k: { type: 'table', raw_value: { records: [] } } },
      /metadata type `table`[\s\S]*expected array, received undefined\n {2}→ at schema$/,
    ],
  ] as const)('%s', (_, metadata, expected) => {
    const text = message(() =>
      normalizeMetadata(metadata as unknown as PipesMetadataInput, 'report_asset_materialization'),
    );
    if (typeof expected === 'string') expect(text).toBe(expected);
    else expect(text).toMatch(expected);
  });

  it('refuses non-object metadata', () => {
    expect(message(() => normalizeMetadata([] as unknown as PipesMetadataInput, 'report_asset_check'))).toBe(
      'Invalid type for parameter `metadata` of `report_asset_check`. Expected a plain object mapping names to values, got an array.',
    );
  });
});

describe('PipesMetadataValues helpers check at once', () => {
  it.each([
    ['int', () => M.int(1.5), /PipesMetadataValues\.int\(\)/],
    ['float NaN', () => M.float(Number.NaN), /is NaN/],
    ['asset part with /', () => M.asset(['a/b', 'c']), /key part containing "\/"/],
    ['text', () => M.text(1 as unknown as string), /PipesMetadataValues\.text\(\):\n.*expected string/],
  ])('%s', (_, fn, expected) => {
    expect(message(fn)).toMatch(expected);
  });
});
