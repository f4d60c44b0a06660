import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { bundleNodePayload } from '../../src/slurm/payload/bundle-node-payload.js';
import { repoRoot } from '../helpers.js';

describe('bundleNodePayload, run away from node_modules', () => {
  it('makes one file that runs with plain node in a directory with no node_modules above it', async () => {
    const bundle = await bundleNodePayload(join(repoRoot, 'examples/hello-worker.ts'), {
      conditions: ['@slurm-pipes/source'],
    });
    const isolated = mkdtempSync(join(tmpdir(), 'isolated-'));
    writeFileSync(join(isolated, bundle.name), bundle.code);
    const out = execFileSync(process.execPath, [join(isolated, bundle.name)], {
      cwd: isolated,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toBe('');
    expect(bundle.code.length).toBeGreaterThan(10_000);
  });

  it('names the missing import when a dependency is not installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broken-worker-'));
    writeFileSync(join(dir, 'w.ts'), "import 'no-such-package-xyz';\n");
    const error = await bundleNodePayload(join(dir, 'w.ts')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).code).toBe('ERR_BRIDGE_PAYLOAD');
    expect((error as BridgeError).message).toContain('no-such-package-xyz');
  });
});
