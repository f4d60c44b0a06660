import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { build } from 'esbuild';
import { BridgeError } from '../errors.js';

/** Options for {@link bundleNodeWorker}. */
export interface BundleNodeWorkerOptions {
  /** Extra resolve conditions (the bridge passes its own `--conditions`). @default [] */
  conditions?: string[];
  /** Directory for the bundle. @default a new private temp dir */
  outDir?: string;
}

/** A self-contained worker file. */
export interface NodeWorkerBundle {
  /** Path of the bundle (`<name>.bundle.mjs`). */
  path: string;
  /** Size in bytes. */
  size: number;
}

/**
 * Bundles a Node/TypeScript worker and its npm dependencies into one ESM file, so a cluster needs
 * only a Node runtime to run it (no `npm install`, no TypeScript loader on the compute node).
 * Node built-ins stay imports; native addons (`.node`) cannot be bundled and fail with an error
 * that names them.
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when esbuild cannot bundle the worker.
 */
export async function bundleNodeWorker(
  workerPath: string,
  options: BundleNodeWorkerOptions = {},
): Promise<NodeWorkerBundle> {
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'slurm-pipes-bundle-')));
  const out = join(outDir, `${basename(workerPath, extname(workerPath))}.bundle.mjs`);
  try {
    await build({
      entryPoints: [workerPath],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: options.conditions ?? [],
      sourcemap: 'inline',
      logLevel: 'silent',
      // Bundled CommonJS dependencies may call require(); give ESM output a real one.
      banner: {
        js: "import { createRequire as __spCreateRequire } from 'node:module'; const require = __spCreateRequire(import.meta.url);",
      },
    });
  } catch (cause) {
    const errors =
      (cause as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> })
        .errors ?? [];
    const detail = errors
      .map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`)
      .join('\n');
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `Cannot bundle the Node worker ${workerPath} for the cluster:\n${detail || (cause as Error).message}\nInstall its dependencies (npm install) next to it; native addons must be pre-deployed on the cluster instead.`,
      { cause },
    );
  }
  return { path: out, size: (await stat(out)).size };
}
