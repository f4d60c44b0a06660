// Bundles the slurm-pipes CLI into one file, packages/bridge/dist/slurm-pipes.js: the `bin` of
// @slurm-pipes/bridge, what `npm start`, the Python package and the benchmark run. Loading one
// file instead of ~150 modules halves the bridge's start-up (about 100 ms instead of 190 ms on
// the benchmark machine), which every Dagster step pays. ssh2 and ws (optional native add-ons),
// esbuild (a binary) and tsx (a loader found by path) stay external and resolve from
// node_modules; the rest, zod included, is inlined. Run by `npm run build` and
// scripts/ensure-node-deps.sh after `tsc -b`.
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const repo = join(import.meta.dirname, '..');
const outfile = join(repo, 'packages/bridge/dist/slurm-pipes.js');

await build({
  entryPoints: [join(repo, 'packages/bridge/src/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The workspaces' TypeScript sources, as the tests use them; no dist of theirs is needed.
  conditions: ['@slurm-pipes/source'],
  external: ['ssh2', 'ws', 'esbuild', 'tsx'],
  legalComments: 'none',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
