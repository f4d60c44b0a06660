import { constants } from 'node:os';
import type { PipesException } from '../../schemas/exception.js';

/** What the hooks need of a context. */
export interface ClosableContext {
  readonly isClosed: boolean;
  close(exception?: unknown): Promise<void>;
}

/** Signals after which the worker closes the session and exits with 128 + the signal number. */
export const PIPES_EXIT_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function processException(name: string, message: string): PipesException {
  return { message: `${name}: ${message}\n`, stack: [], name, cause: null, context: null };
}

const ignore = () => {};

/**
 * Makes the process close `context` on its way out, so Dagster always receives `closed`:
 * - an uncaught exception or unhandled rejection: `closed` carries it as a `PipesException`
 *   (Node then prints it and exits 1, as without the hook);
 * - SIGTERM / SIGINT: `closed` carries `{name: 'SIGTERM', …}` (as Python's KeyboardInterrupt
 *   does for SIGINT), then the process exits with 128 + signal number (143, 130);
 * - normal exit: `closed` without exception (with a `ProcessExit` exception for a non-zero code).
 * Returns a function that removes the hooks.
 */
export function installProcessHooks(context: ClosableContext): () => void {
  const closeQuietly = (exception?: unknown) => context.close(exception).catch(ignore);

  const onUncaught = (error: unknown) => {
    if (!context.isClosed) void closeQuietly(error);
  };
  const onExit = (code: number) => {
    if (context.isClosed) return;
    void closeQuietly(
      code === 0 ? undefined : processException('ProcessExit', `process exited with code ${code}`),
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const exitCode = 128 + (constants.signals[signal] ?? 0);
    const closing = context.isClosed
      ? Promise.resolve()
      : closeQuietly(processException(signal, `process received ${signal} and exits with code ${exitCode}`));
    void closing.finally(() => process.exit(exitCode));
  };

  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('exit', onExit);
  for (const signal of PIPES_EXIT_SIGNALS) process.on(signal, onSignal);

  return () => {
    process.off('uncaughtExceptionMonitor', onUncaught);
    process.off('exit', onExit);
    for (const signal of PIPES_EXIT_SIGNALS) process.off(signal, onSignal);
  };
}
