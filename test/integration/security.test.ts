// Security of Slurm mode on a real cluster (test/helpers/slurm-cluster.ts), through the real CLI
// under a Pipes host session playing Dagster:
// - hostile values (quotes, $(…), backticks, newlines, spaces, non-ASCII) in asset keys,
//   partition keys, the run id, extras, payload and extra file names, payload arguments, env
//   values and the remote base reach the cluster as data: no marker file appears, and the
//   payload reports every value back byte for byte;
// - the run tree on the cluster is private (0700 directories, 0600 files, job.sh 0700);
// - passwords, key passphrases and one-time codes never appear in any process's argv while a
//   step runs, nor in logs, errors, messages or files on either side;
// - a host key that does not match is refused unless the user opted out (`off`);
// - the multiplexing daemon's socket admits only its owner presenting the token.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { getMuxDaemonStatus, resolveMuxPaths, stopMuxDaemon } from '@slurm-pipes/slurm-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  BRIDGE_FROM_SOURCE,
  type HostRun,
  hostileFixture,
  repoRoot,
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
const tag = randomBytes(4).toString('hex');
let markers = 0;
/** A name of a marker file that must never be created; `dir` '' gives a relative one. */
const marker = (dir: string) => `${dir}pwned-${tag}-${markers++}`;
/** A hostile value: each injection would create a marker file if anything ran it. */
const hostile = (label: string, dir = '/tmp/') =>
  `${label} 'sq' "dq" $(touch ${marker(dir)}) \`touch ${marker(dir)}\` $HOME \${PATH} ; & | < > * ? ! # ~ sp  ü 日本 ✓ \\ \t tab`;
/** As {@link hostile}, with a newline. */
const hostileNl = (label: string, dir = '/tmp/') => `${hostile(label, dir)}\nsecond line`;

/** Every process's argv right now (pid → args joined by spaces). */
function processArgs(): Map<number, string> {
  const all = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      all.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // It exited meanwhile.
    }
  }
  return all;
}

describe.skipIf(missing !== undefined)('security in Slurm mode', () => {
  let cluster: SlurmClusterHandle;
  const scratch = mkdtempSync('/tmp/sp-sec-');
  const remoteRoot = `sp-sec-${tag}`;
  const muxDirs: string[] = [];
  const daemonPids = new Set<number>();

  beforeAll(async () => {
    cluster = await getSlurmCluster();
  });
  afterAll(async () => {
    for (const dir of muxDirs) {
      const pid = (await getMuxDaemonStatus({ dir }).catch(() => undefined))?.pid;
      if (pid !== undefined) daemonPids.add(pid);
      await stopMuxDaemon({ dir }).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Daemons this suite started and that did not stop when asked: ended by their pid.
    for (const pid of daemonPids) {
      if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
    }
    rmSync(scratch, { recursive: true, force: true });
    await cluster?.exec(`rm -rf ~/${remoteRoot}`, { reject: false });
    await cluster?.stop();
  });

  function newMuxDir(): string {
    const dir = mkdtempSync(join(scratch, 'm'));
    muxDirs.push(dir);
    return dir;
  }

  /** Runs the CLI in Slurm mode with its own daemon; `env` adds to or replaces the login settings. */
  function slurmRun(
    payload: readonly string[],
    options: {
      env?: Record<string, string>;
      drop?: string[];
      args?: readonly string[];
      context?: Parameters<typeof runBridgeUnderHost>[0]['context'];
      muxDir?: string;
      onSpawn?: (child: ChildProcess) => void;
    } = {},
  ): Promise<HostRun> {
    const env: Record<string, string> = {
      ...clusterSshEnv(cluster),
      SLURM_PIPES_MUX_DIR: options.muxDir ?? newMuxDir(),
      SLURM_PIPES_REMOTE_BASE: `~/${remoteRoot}/plain`,
      ...options.env,
    };
    for (const name of options.drop ?? []) delete env[name];
    return runBridgeUnderHost({
      args: slurmStepArgs(payload, venvPython(), options.args),
      env,
      ...(options.context === undefined ? {} : { context: options.context }),
      ...(options.onSpawn === undefined ? {} : { onSpawn: options.onSpawn }),
    });
  }

  const metadataOf = (run: HostRun) => {
    const metadata = run.results.materializations[0]?.metadata ?? {};
    return (key: string) => metadata[key]?.raw_value;
  };

  /** Marker files anywhere they could land: /tmp and the user's home (relative ones), on both sides. */
  async function markersFound(): Promise<string> {
    // Exact names: directories of a hostile remote base legitimately hold "pwned-…)" in theirs.
    const find = (roots: string) =>
      `find ${roots} -regextype posix-extended -regex '.*/pwned-${tag}-[0-9]+' 2>/dev/null; true`;
    const remote = await cluster.exec(find('/tmp ~'));
    const local = execFileSync('bash', ['-c', find(`/tmp ${repoRoot}`)], { encoding: 'utf8' });
    return `${remote.stdout}${local}`.trim();
  }

  describe('hostile values reach the cluster as data', () => {
    it('asset key, partition, run id, extras, file names, arguments, env and remote base', async () => {
      const assetKey = ['hostile', hostileNl('asset')];
      const partitionKey = hostileNl('partition');
      const runId = hostileNl('run');
      const extras = {
        text: hostileNl('extra'),
        nested: [hostile('list'), { deeper: hostileNl('deep') }],
        [hostile('key')]: 'value',
      };
      const args = [hostileNl('arg'), '', '--flag', '-n', '$(touch x)'];
      const env = { HOSTILE_VALUE: hostileNl('env'), HOSTILE_EMPTY: '' };
      // File names cannot hold "/": these markers are relative to wherever a shell would run.
      const dir = mkdtempSync(join(scratch, 'files-'));
      const payloadName = `payload ${hostileNl('file', '')}.py`;
      const extraName = `extra ${hostileNl('extra-file', '')}.txt`;
      const extraContent = hostileNl('content');
      writeFileSync(join(dir, payloadName), readFileSync(hostileFixture('echo_values.py')));
      writeFileSync(join(dir, extraName), extraContent);
      // No control characters, no backslash: the bridge refuses them in the remote base (tested below).
      const remoteBase = `~/${remoteRoot}/base ${hostile('remote-base').replace(' \\ \t tab', '')}`;

      const run = await slurmRun([join(dir, payloadName), ...args], {
        args: ['--extra-file', join(dir, extraName)],
        env: {
          SLURM_PIPES_REMOTE_BASE: remoteBase,
          SLURM_PIPES_PAYLOAD_ENV_JSON: JSON.stringify(env),
        },
        context: { assetKeys: [assetKey], partitionKey, runId, extras },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.results.closed).toEqual({ exception: null });
      const got = metadataOf(run);
      expect(got('asset_key')).toBe(run.results.materializations[0]?.assetKey);
      expect(run.results.materializations[0]?.assetKeyPath).toEqual(assetKey);
      expect(got('partition_key')).toBe(partitionKey);
      expect(got('run_id')).toBe(runId);
      expect(got('extras')).toEqual(extras);
      expect(got('payload_name')).toBe(payloadName);
      expect(got('argv')).toEqual(args);
      expect(got('env')).toEqual(env);
      expect(got('files')).toEqual({ [extraName]: extraContent });
      expect(got('slurm_state')).toBe('COMPLETED');

      expect(await markersFound()).toBe('');
      expect(markers).toBeGreaterThan(20);
      // The run directory's name is sanitised, and the job name too.
      const runDir = /run directory on the cluster: (.*)$/m.exec(run.stderr)?.[1] as string;
      expect(
        runDir.startsWith(`${(await cluster.exec('printf %s "$HOME"')).stdout}/${remoteRoot}/base `),
      ).toBe(true);
      expect(runDir.slice(runDir.indexOf('/runs/'))).toMatch(
        /^\/runs\/run_sq_dq[\w.-]*-[0-9a-f]{10}\/[\w.-]+\/[\w.-]+$/,
      );
      const jobId = /submitted Slurm job (\d+)/.exec(run.stderr)?.[1] as string;
      // sacct shows a stand-in row named "allocation" until slurmdbd has the job's record.
      let job = (await cluster.waitForJob(jobId))[0];
      for (let tries = 0; job?.jobName === 'allocation' && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        job = (await cluster.sacct(jobId))[0];
      }
      expect(job?.jobName).toMatch(/^slurm-pipes-hostile\.asset_sq_dq[\w.-]*-[0-9a-f]{10}-[0-9a-f]+$/);
    });

    it.each([
      [
        'a newline',
        `a\nb $(touch ${marker('/tmp/')})`,
        'must not contain control characters such as newlines',
      ],
      ['a backslash', `a\\b $(touch ${marker('/tmp/')})`, 'must not contain "%" or "\\"'],
      ['a %j', `a%jb $(touch ${marker('/tmp/')})`, 'sbatch reads them as file name patterns in --output'],
    ])('refuses a remote base with %s, before connecting', async (_what, tail, says) => {
      const run = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_PIPES_REMOTE_BASE: `~/${remoteRoot}/${tail}` },
        context: { partitionKey: 'p' },
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('slurm.remoteBase = ');
      expect(run.stderr).toContain('(from SLURM_PIPES_REMOTE_BASE)');
      expect(run.stderr).toContain(says);
      expect(run.stderr).toMatch(/\[ERR_BRIDGE_CONFIG\]\n$/);
      expect(run.closedMessage).toContain(says);
      expect(run.stderr).not.toContain('run directory on the cluster');
      expect(await markersFound()).toBe('');
    });
  });

  describe('the run tree on the cluster is private', () => {
    it('every directory is 0700 and every file 0600 (job.sh 0700), cache included', async () => {
      const run = await slurmRun([hostileFixture('echo_values.py')], { context: { partitionKey: 'p' } });
      expect(run.code, run.stderr).toBe(0);
      // NUL-separated: file names of the hostile run above hold newlines.
      const listing = await cluster.exec(`find ~/${remoteRoot} -printf '%m %y %P\\0'`);
      const entries = listing.stdout.split('\0').filter((entry) => entry !== '');
      expect(entries.length).toBeGreaterThan(10);
      const wrong = entries.filter((line) => {
        const [mode, type, ...rest] = line.split(' ');
        const path = rest.join(' ');
        if (type === 'd') return mode !== '700';
        if (path.endsWith('/job.sh')) return mode !== '700';
        return mode !== '600';
      });
      expect(wrong, entries.join('\n')).toEqual([]);
      // Both parts of the tree are there: the run directory and the cache.
      expect(entries.some((line) => / f plain\/runs\/.*\/context\.json$/.test(line))).toBe(true);
      expect(entries.some((line) => / f plain\/cache\/[0-9a-f]{64}\/echo_values\.py$/.test(line))).toBe(true);
    });
  });

  describe('secrets stay on this machine and out of argv', () => {
    async function runWatched(auth: 'passphrase-key' | 'password') {
      const otp = `otp-${randomBytes(8).toString('hex')}`;
      const password = cluster.password as string;
      const passphrase = cluster.passphrase as string;
      const secrets = auth === 'password' ? [password, otp] : [password, passphrase, otp];
      const env: Record<string, string> = {
        SLURM_SSH_PASSWORD: password,
        SLURM_SSH_OTP: otp,
        // A secret handed to the job's environment is dropped, not exported.
        SLURM_PIPES_PAYLOAD_ENV_JSON: JSON.stringify({ SLURM_SSH_PASSWORD: password, HOSTILE_SEEN: 'yes' }),
      };
      if (auth === 'passphrase-key') {
        env.SLURM_SSH_KEY = cluster.passphraseKeyPath as string;
        env.SLURM_SSH_KEY_PASSPHRASE = passphrase;
      }
      const muxDir = newMuxDir();
      const leaks: string[] = [];
      const seen = { bridge: false, daemon: false, payload: false, samples: 0 };
      let bridgePid = 0;
      let sampling: NodeJS.Timeout | undefined;
      const sample = () => {
        seen.samples++;
        for (const [pid, args] of processArgs()) {
          for (const secret of secrets) if (args.includes(secret)) leaks.push(`pid ${pid}: ${args}`);
          if (pid === bridgePid) seen.bridge = true;
          if (args.includes('mux serve') && readEnviron(pid).includes(`SLURM_PIPES_MUX_DIR=${muxDir}`)) {
            seen.daemon = true;
            daemonPids.add(pid);
          }
          if (args.includes('echo_values.py') && args.includes('python3 -u')) {
            seen.payload = true;
            // The job's environment (inherited from the login session sbatch ran in) too.
            const environ = readEnviron(pid);
            for (const secret of secrets)
              if (environ.includes(secret)) leaks.push(`environ of job pid ${pid}`);
          }
        }
      };
      const run = await slurmRun([hostileFixture('echo_values.py')], {
        env,
        drop: auth === 'password' ? ['SLURM_SSH_KEY'] : [],
        context: { partitionKey: 'p', extras: { sleep_seconds: 4 } },
        muxDir,
        onSpawn: (child) => {
          bridgePid = child.pid as number;
          sampling = setInterval(sample, 100);
        },
      });
      clearInterval(sampling);
      return { run, secrets, leaks, seen, muxDir };
    }

    function readEnviron(pid: number): string {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        return '';
      }
    }

    it.each(['passphrase-key', 'password'] as const)(
      'login with %s: no secret in any argv while the step runs, nor in logs, errors or files',
      async (auth) => {
        expect(cluster.password, 'the cluster provides the test user’s password').toBeDefined();
        expect(cluster.passphraseKeyPath, 'the cluster provides a passphrase-protected key').toBeDefined();
        const { run, secrets, leaks, seen, muxDir } = await runWatched(auth);
        expect(run.code, run.stderr).toBe(0);
        expect(metadataOf(run)('env')).toEqual({ HOSTILE_SEEN: 'yes' });
        expect(run.stderr).toContain(
          'not exported to the job (bridge settings that may hold secrets): SLURM_SSH_PASSWORD',
        );
        // The watch covered the bridge, its daemon and the payload on the cluster.
        expect(seen).toMatchObject({ bridge: true, daemon: true, payload: true });
        expect(seen.samples).toBeGreaterThan(20);
        expect(leaks).toEqual([]);
        // The daemon logged in the asked way.
        const muxLog = readFileSync(resolveMuxPaths({ dir: muxDir }).logPath, 'utf8');
        expect(muxLog).toContain(
          auth === 'password' ? 'with password' : `with publickey (${cluster.passphraseKeyPath})`,
        );
        // Logs, errors and messages on this machine; every file of the daemon's directory.
        const local = [run.stderr, run.stdout, JSON.stringify(run.messages)];
        for (const name of readdirSync(muxDir)) {
          const path = join(muxDir, name);
          if (statSync(path).isFile()) local.push(readFileSync(path, 'utf8'));
        }
        for (const text of local) for (const secret of secrets) expect(text).not.toContain(secret);
        // The whole remote tree: run directories (context.json, job.sh, job.json, output) and cache.
        const grep = await cluster.exec(
          `grep -rlF ${secrets.map((s) => `-e '${s}'`).join(' ')} ~/${remoteRoot}; true`,
        );
        expect(grep.stdout).toBe('');
      },
    );
  });

  describe('host keys', () => {
    const name = () => `[${cluster.host}]:${cluster.port}`;

    function knownHostsWithImpostor(): string {
      const impostor = join(scratch, `impostor-${randomBytes(3).toString('hex')}`);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', impostor]);
      const [type, key] = readFileSync(`${impostor}.pub`, 'utf8').split(' ');
      const file = join(scratch, `known_hosts-${randomBytes(3).toString('hex')}`);
      writeFileSync(file, `# the login node, before its key changed\n${name()} ${type} ${key}\n`);
      return file;
    }

    it('a changed key is refused under strict and accept-new, naming the line and the fix, and accepted only with off', async () => {
      const knownHosts = knownHostsWithImpostor();
      const fingerprint = /SHA256:\S+/.exec(
        execFileSync('ssh-keygen', ['-l', '-f', cluster.knownHostsPath], { encoding: 'utf8' }),
      )?.[0];
      for (const policy of ['strict', 'accept-new']) {
        const run = await slurmRun([hostileFixture('echo_values.py')], {
          env: { SLURM_SSH_KNOWN_HOSTS: knownHosts, SLURM_SSH_HOST_KEY_CHECKING: policy },
          context: { partitionKey: 'p' },
        });
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toMatch(/\[ERR_SSH_HOST_KEY\]\n$/);
        for (const text of [
          `The host key of ${name()} (ssh-ed25519 ${fingerprint}) does not match ${knownHosts}:2.`,
          'Someone may be intercepting the connection, or the host key was changed.',
          `ssh-keygen -R '${name()}' -f ${knownHosts}`,
        ]) {
          expect(run.stderr).toContain(text);
          expect(run.closedMessage).toContain(text);
        }
        expect(run.messages.map((m) => m.method)).toEqual(['opened', 'closed']);
        expect(run.stderr).not.toContain('submitted Slurm job');
      }
      const off = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_KNOWN_HOSTS: knownHosts, SLURM_SSH_HOST_KEY_CHECKING: 'off' },
        context: { partitionKey: 'p' },
      });
      expect(off.code, off.stderr).toBe(0);
      expect(off.results.materializations).toHaveLength(1);
      // off checks nothing and records nothing.
      expect(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    });

    it('accept-new records an unknown key, which strict then trusts', async () => {
      const knownHosts = join(scratch, 'known_hosts-new');
      const first = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_KNOWN_HOSTS: knownHosts, SLURM_SSH_HOST_KEY_CHECKING: 'accept-new' },
        context: { partitionKey: 'p' },
      });
      expect(first.code, first.stderr).toBe(0);
      const server = readFileSync(cluster.knownHostsPath, 'utf8').trim().split(/\s+/).slice(1, 3).join(' ');
      expect(readFileSync(knownHosts, 'utf8')).toBe(`${name()} ${server}\n`);
      expect(statSync(knownHosts).mode & 0o777).toBe(0o600);
      const second = await slurmRun([hostileFixture('echo_values.py')], {
        env: { SLURM_SSH_KNOWN_HOSTS: knownHosts },
        context: { partitionKey: 'p' },
      });
      expect(second.code, second.stderr).toBe(0);
    });
  });

  describe('the multiplexing daemon', () => {
    it('is private: dir 0700, socket and files 0600, token required, other users kept out', async () => {
      const dir = newMuxDir();
      const daemon = spawn(process.execPath, [...BRIDGE_FROM_SOURCE, 'mux', 'serve'], {
        cwd: repoRoot,
        env: { ...process.env, SLURM_PIPES_MUX_DIR: dir },
        stdio: 'ignore',
      });
      daemonPids.add(daemon.pid as number);
      const paths = resolveMuxPaths({ dir });
      const deadline = Date.now() + 30_000;
      while ((await getMuxDaemonStatus({ dir }).catch(() => undefined)) === undefined) {
        if (Date.now() > deadline) throw new Error('the daemon did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const mode = (path: string) => statSync(path).mode & 0o777;
      expect(mode(dir)).toBe(0o700);
      expect(statSync(paths.socketPath).isSocket()).toBe(true);
      expect(mode(paths.socketPath)).toBe(0o600);
      expect(mode(paths.tokenPath)).toBe(0o600);
      expect(mode(paths.logPath)).toBe(0o600);

      const token = readFileSync(paths.tokenPath, 'utf8').trim();
      const dial = (authorization: string | undefined) =>
        new Promise<number | 'open'>((resolve, reject) => {
          const ws = new WebSocket(`ws+unix://${paths.socketPath}:/v1`, {
            ...(authorization === undefined ? {} : { headers: { authorization } }),
          });
          ws.once('open', () => {
            ws.close();
            resolve('open');
          });
          ws.once('unexpected-response', (_request, response) => {
            ws.terminate();
            resolve(response.statusCode ?? 0);
          });
          ws.once('error', reject);
        });
      expect(await dial(undefined)).toBe(401);
      expect(await dial(`Bearer ${randomBytes(32).toString('hex')}`)).toBe(401);
      expect(await dial(`Bearer ${token.slice(0, -1)}`)).toBe(401);
      expect(await dial(`Basic ${token}`)).toBe(401);
      expect(await dial(`Bearer ${token}`)).toBe('open');
      expect((await getMuxDaemonStatus({ dir }))?.rejectedClients).toBe(4);
      expect(readFileSync(paths.logPath, 'utf8')).toContain('Refused a client with no token');
      expect(readFileSync(paths.logPath, 'utf8')).not.toContain(token);

      // Another user (nobody) can reach neither socket nor token.
      const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }));
      const probe = `const net = require('node:net'); const fs = require('node:fs');
        let token = 'read'; try { fs.readFileSync(process.argv[2]); } catch (e) { token = e.code; }
        const s = net.connect(process.argv[1]);
        s.on('connect', () => { console.log('connected', token); process.exit(0); });
        s.on('error', (e) => { console.log(e.code, token); process.exit(0); });`;
      const other = execFileSync(process.execPath, ['-e', probe, paths.socketPath, paths.tokenPath], {
        uid,
        gid,
        encoding: 'utf8',
      });
      expect(other.trim()).toBe('EACCES EACCES');

      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
      expect(existsSync(paths.socketPath)).toBe(false);
      expect(existsSync(paths.tokenPath)).toBe(false);
    });

    it('refuses a directory others can enter; the bridge then logs in directly and says why', async () => {
      const dir = join(scratch, 'shared-mux');
      mkdirSync(dir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      muxDirs.push(dir);
      const serve = spawn(process.execPath, [...BRIDGE_FROM_SOURCE, 'mux', 'serve'], {
        cwd: repoRoot,
        env: { ...process.env, SLURM_PIPES_MUX_DIR: dir },
      });
      let stderr = '';
      serve.stderr?.on('data', (data: Buffer) => {
        stderr += data.toString('utf8');
      });
      const code = await new Promise((resolve) => serve.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(stderr).toContain(`Refusing to use the multiplexing directory ${dir}: its mode is 755`);
      expect(stderr).toContain('[ERR_MUX]');
      expect(existsSync(join(dir, 'mux-v1.sock'))).toBe(false);

      const run = await slurmRun([hostileFixture('echo_values.py')], {
        muxDir: dir,
        context: { partitionKey: 'p' },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('SSH multiplexing unavailable, connecting to');
      expect(run.stderr).toContain('directly (one more SSH login)');
      expect(run.stderr).toContain('its mode is 755');
      expect(existsSync(join(dir, 'mux-v1.sock'))).toBe(false);
    });
  });
});
