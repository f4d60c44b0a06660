import { setTimeout as sleep } from 'node:timers/promises';
import {
  getJobMetrics,
  isTerminalJobState,
  type JobMetrics,
  type RemoteExecutor,
} from '@slurm-pipes/slurm-transport';

/** Options of {@link fetchFinalJobMetrics}. */
export interface FetchMetricsOptions {
  /** Attempts in all. @default 12 */
  attempts?: number;
  /**
   * When the second attempt starts, in ms after the first; each later one waits twice as long
   * as the one before, up to `maxDelayMs`. An attempt starts on this schedule even while the
   * previous one is still waiting on slurmdbd (at most `maxInFlight` at once, later ones wait).
   * @default 40
   */
  delayMs?: number;
  /** Longest pause between attempts in ms. @default 750 */
  maxDelayMs?: number;
  /** Most sacct calls in flight at once. @default 2 */
  maxInFlight?: number;
  log: (line: string) => void;
}

/** True when sacct has the job's final record: terminal, with its batch step, and its own NodeList. */
export function isFinalRecord(metrics: JobMetrics): boolean {
  const batch = metrics.steps.find((step) => step.stepId === 'batch');
  return (
    isTerminalJobState(metrics.state) &&
    batch !== undefined &&
    isTerminalJobState(batch.state) &&
    nodeListMatches(metrics)
  );
}

/**
 * The accounting of a job that has just ended, from `sacct` (job and steps). slurmdbd lags the
 * job's end by a moment, so this asks again until sacct has the job in a terminal state with
 * its batch step, and with the job's own record: until slurmctld's job record reaches slurmdbd,
 * Slurm 22.05 shows a stand-in row built from the steps (named `allocation`), whose NodeList is
 * only the batch host while NNodes counts them all. Afterwards it returns the latest answer.
 *
 * Attempts are staggered rather than chained: one sacct takes ~90 ms even on loopback (Slurm
 * 22.05's client and slurmdbd each wait out a delayed ACK), and the first answer right after a
 * job's end is often a step behind, so a second attempt already under way saves most of a
 * round. Never throws: metrics are a bonus, and their absence is logged.
 * @returns undefined when sacct never answered (accounting disabled or down).
 */
export async function fetchFinalJobMetrics(
  executor: RemoteExecutor,
  jobId: string,
  options: FetchMetricsOptions,
): Promise<JobMetrics | undefined> {
  const attempts = options.attempts ?? 12;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  let delayMs = options.delayMs ?? 40;
  // The answer of the latest-started attempt that answered, so a slow early one cannot win.
  let best: { metrics: JobMetrics; attempt: number } | undefined;
  let final: JobMetrics | undefined;
  let lastError: unknown;
  let disabled = false;
  let wake: () => void = () => {};
  const inFlight = new Set<Promise<void>>();
  const done = () => final !== undefined || disabled;
  const start = (attempt: number) => {
    const call: Promise<void> = getJobMetrics(executor, jobId, { timeoutMs: 30_000 })
      .then(
        (metrics) => {
          if (best === undefined || attempt > best.attempt) best = { metrics, attempt };
          if (final === undefined && isFinalRecord(metrics)) final = metrics;
        },
        (error: unknown) => {
          lastError = error;
          if (/accounting storage is disabled/i.test((error as Error).message)) disabled = true;
        },
      )
      .finally(() => {
        inFlight.delete(call);
        wake();
      });
    inFlight.add(call);
  };
  // Resolves when a call settles or `ms` passed, whichever is first.
  const settleOrWait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  for (let attempt = 1; attempt <= attempts && !done(); attempt++) {
    start(attempt);
    // The next attempt starts `delayMs` after this one, once fewer than maxInFlight calls wait.
    const due = Date.now() + delayMs;
    while (!done() && (inFlight.size >= maxInFlight || (inFlight.size > 0 && Date.now() < due))) {
      await settleOrWait(Math.max(0, due - Date.now()));
    }
    if (!done() && inFlight.size === 0 && attempt < attempts) await sleep(Math.max(0, due - Date.now()));
    delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 750);
  }
  while (!done() && inFlight.size > 0) await settleOrWait(60_000);
  if (final !== undefined) return final;
  if (best === undefined) {
    options.log(
      `no accounting for job ${jobId} from sacct${lastError === undefined ? '' : `: ${(lastError as Error).message.split('\n')[0]}`}; Slurm metrics are left out`,
    );
  }
  return best?.metrics;
}

/**
 * How many hosts a Slurm hostlist names: `n1` → 1, `n[1-3,7]` → 4, `a[1-2]b[1-3],c` → 7.
 * @returns undefined for text that is not a hostlist.
 */
export function hostlistCount(hostlist: string): number | undefined {
  let total = 0;
  for (const host of hostlist.match(/(?:[^,[]|\[[^\]]*\])+/g) ?? []) {
    let count = 1;
    for (const [, ranges = ''] of host.matchAll(/\[([^\]]*)\]/g)) {
      let inGroup = 0;
      for (const range of ranges.split(',')) {
        const match = /^(\d+)(?:-(\d+))?$/.exec(range);
        if (match === null) return undefined;
        const from = Number(match[1]);
        const to = match[2] === undefined ? from : Number(match[2]);
        if (to < from) return undefined;
        inGroup += to - from + 1;
      }
      count *= inGroup;
    }
    total += count;
  }
  return total === 0 ? undefined : total;
}

// The stand-in row lists only the batch host; the job's own row lists all NNodes hosts.
function nodeListMatches(metrics: JobMetrics): boolean {
  if (metrics.nodeList === undefined || metrics.nodes === undefined) return true;
  return hostlistCount(metrics.nodeList) === metrics.nodes;
}
