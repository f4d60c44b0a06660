// Invalid or contradictory configuration and missing payloads, as Dagster would launch the
// bridge: a Pipes host session plays Dagster and launches the real CLI. Each case must fail
// before anything runs, with the error's code on stderr, a message naming what was wrong, where
// it came from and the fix, and the same message in the `closed` Dagster receives after the
// bridge's `opened` (nothing it sent is lost). SSH secrets are set in every case and must never
// be echoed. (Slurm cases point at a closed port: they must fail before connecting.)
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { hostileFixture, runBridgeUnderHost } from '../../../test/fixtures/hostile/run-under-host.js';

const SECRETS = {
  SLURM_SSH_PASSWORD: 'pw-5f3a9c-never-shown',
  SLURM_SSH_KEY_PASSPHRASE: 'pp-81b2e7-never-shown',
  SLURM_SSH_OTP: 'otp-4d6e1f-never-shown',
};
const SSH = { SLURM_SSH_HOST: '127.0.0.1', SLURM_SSH_USER: 'nobody', SLURM_SSH_PORT: '1', ...SECRETS };
const payload = hostileFixture('echo_values.py');
const scratch = mkdtempSync(join(tmpdir(), 'bad-input-config-'));
const notExecutable = join(scratch, 'tool');
writeFileSync(notExecutable, '#!/bin/sh\necho never\n');
chmodSync(notExecutable, 0o644);

interface Case {
  name: string;
  args: string[];
  env: Record<string, string>;
  code: string;
  exit: number;
  /** Substrings the message must hold: what happened, where from, and the fix. */
  says: string[];
}

const cases: Case[] = [
  {
    name: 'mem and mem_per_cpu together in extra_slurm_opts',
    args: ['--mode', 'slurm', '--slurm-opt', 'mem=1G', '--slurm-opt', 'mem_per_cpu=512M', '--', payload],
    env: SSH,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['mem ("1G") and mem_per_cpu ("512M") are both set', 'Keep mem for memory per node'],
  },
  {
    name: 'a time limit that is no Slurm time',
    args: ['--mode', 'slurm', '--slurm-opt', 'time_limit=soon', '--', payload],
    env: SSH,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['extra_slurm_opts.time_limit: is not a Slurm time limit, got "soon"', 'e.g. "02:00:00"'],
  },
  {
    name: 'a bare number as time limit',
    args: ['--mode', 'slurm', '--slurm-opt', 'time_limit=90', '--', payload],
    env: SSH,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['extra_slurm_opts.time_limit: must be a string, got 90', '"90:00" for 90 minutes'],
  },
  {
    name: 'a bad queue time limit from SLURM_PIPES_CONFIG_JSON',
    args: ['--mode', 'slurm', '--', payload],
    env: {
      ...SECRETS,
      SLURM_PIPES_CONFIG_JSON: JSON.stringify({
        slurm: { ssh: { host: '127.0.0.1', port: 1, user: 'u' }, queue: { time_limit: '2 hours' } },
      }),
    },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['queue.time_limit: is not a Slurm time limit, got "2 hours"', 'HH:MM:SS'],
  },
  {
    name: 'an unknown extra_slurm_opts key',
    args: ['--mode', 'slurm', '--slurm-opt', 'memory=4G', '--', payload],
    env: SSH,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['unknown key "memory" (value "4G")', 'Did you mean "mem"?', 'Known keys: nodes'],
  },
  {
    name: 'nodes=0',
    args: ['--mode', 'slurm', '--slurm-opt', 'nodes=0', '--', payload],
    env: SSH,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['extra_slurm_opts.nodes: must be a whole number >= 1, got 0'],
  },
  {
    name: 'a memory size without unit',
    args: ['--mode', 'slurm', '--slurm-opt', 'mem=4096', '--', payload],
    env: SSH,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['extra_slurm_opts.mem: must be a string with a unit, got 4096', 'write "4096M"'],
  },
  ...['70000', '0', 'ssh', '22.5'].map(
    (port): Case => ({
      name: `SSH port ${port}`,
      args: ['--mode', 'slurm', '--', payload],
      env: { ...SSH, SLURM_SSH_PORT: port },
      code: 'ERR_BRIDGE_CONFIG',
      exit: 2,
      says: [`slurm.ssh.port = "${port}" (from SLURM_SSH_PORT)`, 'a whole number from 1 to 65535'],
    }),
  ),
  ...[
    ['a newline', 'runs\nx', 'must not contain control characters such as newlines or tabs'],
    ['a backslash', 'C:\\runs', 'must not contain "%" or "\\": sbatch reads them as file name patterns'],
    ['a %j', '/scratch/%j', 'so the job would write its output elsewhere and fail to start'],
  ].map(
    ([what, base, says]): Case => ({
      name: `a remote base with ${what}`,
      args: ['--mode', 'slurm', '--', payload],
      env: { ...SSH, SLURM_PIPES_REMOTE_BASE: base as string },
      code: 'ERR_BRIDGE_CONFIG',
      exit: 2,
      says: [`slurm.remoteBase = ${JSON.stringify(base)} (from SLURM_PIPES_REMOTE_BASE)`, says as string],
    }),
  ),
  {
    name: 'an unknown host key policy',
    args: ['--mode', 'slurm', '--', payload],
    env: { ...SSH, SLURM_SSH_HOST_KEY_CHECKING: 'no' },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: [
      'slurm.ssh.hostKeyPolicy = "no" (from SLURM_SSH_HOST_KEY_CHECKING)',
      '"strict"|"accept-new"|"off"',
    ],
  },
  {
    name: 'a secret of the wrong type (its value hidden)',
    args: ['--mode', 'slurm', '--', payload],
    env: {
      SLURM_PIPES_CONFIG_JSON: JSON.stringify({
        slurm: { ssh: { host: 'h', user: 'u', password: 31337271 } },
      }),
    },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['slurm.ssh.password = <hidden> (from SLURM_PIPES_CONFIG_JSON)', 'expected string'],
  },
  {
    name: 'an unknown mode',
    args: ['--', payload],
    env: { ...SECRETS, SLURM_PIPES_MODE: 'cluster' },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['mode = "cluster" (from SLURM_PIPES_MODE)', '"local"|"slurm"'],
  },
  {
    name: 'Slurm mode without any SSH settings',
    args: ['--mode', 'slurm', '--', payload],
    env: {},
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['Slurm mode needs the login node', 'SLURM_SSH_HOST, SLURM_SSH_USER and SLURM_SSH_KEY'],
  },
  {
    name: 'Slurm mode with SSH secrets but no host or user',
    args: ['--mode', 'slurm', '--', payload],
    env: SECRETS,
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: [
      'slurm.ssh.host is missing, and required by the slurm.ssh settings given (SLURM_SSH_KEY_PASSPHRASE, SLURM_SSH_PASSWORD, SLURM_SSH_OTP). Fix: set SLURM_SSH_HOST, or slurm.ssh.host in the configuration.',
      'slurm.ssh.user is missing',
      'Fix: set SLURM_SSH_USER',
    ],
  },
  {
    name: 'local mode with an incomplete SSH environment',
    args: ['--', payload],
    env: { SLURM_SSH_USER: 'me', ...SECRETS },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: [
      'slurm.ssh.host is missing',
      'Fix: set SLURM_SSH_HOST',
      'This run is in local mode, which does not use the slurm settings',
    ],
  },
  {
    name: 'a misspelt configuration field',
    args: ['--', payload],
    env: { ...SECRETS, SLURM_PIPES_CONFIG_JSON: '{"slurm_opts": {}}' },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['unknown field(s) "slurm_opts"', 'SLURM_PIPES_CONFIG_JSON', 'Check the spelling'],
  },
  {
    name: 'configuration JSON that does not parse',
    args: ['--', payload],
    env: { ...SECRETS, SLURM_PIPES_CONFIG_JSON: '{"mode": ' },
    code: 'ERR_BRIDGE_CONFIG',
    exit: 2,
    says: ['SLURM_PIPES_CONFIG_JSON is not valid JSON'],
  },
  ...(['local', 'slurm'] as const).flatMap((mode): Case[] => [
    {
      name: `a missing payload (${mode} mode)`,
      args: ['--mode', mode, '--', 'no/such/payload.py'],
      env: SSH,
      code: 'ERR_BRIDGE_PAYLOAD',
      exit: 1,
      says: ['no/such/payload.py does not exist', 'Check the path (relative paths resolve against'],
    },
    {
      name: `a directory as payload (${mode} mode)`,
      args: ['--mode', mode, '--', scratch],
      env: SSH,
      code: 'ERR_BRIDGE_PAYLOAD',
      exit: 1,
      says: [`Payload ${scratch} is not a file`],
    },
    {
      name: `a payload that is not executable (${mode} mode)`,
      args: ['--mode', mode, '--', notExecutable],
      env: SSH,
      code: 'ERR_BRIDGE_PAYLOAD',
      exit: 1,
      says: ['is not executable', 'chmod +x'],
    },
    {
      name: `no payload at all (${mode} mode)`,
      args: ['--mode', mode, '--'],
      env: SSH,
      code: 'ERR_BRIDGE_USAGE',
      exit: 2,
      says: ['No payload given', 'Usage: slurm-pipes run'],
    },
  ]),
];

// Concurrent: each case is its own bridge process and Pipes session.
describe.concurrent('bad configuration and payloads under a Pipes host', () => {
  it.for(cases)('$name', async ({ args, env, code, exit, says }, { expect }) => {
    const run = await runBridgeUnderHost({ args, env });
    expect(run.code, run.stderr).toBe(exit);
    // stderr: one line per problem, ending with the code.
    expect(run.stderr).toMatch(new RegExp(`^slurm-pipes: [\\s\\S]+ \\[${code}\\]\\n$`));
    for (const text of says) {
      expect(run.stderr).toContain(text);
      expect(run.closedMessage).toContain(text);
    }
    // Dagster got the bridge's opened, then closed with the error, and nothing ran.
    expect(run.messages.map((m) => m.method)).toEqual(['opened', 'closed']);
    expect(run.results.materializations).toEqual([]);
    for (const secret of Object.values(SECRETS)) {
      expect(run.stderr).not.toContain(secret);
      expect(run.stdout).not.toContain(secret);
      expect(JSON.stringify(run.messages)).not.toContain(secret);
    }
  });
});
