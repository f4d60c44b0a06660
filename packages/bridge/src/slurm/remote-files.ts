import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../errors.js';

/** Options of the remote file helpers. */
export interface RemoteFileCallOptions {
  signal?: AbortSignal | undefined;
  /** @default 60000 */
  timeoutMs?: number;
}

/** Options of {@link writeRemoteFile}. */
export interface WriteRemoteFileOptions extends RemoteFileCallOptions {
  /**
   * Flush the file to disk (`sync`) before renaming it into place, for records a later launch
   * relies on (`job.json`, `submit.json`): after a crash of the login node it is either the old
   * file or the whole new one.
   * @default false
   */
  durable?: boolean;
}

// The scripts below get every path and value as positional arguments ("$1"…), never inside the
// script text, so no path can run code.

// Writes stdin to "$1" with mode "$2" under a temporary name, then renames it into place; with
// "$3" = 1 the file is flushed first (sync with a file operand needs coreutils 8.24; older ones
// skip it rather than flush the whole machine: the rename alone keeps the file whole).
const WRITE_FILE = `set -eu
umask 077
mkdir -p -- "$(dirname -- "$1")"
tmp="$1.tmp.$$"
cat > "$tmp"
chmod "$2" "$tmp"
if [ "$3" = 1 ]; then sync -- "$tmp" 2>/dev/null || true; fi
mv -f -- "$tmp" "$1"`;

// Creates the run dir "$1" (0700 through the umask), empties the files the job appends to, writes
// stdin to context.json, keeps the record of the step's previous job as job.<id>.json (only ever
// reached for a job already collected: see reattach/launch-plan.ts) and drops its submit.json,
// then links each cached file "$2k" as "$2k+1".
const PREPARE_RUN_DIR = `set -eu
umask 077
mkdir -p -- "$1"
cd -- "$1"
shift
: > messages.jsonl
: > stdout
: > stderr
if [ -e job.json ]; then
  id=$(sed -n 's/^ *"jobId": *"\\([0-9_]*\\)".*/\\1/p' job.json | head -n 1)
  mv -f job.json "job.\${id:-previous}.json"
fi
rm -f submit.json
cat > context.json.tmp
mv -f context.json.tmp context.json
while (($#)); do
  ln -f -- "$1" "$2" 2>/dev/null || cp -f -- "$1" "$2"
  shift 2
done`;

// Prints the size of each file, 0 for a missing one.
const FILE_SIZES = `for f; do if [ -e "$f" ]; then stat -L -c %s -- "$f"; else echo 0; fi; done`;

async function runScript(
  executor: RemoteExecutor,
  what: string,
  script: string,
  args: readonly string[],
  options: RemoteFileCallOptions & { stdin?: string | Buffer },
): Promise<string> {
  const result = await executor.exec(
    ['bash', '--noprofile', '--norc', '-c', script, 'slurm-pipes', ...args],
    {
      timeoutMs: options.timeoutMs ?? 60_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    },
  );
  if (result.exitCode !== 0) {
    throw new BridgeError(
      'ERR_BRIDGE_RELAY',
      `Could not ${what} on the cluster (exit code ${result.exitCode ?? `signal ${result.signal}`}): ${result.stderr.trim() || '(no error output)'}. Check that the remote base directory is writable and the file system is not full.`,
    );
  }
  return result.stdout;
}

/**
 * Writes `content` to `path` on the cluster with `mode` (through exec with stdin, atomically:
 * temporary name, then rename), creating the parent directories 0700.
 * @throws {BridgeError} `ERR_BRIDGE_RELAY` when the remote command fails.
 */
export async function writeRemoteFile(
  executor: RemoteExecutor,
  path: string,
  content: string | Buffer,
  mode: number,
  options: WriteRemoteFileOptions = {},
): Promise<void> {
  const { durable, ...call } = options;
  await runScript(executor, `write ${path}`, WRITE_FILE, [path, mode.toString(8), durable ? '1' : '0'], {
    ...call,
    stdin: content,
  });
}

/** A cached file to link into the run directory under `name`. */
export interface RunDirLink {
  /** Absolute path in the remote cache. */
  source: string;
  /** Plain file name inside the run directory. */
  name: string;
}

/**
 * Prepares a step's run directory in one remote command: creates it (0700), empties
 * messages.jsonl, stdout and stderr (0600), writes `contextJson` to context.json (0600), renames
 * the previous job's `job.json` to `job.<id>.json`, removes `submit.json`, and hard-links (or
 * copies) the cached payload and extra files into it. Call it only while holding the step's lock.
 * @throws {BridgeError} `ERR_BRIDGE_RELAY` when the remote command fails.
 */
export async function prepareRunDir(
  executor: RemoteExecutor,
  runDir: string,
  contextJson: string,
  links: readonly RunDirLink[],
  options: RemoteFileCallOptions = {},
): Promise<void> {
  const args = [runDir, ...links.flatMap((link) => [link.source, link.name])];
  await runScript(executor, `prepare the run directory ${runDir}`, PREPARE_RUN_DIR, args, {
    ...options,
    stdin: contextJson,
  });
}

/** Sizes in bytes of remote files (0 for missing ones), with one command. */
export async function remoteFileSizes(
  executor: RemoteExecutor,
  paths: readonly string[],
  options: RemoteFileCallOptions = {},
): Promise<number[]> {
  const stdout = await runScript(executor, 'read file sizes', FILE_SIZES, paths, options);
  const sizes = stdout.trim().split('\n').map(Number);
  if (sizes.length !== paths.length || sizes.some((size) => !Number.isSafeInteger(size))) {
    throw new BridgeError(
      'ERR_BRIDGE_RELAY',
      `Unexpected output of stat on the cluster: ${JSON.stringify(stdout)}.`,
    );
  }
  return sizes;
}
