import { randomBytes } from 'node:crypto';
import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { writeRemoteFile } from '../remote-files.js';

/** What a step's run directory says about earlier launches. */
export interface StepRecords {
  /** `job.json`: the job submitted for this step. */
  jobId?: string;
  /** `submit.json`: a launch was about to submit with this job name (and may have). */
  intendedJobName?: string;
}

const READ_RECORDS = `
cat "$1" 2>/dev/null || true
printf '\\n\\x1e\\n'
cat "$2" 2>/dev/null || true
`;

function parseJson(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `job.json` and `submit.json` of a run directory with one remote command. */
export async function readStepRecords(
  executor: RemoteExecutor,
  recordPath: string,
  intentPath: string,
  signal?: AbortSignal,
): Promise<StepRecords> {
  const result = await executor.exec(
    ['bash', '--noprofile', '--norc', '-c', READ_RECORDS, 'slurm-pipes', recordPath, intentPath],
    {
      timeoutMs: 60_000,
      ...(signal === undefined ? {} : { signal }),
    },
  );
  const [recordText = '', intentText = ''] = result.stdout.split('\n\x1e\n');
  const record = parseJson(recordText);
  const intent = parseJson(intentText);
  const records: StepRecords = {};
  if (typeof record?.jobId === 'string' && /^\d+$/.test(record.jobId)) records.jobId = record.jobId;
  if (typeof intent?.jobName === 'string') records.intendedJobName = intent.jobName;
  return records;
}

/**
 * A job name unique to this launch: the step's name plus a random token, so a launch that died
 * between `sbatch` and `job.json` can still find its job by name.
 */
export function uniqueJobName(step: string): string {
  return `slurm-pipes-${step}-${randomBytes(4).toString('hex')}`;
}

/** Writes `submit.json` (atomically) before `sbatch`: the name the job is about to get. */
export async function writeSubmitIntent(
  executor: RemoteExecutor,
  intentPath: string,
  jobName: string,
): Promise<void> {
  const intent = { jobName, at: new Date().toISOString(), pid: process.pid };
  await writeRemoteFile(executor, intentPath, `${JSON.stringify(intent)}\n`, 0o600);
}

/**
 * The id of the job named `jobName`, if Slurm knows one: `squeue` for jobs still queued or
 * running, else `sacct` for the last two weeks. Ids of several matches: the newest.
 */
export async function findJobByName(
  executor: RemoteExecutor,
  jobName: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const options = { timeoutMs: 60_000, ...(signal === undefined ? {} : { signal }) };
  const ids = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^\d+$/.test(l));
  const queued = await executor.exec(
    ['squeue', '--noheader', '--states=all', '--format=%i', `--name=${jobName}`],
    options,
  );
  const fromQueue = ids(queued.stdout);
  if (fromQueue.length > 0) return fromQueue.at(-1);
  const accounted = await executor.exec(
    [
      'sacct',
      '--noheader',
      '--allocations',
      '--parsable2',
      '--format=JobID',
      `--name=${jobName}`,
      '--starttime=now-14days',
    ],
    options,
  );
  return ids(accounted.stdout).at(-1);
}
