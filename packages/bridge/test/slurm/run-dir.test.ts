import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hashedComponent,
  partitionComponent,
  runComponent,
  runDirLayout,
  stepComponent,
} from '../../src/slurm/run-dir.js';

const base = {
  runId: '4e7f0b6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  assetKeys: ['example/hello'],
  partitionKey: null,
  partitionKeyRange: null,
  jobName: '__ASSET_JOB',
  payload: ['/src/payload.py'],
};

const SAFE_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

describe('runDirLayout', () => {
  it('names <base>/runs/<run>/<step> from the run id and asset keys', () => {
    const layout = runDirLayout('/home/u/.slurm-pipes', base);
    expect(layout.run).toBe(base.runId);
    expect(layout.step).toMatch(/^example\.hello-[0-9a-f]{10}$/);
    expect(layout.partition).toBeUndefined();
    expect(layout.runDir).toBe(`/home/u/.slurm-pipes/runs/${base.runId}/${layout.step}`);
  });

  it('adds a partition directory for a partition key or a key range', () => {
    const key = runDirLayout('/b', { ...base, partitionKey: '2026-11-01' });
    expect(key.partition).toMatch(/^2026-11-01-[0-9a-f]{10}$/);
    expect(key.runDir.endsWith(`/${key.step}/${key.partition}`)).toBe(true);
    const range = runDirLayout('/b', { ...base, partitionKeyRange: { start: 'a', end: 'c' } });
    expect(range.partition).toMatch(/^a\.\.c-[0-9a-f]{10}$/);
  });

  it('sanitises hostile keys into one safe component each', () => {
    for (const key of ['../../etc/passwd', 'a b/$(id)/`x`', 'ü/ñ\n\0', '-rf', '.hidden', '']) {
      const step = stepComponent({ assetKeys: [key], jobName: null, payload: [] });
      expect(step, JSON.stringify(key)).toMatch(SAFE_COMPONENT);
      expect(step).not.toContain('/');
      const partition = partitionComponent({ partitionKey: key, partitionKeyRange: null }) as string;
      expect(partition).toMatch(SAFE_COMPONENT);
    }
    expect(stepComponent({ assetKeys: ['ü/ñ'], jobName: null, payload: [] })).toMatch(/^u\.n-/);
  });

  it('keeps keys apart that sanitise alike', () => {
    const a = stepComponent({ assetKeys: ['a/b'], jobName: null, payload: [] });
    const b = stepComponent({ assetKeys: ['a.b'], jobName: null, payload: [] });
    const c = stepComponent({ assetKeys: ['a', 'b'], jobName: null, payload: [] });
    expect(new Set([a, b, c]).size).toBe(3);
    const p1 = partitionComponent({ partitionKey: 'x y', partitionKeyRange: null });
    const p2 = partitionComponent({ partitionKey: 'x_y', partitionKeyRange: null });
    expect(p1).not.toBe(p2);
  });

  it('never gives two distinct asset key sets the same component (property)', () => {
    const keys = fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(keys, keys, (x, y) => {
        fc.pre(JSON.stringify([...x].sort()) !== JSON.stringify([...y].sort()));
        const sx = stepComponent({ assetKeys: x, jobName: null, payload: [] });
        const sy = stepComponent({ assetKeys: y, jobName: null, payload: [] });
        expect(sx).not.toBe(sy);
        expect(sx).toMatch(SAFE_COMPONENT);
      }),
    );
  });

  it('orders asset keys, so the same selection names the same directory', () => {
    expect(stepComponent({ assetKeys: ['b', 'a'], jobName: null, payload: [] })).toBe(
      stepComponent({ assetKeys: ['a', 'b'], jobName: null, payload: [] }),
    );
  });

  it('names op steps by job name and payload', () => {
    const one = stepComponent({ assetKeys: null, jobName: 'etl', payload: ['/x/train.py', '--a'] });
    const two = stepComponent({ assetKeys: null, jobName: 'etl', payload: ['/x/train.py', '--b'] });
    expect(one).toMatch(/^op\.etl\.train-[0-9a-f]{10}$/);
    expect(one).not.toBe(two);
  });

  it('keeps safe run ids and hashes the others', () => {
    expect(runComponent('abc-123')).toBe('abc-123');
    expect(runComponent('../x')).toMatch(/^x-[0-9a-f]{10}$/);
    expect(runComponent('a'.repeat(101))).toMatch(/-[0-9a-f]{10}$/);
  });

  it('cuts long labels but keeps the hash', () => {
    const component = hashedComponent('k'.repeat(500), 'id');
    expect(component.length).toBeLessThanOrEqual(80 + 11);
    expect(component).toMatch(/^k+-[0-9a-f]{10}$/);
  });
});
