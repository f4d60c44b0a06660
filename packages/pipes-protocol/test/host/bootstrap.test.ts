import { inflateSync } from 'node:zlib';
import {
  decodeParam,
  encodeBootstrapCliArgs,
  encodeBootstrapEnv,
  encodeParam,
} from '@slurm-pipes/pipes-protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('encodeParam / decodeParam', () => {
  it('encodes as Python does (worked example of the protocol notes)', () => {
    expect(encodeParam({ path: '/tmp/tmpabc/context' })).toBe(
      'eJyrVipILMlQslJQ0i/JLQDhxKRk/eT8vJLUihKlWgClqQri',
    );
  });

  it('round-trips arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        // JSON itself turns -0 into 0; compare with what JSON can carry.
        expect(decodeParam(encodeParam(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('writes ASCII-only JSON inside (Python ensure_ascii)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        const json = inflateSync(Buffer.from(encodeParam(value), 'base64')).toString('latin1');
        expect(json).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 200 },
    );
  });
});

describe('encodeBootstrapEnv / encodeBootstrapCliArgs', () => {
  const params = {
    DAGSTER_PIPES_CONTEXT: { data: { run_id: 'r' } },
    DAGSTER_PIPES_MESSAGES: { path: '/tmp/m', include_stdio_in_messages: false },
  };

  it('encodes each param into its env var', () => {
    const env = encodeBootstrapEnv(params);
    expect(Object.keys(env)).toEqual(['DAGSTER_PIPES_CONTEXT', 'DAGSTER_PIPES_MESSAGES']);
    expect(decodeParam(env.DAGSTER_PIPES_CONTEXT)).toEqual(params.DAGSTER_PIPES_CONTEXT);
    expect(decodeParam(env.DAGSTER_PIPES_MESSAGES)).toEqual(params.DAGSTER_PIPES_MESSAGES);
  });

  it('gives the CLI form, each value its own argv token', () => {
    const args = encodeBootstrapCliArgs(params);
    expect(args).toEqual([
      '--dagster-pipes-context',
      encodeParam(params.DAGSTER_PIPES_CONTEXT),
      '--dagster-pipes-messages',
      encodeParam(params.DAGSTER_PIPES_MESSAGES),
    ]);
  });
});
