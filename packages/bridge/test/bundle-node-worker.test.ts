import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../src/errors.js';
import { bundleNodeWorker } from '../src/payload/bundle-node-worker.js';
import { repoRoot } from './helpers.js';

describe('bundleNodeWorker', () => {
  it('makes one file that runs with plain node, away from node_modules', async () => {
    const bundle = await bundleNodeWorker(join(repoRoot, 'examples/hello-worker.ts'), {
      conditions: ['@slurm-pipes/source'],
    });
    // Run it from a directory with no node_modules anywhere above it.
    const isolated = mkdtempSync(join(tmpdir(), 'isolated-'));
    cpSync(bundle.path, join(isolated, 'w.mjs'));
    const out = execFileSync(process.execPath, [join(isolated, 'w.mjs')], {
      cwd: isolated,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toBe('');
    expect(bundle.size).toBeGreaterThan(10_000);
  });

  it('names the missing import when a dependency is not installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broken-worker-'));
    writeFileSync(join(dir, 'w.ts'), "import 'no-such-package-xyz';\n");
    const error = await bundleNodeWorker(join(dir, 'w.ts')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).message).toContain('no-such-package-xyz');
    expect((error as BridgeError).code).toBe('ERR_BRIDGE_PAYLOAD');
  });
});
