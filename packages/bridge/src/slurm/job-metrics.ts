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
   * Pause after the first attempt in ms; it doubles after each, up to `maxDelayMs`. slurmdbd
   * usually has the ended job within tens of ms, so the first retries come soon.
   * @default 25
   */
  delayMs?: number;
  /** Longest pause between attempts in ms. @default 750 */
  maxDelayMs?: number;
  log: (line: string) => void;
}

/**
 * The accounting of a job that has just ended, from `sacct` (job and steps). slurmdbd lags the
 * job's end by a moment, so this retries briefly until sacct has the job in a terminal state with
 * its batch step, and with the job's own record: until slurmctld's job record reaches slurmdbd,
 * Slurm 22.05 shows a stand-in row built from the steps (named `allocation`), whose NodeList is
 * only the batch host while NNodes counts them all. Afterwards it returns what it has. Never throws: metrics are a bonus, and their
 * absence is logged.
 * @returns undefined when sacct never answered (accounting disabled or down).
 */
export async function fetchFinalJobMetrics(
  executor: RemoteExecutor,
  jobId: string,
  options: FetchMetricsOptions,
): Promise<JobMetrics | undefined> {
  const attempts = options.attempts ?? 12;
  let delayMs = options.delayMs ?? 25;
  let best: JobMetrics | undefined;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const metrics = await getJobMetrics(executor, jobId, { timeoutMs: 30_000 });
      best = metrics;
      const batch = metrics.steps.find((step) => step.stepId === 'batch');
      const final =
        isTerminalJobState(metrics.state) && batch !== undefined && isTerminalJobState(batch.state);
      if (final && nodeListMatches(metrics)) return metrics;
    } catch (error) {
      lastError = error;
      if (/accounting storage is disabled/i.test((error as Error).message)) break;
    }
    if (attempt < attempts) {
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 750);
    }
  }
  if (best === undefined) {
    options.log(
      `no accounting for job ${jobId} from sacct${lastError === undefined ? '' : `: ${(lastError as Error).message.split('\n')[0]}`}; Slurm metrics are left out`,
    );
  }
  return best;
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
