import { describe, expect, it } from 'vitest';
import { parseJsonSpans } from '../../src/slurm/metadata/json-spans.js';
import { addMetadataEntries, type MetadataEntryText } from '../../src/slurm/metadata/metadata-splice.js';
import { slurmMetadataEntries } from '../../src/slurm/metadata/slurm-metadata.js';

const ADD: MetadataEntryText[] = [
  ['slurm_job_id', '{"raw_value": "42", "type": "text"}'],
  ['slurm_cpu_efficiency', '{"raw_value": 1.0, "type": "float"}'],
];

// What Python's json.dumps writes for report_asset_materialization.
const PYTHON_LINE =
  '{"__dagster_pipes_version": "0.1", "method": "report_asset_materialization", "params": {"asset_key": "a/b", "metadata": {"ratio": {"raw_value": 1.0, "type": "float"}, "big": {"raw_value": 12345678901234567890, "type": "int"}, "exp": {"raw_value": 1E+400, "type": "__infer__"}, "neg": {"raw_value": -0.0, "type": "float"}, "s": {"raw_value": "\\u00fc \\"q\\" \\\\ /", "type": "text"}}, "data_version": null}}';

describe('addMetadataEntries', () => {
  it('adds entries and leaves every original lexeme as written', () => {
    const { line, kept } = addMetadataEntries(PYTHON_LINE, ADD);
    expect(kept).toEqual([]);
    for (const lexeme of [
      '"raw_value": 1.0',
      '12345678901234567890',
      '1E+400',
      '-0.0',
      '"\\u00fc \\"q\\" \\\\ /"',
    ]) {
      expect(line).toContain(lexeme);
    }
    expect(line).toContain('"slurm_cpu_efficiency": {"raw_value": 1.0, "type": "float"}');
    // Only insertions: removing them gives back the original.
    expect(line.replace(/, "slurm_job_id".*"type": "float"\}(?=\}, "data_version")/, '')).toBe(PYTHON_LINE);
    const parsed = JSON.parse(line) as { params: { metadata: Record<string, unknown>; data_version: null } };
    expect(Object.keys(parsed.params.metadata)).toEqual([
      'ratio',
      'big',
      'exp',
      'neg',
      's',
      'slurm_job_id',
      'slurm_cpu_efficiency',
    ]);
    expect(parsed.params.data_version).toBeNull();
  });

  it('turns metadata: null into an object, and adds a missing metadata key', () => {
    const nullMeta =
      '{"method":"report_asset_materialization","params":{"asset_key":"x","metadata":null,"data_version":"1.0"}}';
    expect(addMetadataEntries(nullMeta, ADD).line).toBe(
      '{"method":"report_asset_materialization","params":{"asset_key":"x","metadata":{"slurm_job_id": {"raw_value": "42", "type": "text"}, "slurm_cpu_efficiency": {"raw_value": 1.0, "type": "float"}},"data_version":"1.0"}}',
    );
    const noMeta = '{"method":"m","params":{"asset_key":"x"}}';
    expect(JSON.parse(addMetadataEntries(noMeta, ADD).line).params.metadata.slurm_job_id).toEqual({
      raw_value: '42',
      type: 'text',
    });
    expect(JSON.parse(addMetadataEntries('{"params":{}}', ADD).line).params.metadata).toBeTypeOf('object');
    expect(addMetadataEntries('{"params":{"metadata":{ }}}', ADD).line).toBe(
      '{"params":{"metadata":{"slurm_job_id": {"raw_value": "42", "type": "text"}, "slurm_cpu_efficiency": {"raw_value": 1.0, "type": "float"} }}}',
    );
  });

  it("keeps the payload's own value for a key it already set", () => {
    const line = '{"params":{"metadata":{"slurm_job_id":{"raw_value":"mine","type":"text"}}}}';
    const result = addMetadataEntries(line, ADD);
    expect(result.kept).toEqual(['slurm_job_id']);
    expect(JSON.parse(result.line).params.metadata.slurm_job_id.raw_value).toBe('mine');
    expect(JSON.parse(result.line).params.metadata.slurm_cpu_efficiency).toBeDefined();
  });

  it('uses the last of duplicate keys, as JSON.parse does', () => {
    const line = '{"params":{"metadata":null},"params":{"metadata":{}}}';
    const out = addMetadataEntries(line, ADD).line;
    expect(out.startsWith('{"params":{"metadata":null},')).toBe(true);
    expect(JSON.parse(out).params.metadata.slurm_job_id).toBeDefined();
  });

  it('refuses lines without a params object', () => {
    expect(() => addMetadataEntries('{"method":"x"}', ADD)).toThrow(SyntaxError);
    expect(() => addMetadataEntries('{"params":[1]}', ADD)).toThrow(SyntaxError);
  });
});

describe('parseJsonSpans', () => {
  it('gives the exact spans of values', () => {
    const text = ' {"a" : [1.50, true, {"b":"\\n"}], "c":null} ';
    const root = parseJsonSpans(text);
    expect(root.kind).toBe('object');
    if (root.kind !== 'object') return;
    const [a, c] = root.entries;
    expect(text.slice(a?.value.start, a?.value.end)).toBe('[1.50, true, {"b":"\\n"}]');
    expect(c?.key).toBe('c');
    expect(text.slice(c?.value.start, c?.value.end)).toBe('null');
  });

  it.each([
    ['{'],
    ['{"a":}'],
    ['[1,]'],
    ['{"a":1}x'],
    ['"unterminated'],
    ['"tab\tinside"'],
    ['01'],
    ['{"a" 1}'],
    ['"\\x"'],
  ])('rejects %j', (text) => {
    expect(() => parseJsonSpans(text)).toThrow(SyntaxError);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(() => parseJsonSpans('['.repeat(10_000))).toThrow(/nesting/);
  });
});

describe('slurmMetadataEntries', () => {
  it('tags each value and writes the efficiency as a float even when whole', () => {
    const entries = slurmMetadataEntries({
      jobId: '17',
      state: 'COMPLETED',
      nodes: 'n1',
      metrics: {
        jobId: '17',
        state: 'COMPLETED',
        rawState: 'COMPLETED',
        exitCode: { code: 0, signal: 0 },
        elapsedSeconds: 3,
        startTime: undefined,
        endTime: undefined,
        nodeList: 'n[1-2]',
        nodes: 2,
        allocCpus: 2,
        totalCpuSeconds: 6,
        maxRssBytes: 1_048_576,
        cpuEfficiency: 1,
        reason: undefined,
        steps: [],
      },
    });
    expect(Object.fromEntries(entries)).toEqual({
      slurm_job_id: '{"raw_value":"17","type":"text"}',
      slurm_nodes: '{"raw_value":"n[1-2]","type":"text"}',
      slurm_elapsed_seconds: '{"raw_value":3,"type":"int"}',
      slurm_max_rss_bytes: '{"raw_value":1048576,"type":"int"}',
      slurm_cpu_efficiency: '{"raw_value":1.0,"type":"float"}',
      slurm_state: '{"raw_value":"COMPLETED","type":"text"}',
      slurm_exit_code: '{"raw_value":0,"type":"int"}',
    });
  });

  it('leaves out what accounting does not know', () => {
    const entries = slurmMetadataEntries({
      jobId: '9',
      state: 'FAILED',
      nodes: undefined,
      metrics: undefined,
    });
    expect(entries.map(([key]) => key)).toEqual(['slurm_job_id', 'slurm_state']);
  });
});
