import { type PipesException, pipesExceptionToError } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';

const exc = (message: string, name: string | null, more: Partial<PipesException> = {}): PipesException => ({
  message,
  stack: ['  File "worker.py", line 3, in <module>\n    raise ValueError("boom")\n'],
  name,
  cause: null,
  context: null,
  ...more,
});

describe('pipesExceptionToError', () => {
  it.each([
    ['Python (message already names the type)', exc('ValueError: boom\n', 'ValueError'), 'ValueError: boom'],
    ['TS worker (bare message)', exc('boom', 'TypeError'), 'TypeError: boom'],
    ['no name', exc('boom', null), 'boom'],
    ['message is just the name', exc('KeyboardInterrupt\n', 'KeyboardInterrupt'), 'KeyboardInterrupt'],
  ])('%s', (_, input, message) => {
    const error = pipesExceptionToError(input);
    expect(error.code).toBe('ERR_PIPES_EXECUTION');
    expect(error.message).toBe(message);
    expect(error.stack).toContain('worker.py", line 3');
  });

  it('chains cause, else context', () => {
    const root = exc('KeyError: k\n', 'KeyError');
    const viaCause = pipesExceptionToError(
      exc('RuntimeError: a\n', 'RuntimeError', { cause: root, context: exc('x', 'X') }),
    );
    expect((viaCause.cause as Error).message).toBe('KeyError: k');
    const viaContext = pipesExceptionToError(exc('RuntimeError: a\n', 'RuntimeError', { context: root }));
    expect((viaContext.cause as Error).message).toBe('KeyError: k');
    expect(pipesExceptionToError(root).cause).toBeUndefined();
  });
});
