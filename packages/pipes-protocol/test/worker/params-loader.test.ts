import {
  createCliArgsParamsLoader,
  createDefaultParamsLoader,
  createEnvParamsLoader,
  encodeParam,
  isPipesError,
} from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';

const ctx = encodeParam({ path: '/tmp/x/context' });
const msgs = encodeParam({ path: '/tmp/x/messages', include_stdio_in_messages: false });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('createEnvParamsLoader', () => {
  it('detects a Pipes process by DAGSTER_PIPES_CONTEXT alone, as Python does', () => {
    expect(createEnvParamsLoader({}).isDagsterPipesProcess()).toBe(false);
    expect(createEnvParamsLoader({ DAGSTER_PIPES_MESSAGES: msgs }).isDagsterPipesProcess()).toBe(false);
    expect(createEnvParamsLoader({ DAGSTER_PIPES_CONTEXT: ctx }).isDagsterPipesProcess()).toBe(true);
  });

  it('decodes both params', () => {
    const loader = createEnvParamsLoader({ DAGSTER_PIPES_CONTEXT: ctx, DAGSTER_PIPES_MESSAGES: msgs });
    expect(loader.loadContextParams()).toEqual({ path: '/tmp/x/context' });
    expect(loader.loadMessagesParams()).toEqual({
      path: '/tmp/x/messages',
      include_stdio_in_messages: false,
    });
  });

  it('decodes the exact string Python produces', () => {
    const python = 'eJyrVipILMlQslJQ0i/JLQDhxKRk/eT8vJLUihKlWgClqQri';
    expect(createEnvParamsLoader({ DAGSTER_PIPES_CONTEXT: python }).loadContextParams()).toEqual({
      path: '/tmp/tmpabc/context',
    });
  });

  it('says which variable is missing', () => {
    const error = thrown(() => createEnvParamsLoader({ DAGSTER_PIPES_CONTEXT: ctx }).loadMessagesParams());
    expect(isPipesError(error, 'ERR_PIPES_INVALID_PARAMS')).toBe(true);
    expect(error.message).toMatch(/^environment variable DAGSTER_PIPES_MESSAGES is missing\./);
  });

  it.each([
    ['not base64/zlib', 'hello', /is not base64-encoded zlib data/],
    ['a JSON array', encodeParam([1, 2]), /must decode to a JSON object, got an array/],
    ['a JSON string', encodeParam('x'), /must decode to a JSON object, got "x"/],
  ])('rejects %s', (_, value, message) => {
    const error = thrown(() => createEnvParamsLoader({ DAGSTER_PIPES_CONTEXT: value }).loadContextParams());
    expect(isPipesError(error, 'ERR_PIPES_INVALID_PARAMS')).toBe(true);
    expect(error.message).toMatch(message);
  });
});

describe('createCliArgsParamsLoader', () => {
  const argv = ['node', 'w.js', '--dagster-pipes-context', ctx, '--other', '--dagster-pipes-messages', msgs];

  it('reads `--flag value` tokens', () => {
    const loader = createCliArgsParamsLoader(argv);
    expect(loader.isDagsterPipesProcess()).toBe(true);
    expect(loader.loadContextParams()).toEqual({ path: '/tmp/x/context' });
    expect(loader.loadMessagesParams()).toMatchObject({ path: '/tmp/x/messages' });
  });

  it('reads but does not detect the `--flag=value` form (Python checks `flag in sys.argv`)', () => {
    const loader = createCliArgsParamsLoader(['node', 'w.js', `--dagster-pipes-context=${ctx}`]);
    expect(loader.isDagsterPipesProcess()).toBe(false);
    expect(loader.loadContextParams()).toEqual({ path: '/tmp/x/context' });
  });

  it('takes the last occurrence, like argparse', () => {
    const other = encodeParam({ data: {} });
    const loader = createCliArgsParamsLoader([
      '--dagster-pipes-context',
      ctx,
      '--dagster-pipes-context',
      other,
    ]);
    expect(loader.loadContextParams()).toEqual({ data: {} });
  });

  it('ignores arguments after `--`', () => {
    expect(createCliArgsParamsLoader(['--', '--dagster-pipes-context', ctx]).loadMessagesParams).toThrow(
      /CLI argument --dagster-pipes-messages is missing/,
    );
  });

  it('reports a flag without value', () => {
    const error = thrown(() => createCliArgsParamsLoader(['--dagster-pipes-context']).loadContextParams());
    expect(error.message).toBe(
      'CLI argument --dagster-pipes-context has no value; pass the encoded param as the next argument.',
    );
  });
});

describe('createDefaultParamsLoader', () => {
  it('prefers the environment, falls back to CLI arguments', () => {
    const env = { DAGSTER_PIPES_CONTEXT: encodeParam({ data: { from: 'env' } }) };
    const args = ['--dagster-pipes-context', ctx];
    expect(createDefaultParamsLoader({ env, argv: args }).contextSource).toBe(
      'environment variable DAGSTER_PIPES_CONTEXT',
    );
    expect(createDefaultParamsLoader({ env: {}, argv: args }).contextSource).toBe(
      'CLI argument --dagster-pipes-context',
    );
    const neither = createDefaultParamsLoader({ env: {}, argv: [] });
    expect(neither.isDagsterPipesProcess()).toBe(false);
  });
});
