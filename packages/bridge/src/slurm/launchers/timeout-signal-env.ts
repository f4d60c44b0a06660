import { TIMEOUT_SIGNAL_ENV, TIMEOUT_SIGNAL_SECONDS_ENV } from '@slurm-pipes/pipes-protocol';
import type { SignalBeforeTimeout } from '@slurm-pipes/slurm-transport';

/**
 * The variables that tell the payload which signal announces its time limit and how long before
 * it (`SLURM_PIPES_TIMEOUT_SIGNAL=SIGUSR1`, `SLURM_PIPES_TIMEOUT_SIGNAL_SECONDS=300` for
 * `signal_before_timeout: "USR1@300"`); the worker API's `onTimeoutSignal` reads them. Empty when
 * the step set no `signal_before_timeout`. A numeric signal stays a number (`"10"`).
 */
export function timeoutSignalEnv(signal: SignalBeforeTimeout | undefined): Record<string, string> {
  if (signal === undefined) return {};
  const name = /^\d+$/.test(signal.signal) ? signal.signal : `SIG${signal.signal}`;
  return { [TIMEOUT_SIGNAL_ENV]: name, [TIMEOUT_SIGNAL_SECONDS_ENV]: String(signal.seconds) };
}
