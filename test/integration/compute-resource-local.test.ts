// dagster_slurm_pipes.ComputeResource(mode="local") under the real Dagster: Dagster launches the
// bridge through PipesSubprocessClient, the bridge runs the payload and relays its messages.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
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
import { dagsterMissing, repoRoot, venvPython } from '../helpers/python.js';

const skip = skipReason(dagsterMissing());

describe.skipIf(skip !== undefined)('ComputeResource in local mode, real Dagster', () => {
  let result: DagsterMaterializeResult;
  const run = (name: string): DagsterRunResult => {
    const r = result.runs.find((x) => x.name === name);
    if (!r) throw new Error(`no run ${name}`);
    return r;
  };

  beforeAll(async () => {
    result = await materializeWithDagster(
      [
        { name: 'ts', selection: ['hello_ts'], partitionKey: '2026-11-02' },
        { name: 'py', selection: ['hello_py'] },
        { name: 'env', selection: ['env_echo'] },
        { name: 'failing', selection: ['failing_ts'] },
        { name: 'missing', selection: ['missing_payload'] },
      ],
      { definitions: join(repoRoot, 'test/dagster/compute_defs.py') },
    );
  });

  it('materializes a TS worker with its metadata, data version, check and logs', () => {
    const r = run('ts');
    expect(r.success).toBe(true);
    const mat = materializationOf(r, ['hello_ts']);
    expect(mat.partition).toBe('2026-11-02');
    expect(mat.metadata.rows).toMatchObject({ class: 'IntMetadataValue', value: 5 });
    expect(mat.metadata.mean).toMatchObject({
      class: 'FloatMetadataValue',
      value_class: 'float',
      repr: '6.0',
    });
    expect(mat.metadata.preview?.class).toBe('JsonMetadataValue');
    expect(mat.tags['dagster/data_version']).toBe('v1');
    const check = eventsOf(r, 'ASSET_CHECK_EVALUATION')[0]?.check;
    expect(check).toMatchObject({ check_name: 'non_empty', passed: true });
    expect(logsOf(r, 'hello_ts')).toContainEqual(['INFO', 'worker started: from-dagster for 2026-11-02']);
  });

  it('materializes a Python payload with the interpreter running Dagster', () => {
    const r = run('py');
    expect(
      r.success,
      errorChainText(eventsOf(r, 'STEP_FAILURE')[0]?.error) + r.captured_stderr.slice(-3000),
    ).toBe(true);
    const mat = materializationOf(r, ['hello_py']);
    expect(mat.metadata.rows).toMatchObject({ class: 'IntMetadataValue', value: 42 });
    expect(mat.metadata.source).toMatchObject({ class: 'UrlMetadataValue', value: 'https://example.org' });
  });

  it('passes extra_env and extras to the payload, and keeps the bridge config from it', () => {
    const mat = materializationOf(run('env'), ['env_echo']);
    expect(mat.metadata.my_var?.value).toBe("it's $(not) `run`");
    expect(mat.metadata.config_json_visible?.value).toBe(false);
    expect(mat.metadata.extras?.value).toEqual({ n: 1, nested: { a: [1, 2] } });
    expect(mat.metadata.python?.value).toBe(realpathSync(venvPython()));
  });

  it('fails the step when the payload throws, with its message and stack in Dagster', () => {
    const r = run('failing');
    expect(r.success).toBe(false);
    const failure = eventsOf(r, 'STEP_FAILURE')[0];
    expect(errorChainText(failure?.error)).toContain('External execution process failed with code 1');
    const closedWith = r.events.find((e) => e.message.includes('closed with exception'));
    expect(JSON.stringify(closedWith?.error)).toContain('boom after report');
    expect(JSON.stringify(closedWith?.error)).toContain('fail-after-report.ts');
  });

  it('fails clearly when the payload does not exist', () => {
    const r = run('missing');
    expect(r.success).toBe(false);
    expect(errorChainText(eventsOf(r, 'STEP_FAILURE')[0]?.error)).toMatch(
      /payload_path .*does\/not\/exist\.py.* does not exist/,
    );
  });
});
