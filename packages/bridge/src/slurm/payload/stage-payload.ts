import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix, resolve } from 'node:path';
import type { RemoteTransport, UploadResult } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';
import type { PayloadCommand } from '../../payload/payload-command.js';
import type { RunDirLink } from '../remote-files.js';
import { bundleNodePayload } from './bundle-node-payload.js';
import { ensureRemoteNode, remoteHasDagsterPipes } from './remote-runtime.js';
import { findLocalDagsterPipes, shipDagsterPipes } from './ship-dagster-pipes.js';
import { formatBytes, uploadProgressLogger } from './upload-progress.js';

/** Options of {@link stagePayload}. */
export interface StagePayloadOptions {
  transport: RemoteTransport;
  payload: PayloadCommand;
  /** Local files the payload needs next to it (`extra_files`), relative to the current directory. */
  extraFiles: readonly string[];
  /** `<remoteBase>/cache`. */
  cacheDir: string;
  /** Python on the cluster. */
  remotePython: string;
  /** Node.js on the cluster. */
  remoteNode: string;
  /** Local Python whose `dagster_pipes` is shipped when the cluster has none. */
  localPython: string;
  /** Export conditions for bundling JavaScript/TypeScript payloads. @default the bridge's own `--conditions` */
  nodeConditions?: readonly string[] | undefined;
  signal: AbortSignal | undefined;
  log: (line: string) => void;
}

/** A payload whose files are in the remote cache, ready to be linked into a run directory. */
export interface StagedPayload {
  /** Cached files and their names in the run directory; the payload first. */
  links: RunDirLink[];
  /** Directories to put in front of `PYTHONPATH` in the job. */
  pythonPath: string[];
  /** The command the job runs, for a given run directory. */
  argv(runDir: string): string[];
}

/**
 * Files of the run directory that payload and extra files must not replace: what the job and the
 * bridge write there (remote-files.ts, submit-step.ts) and the step's reattach records and lock
 * (reattach/): `submit.json`, `job.json`, earlier jobs' `job.<id>.json`, and `.lock`.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'context.json',
  'context.json.tmp',
  'job.sh',
  'job.json',
  'submit.json',
  '.lock',
  'messages.jsonl',
  'stdout',
  'stderr',
]);

// job.<id>.json (an earlier job's record, `job.previous.json` when its id was unreadable), and the
// temporary names `<file>.tmp.<pid>` that atomic writes of the files above go through.
const RESERVED_PATTERN = /^(job\.([0-9_]+|previous)\.json|(job\.sh|job\.json|submit\.json)\.tmp\.\d+)$/;

/** True when `name` is a file slurm-pipes keeps in the run directory (see {@link RESERVED_NAMES}). */
export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name) || RESERVED_PATTERN.test(name);
}

/** The arguments after the payload file in its local argv. */
export function payloadArgs(payload: PayloadCommand): string[] {
  const at = payload.argv.indexOf(payload.path);
  return at === -1 ? [] : payload.argv.slice(at + 1);
}

/**
 * Checks that the payload and extra files can sit side by side in the run directory without
 * replacing each other or a file slurm-pipes keeps there; returns the extra files' absolute paths.
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` for a payload named like such a file,
 *   `ERR_BRIDGE_CONFIG` for an extra file that clashes; each names the file and the fix.
 */
export function checkNames(payloadName: string, extraFiles: readonly string[]): string[] {
  if (isReservedName(payloadName)) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `The payload would land in the run directory as ${JSON.stringify(payloadName)}, which is a file slurm-pipes writes there. Rename the payload.`,
    );
  }
  const names = new Map<string, string>([[payloadName, 'the payload']]);
  const locals = extraFiles.map((file) => resolve(file));
  for (const local of locals) {
    const name = basename(local);
    const clash = isReservedName(name) ? 'a file slurm-pipes writes' : names.get(name);
    if (clash !== undefined) {
      throw new BridgeError(
        'ERR_BRIDGE_CONFIG',
        `extra file ${local} would land in the run directory as ${JSON.stringify(name)}, which is already ${clash}. Extra files are placed next to the payload by base name; rename it.`,
      );
    }
    names.set(name, local);
  }
  return locals;
}

/**
 * Puts the payload and its extra files into the remote content-addressed cache (skipping files
 * already there), checks the runtime the payload needs on the cluster, and says how to start it:
 * - Python: `python3 -u <payload>`; when the cluster's Python lacks `dagster_pipes`, the host's
 *   copy is shipped and put on `PYTHONPATH`;
 * - JavaScript/TypeScript: bundled with its imports into one ES module, run with the cluster's
 *   `node`, or with this machine's Node shipped into the cache when the cluster has none;
 * - other executables: run as they are.
 * Long uploads log their progress.
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when the cluster lacks the runtime or the payload is
 *   named like a file slurm-pipes keeps in the run directory, `ERR_BRIDGE_CONFIG` for clashing
 *   extra file names.
 */
export async function stagePayload(options: StagePayloadOptions): Promise<StagedPayload> {
  const { transport, payload, signal, log } = options;
  const withSignal = signal === undefined ? {} : { signal };
  const scratch = await mkdtemp(join(tmpdir(), 'slurm-pipes-stage-'));
  try {
    let payloadFile = payload.path;
    let payloadName = basename(payload.path);
    const pythonPath: string[] = [];
    let runtime: Promise<unknown> = Promise.resolve();
    let remoteNode = options.remoteNode;
    if (payload.kind === 'python') {
      runtime = (async () => {
        if (await remoteHasDagsterPipes(transport, options.remotePython, signal)) return;
        const local = await findLocalDagsterPipes(options.localPython);
        const shipped = await shipDagsterPipes(transport, local, options.cacheDir, signal);
        log(
          `${options.remotePython} on the cluster has no dagster_pipes; using the host's copy from ${local}` +
            (shipped.uploaded > 0 ? ` (${shipped.uploaded} file(s) uploaded)` : ' (cached)'),
        );
        pythonPath.push(shipped.pythonPath);
      })();
    } else if (payload.kind === 'node' || payload.kind === 'typescript') {
      runtime = ensureRemoteNode(transport, options.remoteNode, options.cacheDir, signal, log).then(
        (path) => {
          remoteNode = path;
        },
      );
      const bundle = await bundleNodePayload(
        payload.path,
        options.nodeConditions === undefined ? {} : { conditions: options.nodeConditions },
      );
      payloadName = bundle.name;
      payloadFile = join(scratch, bundle.name);
      await writeFile(payloadFile, bundle.code, { mode: 0o600 });
    }
    // Awaited below; until then a throw (a bad bundle, a clashing name) must not leave it unhandled.
    runtime.catch(() => undefined);
    const extraLocals = checkNames(payloadName, options.extraFiles);
    const upload = (local: string, name: string, mode: number): Promise<UploadResult> =>
      transport.uploadFile(local, options.cacheDir, {
        name,
        mode,
        onProgress: uploadProgressLogger(name, log),
        ...withSignal,
      });
    const [, ...uploads] = await Promise.all([
      runtime,
      upload(payloadFile, payloadName, payload.kind === 'command' ? 0o700 : 0o600),
      ...extraLocals.map((local) => upload(local, basename(local), 0o600)),
    ]);
    const sent = uploads.filter((u) => u.uploaded);
    log(
      `staged ${uploads.length} file(s) in ${options.cacheDir}: ${sent.length} uploaded` +
        (sent.length > 0 ? ` (${formatBytes(sent.reduce((sum, u) => sum + u.size, 0))})` : '') +
        `, ${uploads.length - sent.length} unchanged`,
    );
    const names = [payloadName, ...extraLocals.map((local) => basename(local))];
    const links = uploads.map((u, index) => ({ source: u.remotePath, name: names[index] as string }));
    const args = payloadArgs(payload);
    return {
      links,
      pythonPath,
      argv(runDir) {
        const file = posix.join(runDir, payloadName);
        switch (payload.kind) {
          case 'python':
            return [options.remotePython, '-u', file, ...args];
          case 'node':
          case 'typescript':
            return [remoteNode, '--enable-source-maps', file, ...args];
          case 'command':
            return [file, ...args];
        }
      },
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
