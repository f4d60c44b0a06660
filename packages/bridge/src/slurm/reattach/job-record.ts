import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import * as z from 'zod';
import { BridgeError } from '../../errors.js';
import { writeRemoteFile } from '../remote-files.js';
import type { RunDirLayout } from '../run-dir.js';
import type { StepContext } from '../step-context.js';

// The durable records of a step's run directory. Written by one bridge, read by the next one
// (a retry, a re-execution, a bridge started after a crash), so they are read as untrusted input
// and unknown fields are kept: a newer bridge may add some.

/** Something that happened to a job, with when (ISO 8601). */
export const RecordEvent = z.looseObject({ at: z.string(), reason: z.string().optional() });
export type RecordEvent = z.infer<typeof RecordEvent>;

/**
 * `job.json`: the job submitted for a step, written atomically and flushed right after `sbatch`
 * returned, before anything relies on it.
 */
export const StepJobRecord = z.looseObject({
  jobId: z.string().regex(/^\d+(_\d+)?$/),
  /** The unique `--job-name` (`slurm-pipes-<step>-<token>`); absent in records of older bridges. */
  jobName: z.string().optional(),
  runId: z.string().optional(),
  reattachKey: z.string().optional(),
  step: z.string().optional(),
  runDir: z.string().optional(),
  submittedAt: z.string().optional(),
  /** True when the record was rebuilt from `submit.json` by finding the job by name. */
  recoveredByName: z.boolean().optional(),
  /** Each time a bridge stopped following the job and left it running (SIGTERM, a wait limit). */
  detached: z.array(RecordEvent).optional(),
  /**
   * Set once a bridge relayed the job's end (state, messages, metrics) to its Dagster process. A
   * collected job is never reattached again: the next launch of the step submits a new job.
   */
  collected: z
    .looseObject({ at: z.string(), state: z.string().optional(), runId: z.string().optional() })
    .optional(),
});
export type StepJobRecord = z.infer<typeof StepJobRecord>;

/** `submit.json`: written before `sbatch`, so a launch that died before `job.json` can be traced. */
export const SubmitIntent = z.looseObject({
  jobName: z.string().min(1),
  at: z.string().optional(),
  host: z.string().optional(),
  pid: z.number().optional(),
});
export type SubmitIntent = z.infer<typeof SubmitIntent>;

/** What a step's run directory says about earlier launches. */
export interface StepRecords {
  /** `job.json`, when present and valid. */
  record: StepJobRecord | undefined;
  /** `submit.json`, when present and valid. */
  intent: SubmitIntent | undefined;
  /** Files that exist but could not be read as records (`job.json: …`), for the caller to refuse. */
  unreadable: string[];
}

const SEPARATOR = '\n\x1e\n';

// Prints, for each file "$@": "present" or "absent", a newline, its content, and a separator.
// JSON never contains a raw \x1e, so the separator cannot occur inside a record.
const READ_RECORDS = `for f; do
if [ -e "$f" ]; then printf 'present\\n'; cat -- "$f" || true; else printf 'absent\\n'; fi
printf '\\n\\036\\n'
done`;

function parseRecord<T>(
  schema: z.ZodType<T>,
  name: string,
  chunk: string | undefined,
  unreadable: string[],
): T | undefined {
  if (chunk === undefined || chunk.startsWith('absent\n')) return undefined;
  const text = chunk.replace(/^present\n/, '');
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    unreadable.push(`${name}: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`);
  } catch (error) {
    unreadable.push(`${name}: not JSON (${(error as Error).message})`);
  }
  return undefined;
}

/** Parses the output of the remote read of `job.json` and `submit.json` (I/O-free; tested alone). */
export function parseStepRecords(stdout: string): StepRecords {
  const [recordChunk, intentChunk] = stdout.split(SEPARATOR);
  const unreadable: string[] = [];
  const record = parseRecord(StepJobRecord, 'job.json', recordChunk, unreadable);
  const intent = parseRecord(SubmitIntent, 'submit.json', intentChunk, unreadable);
  return { record, intent, unreadable };
}

/**
 * Reads `job.json` and `submit.json` of a run directory with one remote command.
 * @throws {BridgeError} `ERR_BRIDGE_RELAY` when the command fails (never read as "no record").
 */
export async function readStepRecords(
  executor: RemoteExecutor,
  recordPath: string,
  intentPath: string,
  signal?: AbortSignal,
): Promise<StepRecords> {
  const result = await executor.exec(
    ['bash', '--noprofile', '--norc', '-c', READ_RECORDS, 'slurm-pipes', recordPath, intentPath],
    { timeoutMs: 60_000, ...(signal === undefined ? {} : { signal }) },
  );
  if (result.exitCode !== 0) {
    throw new BridgeError(
      'ERR_BRIDGE_RELAY',
      `Could not read the step's records ${recordPath} and ${intentPath} on the cluster (exit code ${result.exitCode ?? `signal ${result.signal}`}): ${result.stderr.trim() || '(no error output)'}. Nothing was submitted.`,
    );
  }
  return parseStepRecords(result.stdout);
}

/**
 * A job name unique to this launch: the step's name plus a random token, so a launch that died
 * between `sbatch` and `job.json` can still find its job by name.
 */
export function uniqueJobName(step: string): string {
  return `slurm-pipes-${step}-${randomBytes(4).toString('hex')}`;
}

/** The text of a record file: pretty JSON and a final newline. */
export function recordText(record: StepJobRecord | SubmitIntent): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Writes `submit.json` (atomically, flushed) before `sbatch`: the name the job is about to get. */
export async function writeSubmitIntent(
  executor: RemoteExecutor,
  intentPath: string,
  jobName: string,
): Promise<SubmitIntent> {
  const intent: SubmitIntent = { jobName, at: new Date().toISOString(), host: hostname(), pid: process.pid };
  await writeRemoteFile(executor, intentPath, recordText(intent), 0o600, { durable: true });
  return intent;
}

/** Writes `job.json` (atomically, flushed); not abortable, since the record must exist once a job does. */
export async function writeJobRecord(
  executor: RemoteExecutor,
  recordPath: string,
  record: StepJobRecord,
): Promise<void> {
  await writeRemoteFile(executor, recordPath, recordText(record), 0o600, { durable: true });
}

/** The record with one more `detached` event. */
export function withDetach(record: StepJobRecord, reason: string, at = new Date()): StepJobRecord {
  return { ...record, detached: [...(record.detached ?? []), { at: at.toISOString(), reason }] };
}

/** The record marked collected: the job's end was relayed to the Dagster run `runId`. */
export function withCollected(
  record: StepJobRecord,
  state: string | undefined,
  runId: string,
  at = new Date(),
): StepJobRecord {
  return {
    ...record,
    collected: { at: at.toISOString(), ...(state === undefined ? {} : { state }), runId },
  };
}

/** What {@link newJobRecord} builds a record from. */
export interface NewJobRecord {
  jobId: string;
  jobName: string;
  context: StepContext;
  reattachKey: string | undefined;
  layout: RunDirLayout;
  /** When sbatch returned (ms since the epoch); undefined for a job found by name. */
  submittedAt: number | undefined;
}

/** The durable record `job.json` of a job: what a later launch needs to reattach. */
export function newJobRecord(spec: NewJobRecord): StepJobRecord {
  const { context, layout, reattachKey, submittedAt } = spec;
  return {
    jobId: spec.jobId,
    jobName: spec.jobName,
    runId: context.data.run_id,
    ...(reattachKey === undefined ? {} : { reattachKey }),
    step: layout.step,
    assetKeys: context.data.asset_keys,
    partition: context.data.partition_key ?? context.data.partition_key_range,
    runDir: layout.runDir,
    ...(submittedAt === undefined ? {} : { submittedAt: new Date(submittedAt).toISOString() }),
  };
}
