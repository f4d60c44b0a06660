import { PipesFloat, stringifyJson } from '@slurm-pipes/pipes-protocol';
import type { JobMetrics, JobState } from '@slurm-pipes/slurm-transport';
import type { MetadataEntryText } from './metadata-splice.js';

/** What is known about a finished job when its materializations are released. */
export interface SlurmJobFacts {
  jobId: string;
  /** The final state (sacct's when it has one, else the watcher's). */
  state: JobState;
  /** sacct's accounting, when it answered. */
  metrics: JobMetrics | undefined;
  /** Allocated nodes as squeue last reported them, used when sacct has none. */
  nodes: string | undefined;
}

type Tagged = { raw_value: unknown; type: string };

/**
 * The Slurm metadata added to every materialization of a step, as Pipes metadata values:
 * `slurm_job_id`, `slurm_nodes`, `slurm_elapsed_seconds`, `slurm_max_rss_bytes`,
 * `slurm_cpu_efficiency` (0–1, always a float), `slurm_state`, `slurm_exit_code`. Values
 * accounting does not know (e.g. MaxRSS of a job too short to be sampled) are left out.
 */
export function slurmMetadataEntries(facts: SlurmJobFacts): MetadataEntryText[] {
  const m = facts.metrics;
  const entries: Array<[string, Tagged | undefined]> = [
    ['slurm_job_id', { raw_value: facts.jobId, type: 'text' }],
    ['slurm_nodes', text(m?.nodeList ?? facts.nodes)],
    ['slurm_elapsed_seconds', int(m?.elapsedSeconds)],
    ['slurm_max_rss_bytes', int(m?.maxRssBytes)],
    [
      'slurm_cpu_efficiency',
      m?.cpuEfficiency === undefined
        ? undefined
        : { raw_value: new PipesFloat(m.cpuEfficiency), type: 'float' },
    ],
    ['slurm_state', { raw_value: facts.state, type: 'text' }],
    ['slurm_exit_code', int(m?.exitCode?.code)],
  ];
  return entries
    .filter((entry): entry is [string, Tagged] => entry[1] !== undefined)
    .map(([key, value]) => [key, stringifyJson(value)] as const);
}

function text(value: string | undefined): Tagged | undefined {
  return value === undefined ? undefined : { raw_value: value, type: 'text' };
}

function int(value: number | undefined): Tagged | undefined {
  return value === undefined || !Number.isFinite(value)
    ? undefined
    : { raw_value: Math.round(value), type: 'int' };
}
