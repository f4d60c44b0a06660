import { PipesError } from '../errors.js';
import type { PipesException } from '../schemas/exception.js';

/**
 * Turns the `PipesException` of a `closed` message into a {@link PipesError}
 * (`ERR_PIPES_EXECUTION`) whose message is the remote one (Python's already reads
 * `"ValueError: boom"`; otherwise `name: ` is prefixed), whose `stack` is the remote stack, and
 * whose `cause` is the remote `cause` (explicit chaining) or else `context` (implicit), converted
 * the same way.
 */
export function pipesExceptionToError(exc: PipesException): PipesError {
  const text = exc.message.trimEnd();
  const message =
    exc.name && !text.startsWith(`${exc.name}:`) && text !== exc.name ? `${exc.name}: ${text}` : text;
  const chained = exc.cause ?? exc.context;
  const error = new PipesError(
    'ERR_PIPES_EXECUTION',
    message,
    chained ? { cause: pipesExceptionToError(chained) } : undefined,
  );
  const frames = exc.stack.map((frame) => frame.trimEnd()).join('\n');
  error.stack = `${error.name} [${error.code}]: ${message}\n  (remote stack)\n${frames}`;
  return error;
}
