// Bad input from a payload in local mode: malformed, truncated, oversized (10 MiB), unknown and
// invalid-metadata message lines. A Pipes host session plays Dagster and launches the real CLI;
// every bad line must come back as an ERROR log naming the line and the problem, and every valid
// message written before and after it must still reach the host, in order. The same payload runs
// as a Slurm job in test/integration/bad-input.test.ts, with the same expectations.
import { describe, expect, it } from 'vitest';
import {
  expectBadLinesReported,
  expectTruncatedKept,
} from '../../../test/fixtures/hostile/bad-lines-expectations.js';
import { hostileFixture, runBridgeUnderHost } from '../../../test/fixtures/hostile/run-under-host.js';
import { venvPython } from '../../../test/helpers/python.js';

describe('bad message lines from a local payload', () => {
  it('reports each bad line as an ERROR log and relays every valid message around it', async () => {
    const run = await runBridgeUnderHost({
      args: ['--python', venvPython(), '--', hostileFixture('bad_lines.py'), 'bad'],
    });
    expect(run.code, run.stderr).toBe(0);
    expectBadLinesReported(run);
  });

  it('keeps what a payload reported before it died in the middle of writing a message', async () => {
    const run = await runBridgeUnderHost({
      args: ['--python', venvPython(), '--', hostileFixture('bad_lines.py'), 'truncated'],
    });
    expectTruncatedKept(run);
    expect(run.code).toBe(128 + 9);
    expect(run.closedMessage).toContain('bad_lines.py was ended by SIGKILL without reporting an exception');
    expect(run.closedMessage).toContain('see its stderr above');
  });
});
