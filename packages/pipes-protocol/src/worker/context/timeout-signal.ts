import { constants } from 'node:os';

/**
 * Environment variable through which slurm-pipes' Slurm launcher names the signal that announces
 * the job's time limit (`signal_before_timeout`), e.g. `SIGUSR1`. Set only when the step asked
 * for one.
 */
export const TIMEOUT_SIGNAL_ENV = 'SLURM_PIPES_TIMEOUT_SIGNAL';

/** Environment variable with the lead time asked of Slurm, in seconds (the `300` of `USR1@300`). */
export const TIMEOUT_SIGNAL_SECONDS_ENV = 'SLURM_PIPES_TIMEOUT_SIGNAL_SECONDS';

/** The signal {@link onTimeoutSignal} listens for when nothing names one: dagster-slurm's examples use it too. */
export const DEFAULT_TIMEOUT_SIGNAL: NodeJS.Signals = 'SIGUSR1';

/** What a {@link TimeoutSignalHandler} learns about the signal. */
export interface TimeoutSignalInfo {
  /** The signal that arrived (`SIGUSR1`). */
  readonly signal: NodeJS.Signals;
  /**
   * The lead time asked of Slurm, in seconds; `undefined` when the launcher did not say. Slurm
   * checks time limits every 30 to 60 s, so the signal can come up to 60 s earlier than this.
   */
  readonly leadSeconds: number | undefined;
  /** When it arrived. */
  readonly receivedAt: Date;
  /** How many times it has arrived since the handler was installed, this time included. */
  readonly count: number;
}

/**
 * Called each time the timeout signal arrives. It may be async; a rejection (or a throw) is an
 * uncaught error of the process, which the Pipes process hooks report to Dagster in `closed`.
 */
export type TimeoutSignalHandler = (info: TimeoutSignalInfo) => void | Promise<void>;

/** Options of {@link onTimeoutSignal}. */
export interface TimeoutSignalOptions {
  /**
   * The signal to listen for: a name with or without `SIG` (`USR1`, `SIGUSR2`) or a number.
   * @default env SLURM_PIPES_TIMEOUT_SIGNAL, else `SIGUSR1`
   */
  signal?: string | number | undefined;
  /** Where `SLURM_PIPES_TIMEOUT_SIGNAL(_SECONDS)` are read. @default process.env */
  env?: NodeJS.ProcessEnv | undefined;
}

/** The timeout signal as configured for this process. */
export interface ResolvedTimeoutSignal {
  readonly signal: NodeJS.Signals;
  readonly leadSeconds: number | undefined;
  /** True when the launcher named the signal (the step set `signal_before_timeout`). */
  readonly configured: boolean;
}

// Signals no handler can catch (and those that would make no sense as a warning).
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

function signalName(value: string | number, where: string): NodeJS.Signals {
  const text = String(value).trim().toUpperCase();
  const byNumber = /^\d+$/.test(text)
    ? Object.entries(constants.signals).find(([, number]) => number === Number(text))?.[0]
    : undefined;
  const name = byNumber ?? (text.startsWith('SIG') ? text : `SIG${text}`);
  if (!(name in constants.signals)) {
    throw new RangeError(
      `${where} names no signal of this platform, got ${JSON.stringify(value)}. Use a name such as USR1 or SIGUSR2.`,
    );
  }
  if (UNCATCHABLE.has(name)) {
    throw new RangeError(
      `${where} is ${name}, which cannot be caught, got ${JSON.stringify(value)}. Use USR1, USR2, or another catchable signal.`,
    );
  }
  return name as NodeJS.Signals;
}

/**
 * Which signal announces the time limit here: `options.signal`, else the launcher's
 * `SLURM_PIPES_TIMEOUT_SIGNAL`, else `SIGUSR1`; with the lead time from
 * `SLURM_PIPES_TIMEOUT_SIGNAL_SECONDS`.
 * @throws {RangeError} for a name that is no signal here, or SIGKILL/SIGSTOP.
 */
export function resolveTimeoutSignal(options: TimeoutSignalOptions = {}): ResolvedTimeoutSignal {
  const env = options.env ?? process.env;
  const fromEnv = env[TIMEOUT_SIGNAL_ENV]?.trim() || undefined;
  const signal =
    options.signal !== undefined
      ? signalName(options.signal, 'onTimeoutSignal option signal')
      : fromEnv !== undefined
        ? signalName(fromEnv, TIMEOUT_SIGNAL_ENV)
        : DEFAULT_TIMEOUT_SIGNAL;
  const seconds = Number(env[TIMEOUT_SIGNAL_SECONDS_ENV]);
  return {
    signal,
    leadSeconds: Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
    configured: fromEnv !== undefined,
  };
}

/**
 * Runs `handler` when the signal that announces the job's time limit arrives, so the worker can
 * checkpoint and report (a materialization, a custom message, a log line) before Slurm stops it.
 * The signal is the one the step's `signal_before_timeout` names (`"USR1@300"` → `SIGUSR1` 300 s
 * before the limit): slurm-pipes' Slurm launcher has Slurm send it to the batch shell
 * (`--signal=B:…`), which the payload replaced (`exec`), and exports its name in
 * `SLURM_PIPES_TIMEOUT_SIGNAL` and the lead time in `SLURM_PIPES_TIMEOUT_SIGNAL_SECONDS`. Without
 * that variable it is `SIGUSR1`.
 *
 * Installing the handler replaces the signal's default action (for SIGUSR1: terminate), so the
 * process keeps running: exit yourself when the work is saved, or let the time limit end the job
 * (it then fails with `TIMEOUT`). When the signal is SIGTERM or SIGINT, the handler runs before
 * the Pipes hooks close the session and exit; only what it reports synchronously is sent then.
 * Install it first thing: Slurm may send the signal up to 60 s before the lead time.
 *
 * Python payloads do the same with `signal.signal(signal.SIGUSR1, handler)` (the name is in
 * `os.environ["SLURM_PIPES_TIMEOUT_SIGNAL"]`).
 * @returns a function that removes the handler.
 * @throws {RangeError} for a signal that is not one of this platform, or SIGKILL/SIGSTOP.
 */
export function onTimeoutSignal(
  handler: TimeoutSignalHandler,
  options: TimeoutSignalOptions = {},
): () => void {
  if (typeof handler !== 'function') {
    throw new TypeError(`onTimeoutSignal: handler must be a function, got ${typeof handler}`);
  }
  const { signal, leadSeconds } = resolveTimeoutSignal(options);
  let count = 0;
  const listener = () => {
    count += 1;
    const info: TimeoutSignalInfo = { signal, leadSeconds, receivedAt: new Date(), count };
    // A rejection becomes an unhandled rejection, i.e. an uncaught error of the process.
    void Promise.resolve(handler(info));
  };
  // Before the Pipes hooks' listener, which closes the session on SIGTERM/SIGINT.
  process.prependListener(signal, listener);
  return () => {
    process.off(signal, listener);
  };
}
