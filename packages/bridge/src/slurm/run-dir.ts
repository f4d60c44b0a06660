import { createHash } from 'node:crypto';
import { posix } from 'node:path';

/** What names a step's run directory, read from Dagster's context. */
export interface RunDirKey {
  /** Dagster run id. */
  runId: string;
  /** Selected asset keys as escaped user strings (`a/b`), or null for an op step. */
  assetKeys: readonly string[] | null;
  /** Set for a single-partition step. */
  partitionKey: string | null;
  /** Set for a partition-range step (`start == end` for a single key). */
  partitionKeyRange: { start: string; end: string } | null;
  /** Used with the payload to name op steps, which have no asset keys. */
  jobName: string | null;
  /** Local payload path and arguments; they tell op steps of one run apart. */
  payload: readonly string[];
}

/** Where a step's files live on the cluster. */
export interface RunDirLayout {
  /** `<remoteBase>/runs/<run>/<step>[/<partition>]`. */
  runDir: string;
  /** Path component of the run id. */
  run: string;
  /** Path component of the step. */
  step: string;
  /** Path component of the partition, if the step has one. */
  partition: string | undefined;
}

// Portable file name characters (POSIX), minus leading dots and dashes handled below.
const SAFE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const MAX_LABEL = 80;
const HASH_HEX = 10;

function shortHash(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('hex').slice(0, HASH_HEX);
}

/**
 * A path component for `label`: accents are dropped, unsafe characters become `_` (`/` becomes
 * `.`, the usual asset key separator), leading dots and dashes go, the result is cut to 80 characters and suffixed with a short
 * hash of `identity`. Two different identities therefore never share a component, however
 * similar their labels.
 */
export function hashedComponent(label: string, identity: string): string {
  const cleaned = label
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replaceAll('/', '.')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_LABEL)
    .replace(/[._-]+$/, '');
  return `${cleaned === '' ? 'x' : cleaned}-${shortHash(identity)}`;
}

/** The run id as a path component: unchanged when already safe (a Dagster UUID), else hashed. */
export function runComponent(runId: string): string {
  return SAFE.test(runId) && runId.length <= 100 ? runId : hashedComponent(runId, `run\0${runId}`);
}

/** The step's path component: its asset keys, or for op steps the job name and payload. */
export function stepComponent(key: Pick<RunDirKey, 'assetKeys' | 'jobName' | 'payload'>): string {
  if (key.assetKeys !== null && key.assetKeys.length > 0) {
    const keys = [...key.assetKeys].sort();
    return hashedComponent(keys.join('+'), JSON.stringify(['assets', keys]));
  }
  const payloadName = posix.basename(key.payload[0] ?? 'payload').replace(/\.[^.]*$/, '');
  const label = `op.${key.jobName ?? 'job'}.${payloadName}`;
  return hashedComponent(label, JSON.stringify(['op', key.jobName, key.payload]));
}

/** The partition's path component, or undefined when the step is not partitioned. */
export function partitionComponent(
  key: Pick<RunDirKey, 'partitionKey' | 'partitionKeyRange'>,
): string | undefined {
  if (key.partitionKey !== null) {
    return hashedComponent(key.partitionKey, JSON.stringify(['key', key.partitionKey]));
  }
  const range = key.partitionKeyRange;
  if (range === null) return undefined;
  return hashedComponent(`${range.start}..${range.end}`, JSON.stringify(['range', range.start, range.end]));
}

/**
 * The run directory of a step: `<remoteBase>/runs/<run>/<step>[/<partition>]`. Mirrors
 * dagster-slurm's per-run/step/partition directories, but every component is sanitised and the
 * step and partition carry a hash, so concurrent steps and partitions never share files.
 */
export function runDirLayout(remoteBase: string, key: RunDirKey): RunDirLayout {
  const run = runComponent(key.runId);
  const step = stepComponent(key);
  const partition = partitionComponent(key);
  const parts = [remoteBase, 'runs', run, step, ...(partition === undefined ? [] : [partition])];
  return { runDir: posix.join(...parts), run, step, partition };
}
