import { TIMEOUT_SIGNAL_ENV, TIMEOUT_SIGNAL_SECONDS_ENV } from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { buildBashLauncher } from '../../src/slurm/launchers/bash-launcher.js';
import { timeoutSignalEnv } from '../../src/slurm/launchers/timeout-signal-env.js';

describe('timeoutSignalEnv', () => {
  it('names the signal as Node and Python spell it, with the lead time', () => {
    expect(timeoutSignalEnv({ signal: 'USR1', seconds: 300 })).toEqual({
      [TIMEOUT_SIGNAL_ENV]: 'SIGUSR1',
      [TIMEOUT_SIGNAL_SECONDS_ENV]: '300',
    });
    expect(timeoutSignalEnv({ signal: '10', seconds: 60 })[TIMEOUT_SIGNAL_ENV]).toBe('10');
  });

  it('is empty without signal_before_timeout', () => {
    expect(timeoutSignalEnv(undefined)).toEqual({});
  });

  it('reaches the payload: exported after extra_env, before the exec that makes the payload the batch shell', () => {
    const script = buildBashLauncher({
      runDir: '/r',
      payloadEnv: { [TIMEOUT_SIGNAL_ENV]: 'SIGTERM' },
      bootstrapEnv: timeoutSignalEnv({ signal: 'USR2', seconds: 30 }),
      argv: ['python3', 'p.py'],
    });
    const lines = script.split('\n');
    const exported = lines.lastIndexOf('export SLURM_PIPES_TIMEOUT_SIGNAL=SIGUSR2');
    expect(exported).toBeGreaterThan(lines.indexOf('export SLURM_PIPES_TIMEOUT_SIGNAL=SIGTERM'));
    expect(lines).toContain('export SLURM_PIPES_TIMEOUT_SIGNAL_SECONDS=30');
    expect(lines.findIndex((l) => l.startsWith('exec '))).toBeGreaterThan(exported);
  });
});
