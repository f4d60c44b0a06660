import { basename, dirname, extname, join } from 'node:path';
import { BridgeError } from '../../errors.js';

/** Options of {@link bundleNodePayload}. */
export interface BundleOptions {
  /** Export conditions for resolving packages. @default those the bridge runs with (`--conditions=…`) */
  conditions?: readonly string[];
}

// Lets bundled CommonJS dependencies `require()` Node's built-in modules from ESM.
const REQUIRE_SHIM =
  "import { createRequire as __slurmPipesCreateRequire } from 'node:module';\nconst require = __slurmPipesCreateRequire(import.meta.url);";

/** The `--conditions` the bridge itself runs with, so the payload resolves packages the same way. */
export function currentConditions(execArgv: readonly string[] = process.execArgv): string[] {
  const conditions: string[] = [];
  for (const [index, arg] of execArgv.entries()) {
    if (arg.startsWith('--conditions=')) conditions.push(arg.slice('--conditions='.length));
    else if ((arg === '--conditions' || arg === '-C') && execArgv[index + 1] !== undefined)
      conditions.push(execArgv[index + 1] as string);
  }
  return conditions;
}

/**
 * Bundles a JavaScript or TypeScript payload and everything it imports into one ES module (with
 * an inline source map), so the cluster needs only `node`: no tsx, no node_modules. The output is
 * deterministic for the same sources, so the content-addressed upload is skipped when nothing
 * changed.
 * @returns the bundle's text and its file name (`<payload>.mjs`).
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when esbuild is missing or the payload does not build.
 */
export async function bundleNodePayload(
  entry: string,
  options: BundleOptions = {},
): Promise<{ name: string; code: Buffer }> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (cause) {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      'Slurm mode bundles JavaScript/TypeScript payloads with esbuild, which cannot be loaded. Install it next to slurm-pipes (npm install esbuild).',
      { cause },
    );
  }
  const name = `${basename(entry, extname(entry))}.mjs`;
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      // Never written; fixes the source map's relative paths so the bundle is reproducible.
      outfile: join(dirname(entry), name),
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node18',
      conditions: [...(options.conditions ?? currentConditions())],
      sourcemap: 'inline',
      banner: { js: REQUIRE_SHIM },
      legalComments: 'none',
      logLevel: 'silent',
    });
    const output = result.outputFiles[0];
    if (output === undefined) throw new Error('esbuild produced no output');
    return { name, code: Buffer.from(output.contents) };
  } catch (cause) {
    const errors = (
      cause as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }
    ).errors;
    const details =
      errors
        ?.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
        .join('\n  ') ?? (cause as Error).message;
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `Could not bundle the payload ${entry} for the cluster:\n  ${details}\nFix the import, or install the missing package where the payload lives.`,
      { cause },
    );
  }
}
