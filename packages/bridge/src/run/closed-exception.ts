import type { PipesException } from '@slurm-pipes/pipes-protocol';
import type { PayloadExit } from '../local/local-launcher.js';
import { describeExit } from '../local/local-launcher.js';

/**
 * The exception the bridge reports in its own `closed` message: the payload's own exception
 * when it sent one, otherwise one describing how the payload ended, or null on success.
 */
export function closedException(
  payloadLabel: string,
  exit: PayloadExit,
  payloadException: PipesException | null,
): PipesException | null {
  if (payloadException !== null) return payloadException;
  if (exit.exitCode === 0 && exit.signal === null) return null;
  return {
    message: `slurm-pipes: payload ${payloadLabel} ${describeExit(exit)} without reporting an exception; see its stderr above.\n`,
    stack: [],
    name: 'PayloadFailed',
    cause: null,
    context: null,
  };
}

/** The bridge's exit code for a payload exit: the payload's code, or 128+signal. */
export function bridgeExitCode(exit: PayloadExit): number {
  if (exit.exitCode !== null) return exit.exitCode;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return 128 + (exit.signal === null ? 0 : (signals[exit.signal] ?? 0));
}
