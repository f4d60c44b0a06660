import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildPipesContextData, openPipesSession } from '../../src/index.js';

// A child that writes n log messages and opened/closed through the file channel, with plain node.
const WRITER = `
const fs = require('node:fs'); const zlib = require('node:zlib');
const params = JSON.parse(zlib.inflateSync(Buffer.from(process.env.DAGSTER_PIPES_MESSAGES, 'base64')).toString());
const n = Number(process.argv[1]);
const line = (method, p) => JSON.stringify({ __dagster_pipes_version: '0.1', method, params: p }) + '\\n';
fs.appendFileSync(params.path, line('opened', { extras: {} }));
let chunk = '';
for (let i = 0; i < n; i++) {
  chunk += line('log', { message: 'm' + i, level: 'INFO' });
  if (chunk.length > 1 << 16) { fs.appendFileSync(params.path, chunk); chunk = ''; }
}
fs.appendFileSync(params.path, chunk + line('report_asset_materialization', { asset_key: 'a', data_version: null, metadata: null }) + line('closed', {}));
`;

describe('a streaming session', () => {
  it('yields every event once, in order, keeps counts only, and refuses a second iteration', async () => {
    const n = 20_000;
    const session = await openPipesSession({
      context: buildPipesContextData({ assetKeys: [['a']] }),
      injector: 'file',
      reader: 'file',
      streaming: true,
    });
    let next = 0;
    let ordered = true;
    const reading = (async () => {
      for await (const e of session.events()) {
        if (e.kind === 'message' && e.message.method === 'log')
          ordered &&= e.message.params.message === `m${next++}`;
      }
    })();
    const child = spawn(process.execPath, ['-e', WRITER, String(n)], {
      env: { ...process.env, ...session.bootstrapEnv() },
    });
    await new Promise((resolve) => child.on('close', resolve));
    const results = await session.close();
    await reading;
    expect(next).toBe(n);
    expect(ordered).toBe(true);
    expect(results.counts).toMatchObject({ messages: n + 3, logs: n, materializations: 1 });
    expect(results.logs).toEqual([]);
    expect(results.closed).toEqual({ exception: null });
    expect(results.warnings).toEqual([]);
    await expect(async () => {
      for await (const _ of session.events()) break;
    }).rejects.toThrow(/iterated only once/);
  });
});
