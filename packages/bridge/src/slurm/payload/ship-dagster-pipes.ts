import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import type { RemoteTransport } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';

const execFileAsync = promisify(execFile);

const FIND_PACKAGE = 'import dagster_pipes, os; print(os.path.dirname(dagster_pipes.__file__))';

/**
 * Finds the local `dagster_pipes` package with `python`.
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when that python cannot import it.
 */
export async function findLocalDagsterPipes(python: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(python, ['-c', FIND_PACKAGE], { timeout: 30_000 });
    const dir = stdout.trim();
    if (dir === '') throw new Error('printed nothing');
    return dir;
  } catch (cause) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `The cluster's Python cannot import dagster_pipes, and the local Python (${python}) has none to ship either: ${(cause as Error).message.split('\n')[0]}. Fix: pip install dagster-pipes on the cluster, or into the local Python (local.python / SLURM_PIPES_PYTHON).`,
      { cause },
    );
  }
}

/** The `.py` files of a package directory, relative to its parent (e.g. `dagster_pipes/__init__.py`), sorted. */
export async function packageSourceFiles(
  packageDir: string,
): Promise<Array<{ local: string; relative: string }>> {
  const entries = await readdir(packageDir, { recursive: true, withFileTypes: true });
  const parent = join(packageDir, '..');
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.py'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.split(sep).includes('__pycache__'))
    .map((local) => ({ local, relative: relative(parent, local).split(sep).join('/') }))
    .sort((a, b) => (a.relative < b.relative ? -1 : 1));
}

// Assembles the package under "$1" from (relative path, cached file) pairs, atomically: a
// concurrent step building the same tree loses the rename race harmlessly.
const ASSEMBLE = `set -eu
umask 077
dest=$1
shift
[ -d "$dest" ] && exit 0
tmp="$dest.tmp.$$"
mkdir -p -- "$tmp"
while (($#)); do
  mkdir -p -- "$tmp/$(dirname -- "$1")"
  ln -f -- "$2" "$tmp/$1" 2>/dev/null || cp -f -- "$2" "$tmp/$1"
  shift 2
done
mv -T -- "$tmp" "$dest" 2>/dev/null || rm -rf -- "$tmp"`;

/**
 * Ships the host's `dagster_pipes` to the cluster: its `.py` files go into the content-addressed
 * cache, and one directory per distinct set of files, `<cache>/python/<hash>/dagster_pipes/`, is
 * assembled from them. Nothing is sent when that directory already exists.
 * @returns the directory to put in front of `PYTHONPATH`.
 */
export async function shipDagsterPipes(
  transport: RemoteTransport,
  localPackageDir: string,
  cacheDir: string,
  signal: AbortSignal | undefined,
): Promise<{ pythonPath: string; uploaded: number }> {
  const files = await packageSourceFiles(localPackageDir);
  const tree = createHash('sha256');
  const hashed = await Promise.all(
    files.map(async (file) => {
      const digest = createHash('sha256')
        .update(await readFile(file.local))
        .digest('hex');
      return { ...file, digest };
    }),
  );
  for (const file of hashed) tree.update(`${file.relative}\0${file.digest}\n`);
  const pythonPath = posix.join(cacheDir, 'python', tree.digest('hex').slice(0, 16));
  const withSignal = signal === undefined ? {} : { signal };
  if ((await transport.stat(pythonPath, withSignal))?.isDirectory === true)
    return { pythonPath, uploaded: 0 };

  const uploads = await Promise.all(
    hashed.map((file) => transport.uploadFile(file.local, cacheDir, { mode: 0o600, ...withSignal })),
  );
  const args = hashed.flatMap((file, index) => [
    file.relative,
    (uploads[index] as { remotePath: string }).remotePath,
  ]);
  const result = await transport.exec(
    ['bash', '--noprofile', '--norc', '-c', ASSEMBLE, 'slurm-pipes', pythonPath, ...args],
    {
      timeoutMs: 60_000,
      ...withSignal,
    },
  );
  if (result.exitCode !== 0) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `Could not install the shipped dagster_pipes under ${pythonPath} on the cluster: ${result.stderr.trim()}.`,
    );
  }
  return { pythonPath, uploaded: uploads.filter((upload) => upload.uploaded).length };
}
