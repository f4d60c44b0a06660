// Bad input in Slurm mode, on a real cluster (test/helpers/slurm-cluster.ts). A Pipes host
// session plays Dagster and launches the real CLI, which reaches the login node through its own
// multiplexing daemon (one private directory per scenario, so no connection opened by another
// scenario is reused and every login below really happens). Each case must fail, or report, with
// its error code, what happened and the fix; messages the payload sent before a bad line must
// still reach the host; secrets given for a login that fails are never echoed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { getMuxDaemonStatus, resolveMuxPaths, stopMuxDaemon } from '@slurm-pipes/slurm-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBadLinesReported, expectTruncatedKept } from '../fixtures/hostile/bad-lines-expectations.js';
import {
  type HostRun,
  hostileFixture,
  runBridgeUnderHost,
  slurmStepArgs,
} from '../fixtures/hostile/run-under-host.js';
import { skipReason } from '../helpers/flags.js';
import { venvPython } from '../helpers/python.js';
import {
  clusterSshEnv,
  getSlurmCluster,
  type SlurmClusterHandle,
  slurmClusterMissing,
} from '../helpers/slurm-cluster.js';

const missing = skipReason(await slurmClusterMissing());

/** A TCP port on 127.0.0.1 nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True while `pid` runs: a process that exited but was not reaped yet (state Z) does not count. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(missing !== undefined)('bad input in Slurm mode', () => {
  let cluster: SlurmClusterHandle;
  // Short: the daemons' socket paths must stay under 100 bytes.
  const scratch = mkdtempSync('/tmp/sp-bad-');
  const remoteBase = `sp-bad-input-${randomBytes(4).toString('hex')}`;
  const muxDirs: string[] = [];
  const jobIds = new Set<string>();

  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    // Jobs a scenario left queued (its assertions failed before the job ended).
    if (jobIds.size > 0) await cluster?.exec(`scancel ${[...jobIds].join(' ')}`, { reject: false });
    const pids: number[] = [];
    for (const dir of muxDirs) {
      const pid = (await getMuxDaemonStatus({ dir }).catch(() => undefined))?.pid;
      if (pid !== undefined) pids.push(pid);
      await stopMuxDaemon({ dir }).catch(() => undefined);
    }
    // A daemon of this suite that did not exit when asked is ended by its pid.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
    await cluster?.exec(`rm -rf ~/${remoteBase}`, { reject: false });
    await cluster?.stop();
  });

  /** Runs the CLI in Slurm mode with its own daemon directory; `env` replaces login settings. */
  async function slurmRun(
    payload: readonly string[],
    options: { args?: readonly string[]; env?: Record<string, string>; dropKey?: boolean } = {},
  ): Promise<HostRun & { muxLog: string; muxDir: string }> {
    const muxDir = mkdtempSync(join(scratch, 'm'));
    muxDirs.push(muxDir);
    const env: Record<string, string> = {
      ...clusterSshEnv(cluster),
      SLURM_PIPES_MUX_DIR: muxDir,
      SLURM_PIPES_REMOTE_BASE: `~/${remoteBase}`,
      ...options.env,
    };
    if (options.dropKey) delete env.SLURM_SSH_KEY;
    const run = await runBridgeUnderHost({
      args: slurmStepArgs(payload, venvPython(), options.args),
      env,
    });
    for (const [, id] of run.stderr.matchAll(/submitted Slurm job (\d+)/g)) jobIds.add(id as string);
    const muxLog = readFileSync(resolveMuxPaths({ dir: muxDir }).logPath, 'utf8');
    return { ...run, muxLog, muxDir };
  }

  /** A run that failed before its payload started: code on stderr, message in `closed`. */
  function expectFailedWith(run: HostRun, code: string, says: readonly string[]): void {
    expect(run.code, run.stderr).not.toBe(0);
    expect(run.stderr).toMatch(new RegExp(`\\[${code}\\]\\n$`));
    for (const text of says) {
      expect(run.stderr).toContain(text);
      expect(run.closedMessage).toContain(text);
    }
    expect(run.messages.map((m) => m.method)).toEqual(['opened', 'closed']);
  }

  describe('bad message lines from a Slurm job', () => {
    it('reports each bad line as an ERROR log and relays every valid message around it', async () => {
      const run = await slurmRun([hostileFixture('bad_lines.py'), 'bad']);
      expect(run.code, run.stderr).toBe(0);
      expectBadLinesReported(run);
      // The bridge's own log says the same, on stderr.
      expect(
        run.stderr.match(/slurm-pipes: ERROR \[slurm-pipes\] payload message line \d+ was not relayed/g),
      ).toHaveLength(9);
      const metadata = run.results.materializations[0]?.metadata ?? {};
      expect(metadata.slurm_state).toEqual({ raw_value: 'COMPLETED', type: 'text' });
    });

    it('keeps what a job reported before it was killed in the middle of writing a message', async () => {
      const run = await slurmRun([hostileFixture('bad_lines.py'), 'truncated']);
      expectTruncatedKept(run);
      expect(run.code).toBe(128 + 9);
      expect(run.closedMessage).toMatch(/^Slurm job \d+ ended FAILED \(exit code 0, signal 9/);
      expect(run.closedMessage).toContain('Run directory on the cluster: ');
      // The held materialization still got the job's accounting.
      const metadata = run.results.materializations[0]?.metadata ?? {};
      expect(metadata.slurm_state).toEqual({ raw_value: 'FAILED', type: 'text' });
    });
  });

  describe('requests Slurm refuses', () => {
    it.each([
      {
        opt: 'partition=no-such-partition',
        said: 'sbatch said: sbatch: error: invalid partition specified: no-such-partition',
        fix: 'Fix: Set partition to one that `sinfo --summarize` lists on the login node',
      },
      {
        opt: 'mem=999G',
        said: 'sbatch said: sbatch: error: Memory specification can not be satisfied',
        fix: 'Fix: No node in the partition has what one node of the job asks for. Lower cpus, mem/mem_per_cpu',
      },
      {
        opt: 'gpus_per_node=1',
        said: 'sbatch said: sbatch: error: Invalid generic resource (gres) specification',
        fix: 'Fix: The partition offers no (or fewer) GPUs of that kind.',
      },
    ])(
      '$opt: sbatch’s refusal fails the step with ERR_SLURM_SUBMIT, its reason and the fix',
      async ({ opt, said, fix }) => {
        const run = await slurmRun([hostileFixture('echo_values.py')], { args: ['--slurm-opt', opt] });
        expectFailedWith(run, 'ERR_SLURM_SUBMIT', [
          'sbatch could not submit job "slurm-pipes-bad.input-',
          said,
          fix,
        ]);
        expect(run.code).toBe(1);
        expect(run.stderr).not.toMatch(/submitted Slurm job/);
      },
    );

    // Slurm's default EnforcePartLimits=NO makes sbatch accept a job over the partition's limits;
    // it then pends forever (PartitionConfig). The bridge must say so at once, with the fix, and
    // a queue limit with cancelOnTimeout must end it. (Without a limit the step waits: see the
    // report of this suite for the change that fails such a step right away.)
    it.each([
      { opt: 'nodes=99', reason: 'PartitionConfig' },
      { opt: 'cpus_per_task=999', reason: 'PartitionConfig' },
    ])(
      '$opt: the hopeless queue state is explained, and a queue limit cancels the job',
      async ({ opt, reason }) => {
        const run = await slurmRun([hostileFixture('echo_values.py')], {
          args: ['--slurm-opt', opt],
          env: {
            SLURM_PIPES_CONFIG_JSON: JSON.stringify({
              slurm: { queueTimeoutSeconds: 3, cancelOnTimeout: true },
            }),
          },
        });
        const jobId = /submitted Slurm job (\d+)/.exec(run.stderr)?.[1] as string;
        expect(run.stderr).toMatch(
          new RegExp(`Slurm job ${jobId} PENDING \\(${reason}\\): .* It will not start as it is\\. Fix: `),
        );
        expect(run.code).not.toBe(0);
        expect(run.closedMessage).toContain(`Slurm job ${jobId}`);
        expect(run.closedMessage).toContain(`CANCELLED (exit code 0, reason ${reason})`);
        expect(run.results.materializations).toEqual([]);
        const [job] = await cluster.waitForJob(jobId);
        expect(job?.state).toMatch(/^CANCELLED/);
      },
    );
  });

  describe('reaching the login node', () => {
    it('an unreachable host (closed port) fails fast with ERR_SSH_CONNECT', async () => {
      const port = await closedPort();
      const started = Date.now();
      const run = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_PORT: String(port) },
      });
      expectFailedWith(run, 'ERR_SSH_CONNECT', [
        `Cannot open a TCP connection to 127.0.0.1:${port}: ECONNREFUSED.`,
        'Check the host name and port, that sshd is running there, and any VPN or firewall.',
      ]);
      expect(Date.now() - started).toBeLessThan(60_000);
    });

    it('a host name that does not resolve fails with ERR_SSH_CONNECT saying so', async () => {
      const host = `no-such-login-node-${randomBytes(3).toString('hex')}.invalid`;
      const run = await slurmRun([hostileFixture('echo_values.py')], { env: { SLURM_SSH_HOST: host } });
      expectFailedWith(run, 'ERR_SSH_CONNECT', [
        `Cannot resolve the host name "${host}" (ENOTFOUND). Check its spelling, this machine’s DNS, and any VPN the cluster needs.`,
      ]);
    });

    // A changed host key: test/integration/security.test.ts (host keys), under every policy.

    it('an unknown host key is refused under strict, naming ssh-keyscan', async () => {
      const knownHosts = join(scratch, 'known_hosts_empty');
      writeFileSync(knownHosts, '');
      const run = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_KNOWN_HOSTS: knownHosts },
      });
      expectFailedWith(run, 'ERR_SSH_HOST_KEY', [
        `is not in ${knownHosts}`,
        `ssh-keyscan -p ${cluster.port} ${cluster.host} >> ${knownHosts}`,
        "hostKeyPolicy 'accept-new'",
      ]);
    });

    it('a key the server does not know fails with ERR_SSH_AUTH listing the methods tried', async () => {
      const wrongKey = join(scratch, 'wrong_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
      const run = await slurmRun([hostileFixture('echo_values.py')], { env: { SLURM_SSH_KEY: wrongKey } });
      expectFailedWith(run, 'ERR_SSH_AUTH', [
        `Authentication to ${cluster.user}@${cluster.host}:${cluster.port} failed: tried publickey (${wrongKey})`,
        'the server allows publickey, password.',
        'Check the username and the key, password or one-time code',
      ]);
      // The private key itself never shows.
      const secret = readFileSync(wrongKey, 'utf8').split('\n')[1] as string;
      for (const text of [run.stderr, run.closedMessage, run.muxLog]) expect(text).not.toContain(secret);
    });

    it('a wrong password fails with ERR_SSH_AUTH and is never echoed', async () => {
      const password = `wrong-pw-${randomBytes(6).toString('hex')}`;
      const run = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_PASSWORD: password },
        dropKey: true,
      });
      expectFailedWith(run, 'ERR_SSH_AUTH', [
        `Authentication to ${cluster.user}@${cluster.host}:${cluster.port} failed: tried password`,
        'Check the username and the key, password or one-time code',
      ]);
      for (const text of [
        run.stderr,
        run.stdout,
        run.closedMessage,
        run.muxLog,
        JSON.stringify(run.messages),
      ])
        expect(text).not.toContain(password);
    });

    // A key that cannot be decrypted fails before the SSH handshake, with the TCP connection to
    // sshd already open: it must be closed (packages/slurm-transport/src/ssh/connect-hop.ts), or
    // the daemon outlives `mux stop` until sshd drops the login (LoginGraceTime, 120 s).
    it('a wrong key passphrase fails with ERR_SSH_CONFIG, is never echoed, and its daemon still stops', async () => {
      expect(cluster.passphraseKeyPath, 'the cluster provides a passphrase-protected key').toBeDefined();
      const passphrase = `wrong-pp-${randomBytes(6).toString('hex')}`;
      const run = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_KEY: cluster.passphraseKeyPath as string, SLURM_SSH_KEY_PASSPHRASE: passphrase },
      });
      expectFailedWith(run, 'ERR_SSH_CONFIG', [
        `Cannot use the private key ${cluster.passphraseKeyPath}`,
        'The passphrase is wrong.',
      ]);
      for (const text of [
        run.stderr,
        run.stdout,
        run.closedMessage,
        run.muxLog,
        JSON.stringify(run.messages),
      ])
        expect(text).not.toContain(passphrase);
      const pid = (await getMuxDaemonStatus({ dir: run.muxDir }))?.pid as number;
      expect(pid).toBeGreaterThan(0);
      expect(await stopMuxDaemon({ dir: run.muxDir })).toBe(true);
      const deadline = Date.now() + 5_000;
      while (isRunning(pid) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(isRunning(pid), `daemon ${pid} still running 5 s after mux stop`).toBe(false);
    });
  });
});
