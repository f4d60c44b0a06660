import { describe, expect, it } from 'vitest';
import { StopRequested } from '../../src/run/stop-request.js';
import { decideOnAbort } from '../../src/slurm/cancellation-policy.js';
import { uniqueJobName } from '../../src/slurm/reattach/job-record.js';

describe('decideOnAbort', () => {
  it.each([
    [new StopRequested('SIGINT'), 'cancel-job'],
    [new StopRequested('SIGTERM'), 'detach'],
    [new Error('anything else'), 'cancel-job'],
    [undefined, 'cancel-job'],
  ])('%s → %s', (reason, decision) => {
    expect(decideOnAbort(reason)).toBe(decision);
  });
});

describe('uniqueJobName', () => {
  it('keeps the step and adds a random token, different per launch', () => {
    const a = uniqueJobName('demo.asset-0123456789');
    const b = uniqueJobName('demo.asset-0123456789');
    expect(a).toMatch(/^slurm-pipes-demo\.asset-0123456789-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });
});
