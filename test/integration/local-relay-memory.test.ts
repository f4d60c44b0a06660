// The bridge relays a million messages with memory that does not grow with the stream: it must
// finish under a V8 heap limit far below what holding the stream would take (~600 MB).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/python.js';

describe('local relay memory', () => {
  it('relays 1,000,000 messages in order under a 48 MB heap limit', async () => {
    const child = spawn(
      process.execPath,
      [
        '--max-old-space-size=48',
        '--conditions=@slurm-pipes/source',
        '--import',
        'tsx',
        'packages/bridge/src/cli.ts',
        'run',
        '--json',
        '--asset-key',
        'flood',
        '--',
        'test/fixtures/workers/flood.ts',
        '1000000',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let logs = 0;
    let inOrder = true;
    let summary: Record<string, unknown> | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const event = JSON.parse(line) as {
        event: string;
        message?: { method: string; params: { message: string } };
      };
      if (event.event === 'summary') summary = event as never;
      else if (event.message?.method === 'log') {
        inOrder &&= event.message.params.message.startsWith(`message ${logs} `);
        logs++;
      }
    }
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/heap out of memory/i);
    expect(code).toBe(0);
    expect(logs).toBe(1_000_000);
    expect(inOrder).toBe(true);
    expect(summary).toMatchObject({ ok: true, materializations: 1 });
  }, 300_000);
});
