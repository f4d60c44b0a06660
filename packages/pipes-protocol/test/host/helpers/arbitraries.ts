import {
  PIPES_LOG_LEVELS,
  PIPES_METHODS,
  type PipesException,
  type PipesMethod,
} from '@slurm-pipes/pipes-protocol';
import fc from 'fast-check';

// Generators of valid Pipes messages, method by method, as a correct writer would send them.

const text = fc.string({ unit: 'binary', maxLength: 20 });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const json = fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' });
const jsonObject = fc.dictionary(text, json, { maxKeys: 3 });
const column = fc.record(
  {
    name: text,
    type: text,
    description: fc.option(text),
    tags: fc.dictionary(text, text, { maxKeys: 2 }),
    constraints: fc.record(
      { nullable: fc.boolean(), unique: fc.boolean(), other: fc.array(text, { maxLength: 2 }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name', 'type'] },
);

const rawValueByType = {
  __infer__: json,
  text,
  url: fc.webUrl(),
  path: text,
  notebook: text,
  json: fc.oneof(fc.array(json, { maxLength: 3 }), jsonObject),
  md: text,
  float: finite,
  int: fc.integer(),
  bool: fc.boolean(),
  dagster_run: fc.uuid(),
  asset: text,
  null: fc.constant(null),
  table: fc.record({
    records: fc.array(fc.dictionary(text, json, { maxKeys: 3 }), { maxLength: 3 }),
    schema: fc.array(column, { maxLength: 3 }),
  }),
  table_schema: fc.record({ columns: fc.array(column, { maxLength: 3 }) }),
  table_column_lineage: fc.record({
    deps_by_column: fc.dictionary(
      text,
      fc.array(fc.record({ asset_key: text, column_name: text }), { maxLength: 2 }),
      {
        maxKeys: 2,
      },
    ),
  }),
  timestamp: finite,
} as const;

/** One valid metadata entry `{raw_value, type}` of any of the 17 types. */
export const metadataValue = fc.oneof(
  ...Object.entries(rawValueByType).map(([type, raw]) =>
    (raw as fc.Arbitrary<unknown>).map((raw_value) => ({ raw_value, type })),
  ),
);
export const metadata = fc.option(fc.dictionary(text, metadataValue, { maxKeys: 4 }));

const exception: fc.Arbitrary<PipesException> = fc.letrec<{ exc: PipesException }>((tie) => ({
  exc: fc.record({
    message: text,
    stack: fc.array(text, { maxLength: 3 }),
    name: fc.option(text),
    cause: fc.option(tie('exc'), { depthSize: 'small' }),
    context: fc.option(tie('exc'), { depthSize: 'small' }),
  }),
})).exc;

const anyCase = (s: string) =>
  fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((upper) => [...s].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

/** Valid params per method. */
export const paramsByMethod: Record<PipesMethod, fc.Arbitrary<unknown>> = {
  opened: fc.option(fc.record({ extras: jsonObject }), { freq: 5 }),
  closed: fc.oneof(
    fc.constant(null),
    fc.constant({}),
    fc.record({ exception }),
    fc.constant({ exception: null }),
  ),
  log: fc.record(
    { message: text, level: fc.constantFrom(...PIPES_LOG_LEVELS).chain(anyCase) },
    { requiredKeys: ['message'] },
  ),
  report_asset_materialization: fc.record({ asset_key: text, data_version: fc.option(text), metadata }),
  report_asset_check: fc.record({
    asset_key: text,
    check_name: text,
    passed: fc.boolean(),
    metadata,
    severity: fc.constantFrom('WARN', 'ERROR'),
  }),
  report_custom_message: fc.record({ payload: json }),
  log_external_stream: fc.record(
    { stream: fc.constantFrom('stdout', 'stderr'), text, extras: jsonObject },
    { requiredKeys: ['stream', 'text'] },
  ),
};

/** A valid message of the given method. */
export const messageOf = (method: PipesMethod) =>
  paramsByMethod[method].map((params) => ({ __dagster_pipes_version: '0.1', method, params }));

/** A valid message of any method. */
export const anyMessage = fc.constantFrom(...PIPES_METHODS).chain(messageOf);

export type GeneratedMessage = { __dagster_pipes_version: string; method: PipesMethod; params: unknown };
