import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

// A throwaway OpenSSH sshd on a random loopback port, configured from a temp dir: its own host
// keys, client key, authorized_keys and known_hosts. It logs in as the current user (root gets
// `PermitRootLogin yes` in this config only), so no system account or config is touched.

const SSHD = '/usr/sbin/sshd';

/** Why real-sshd tests cannot run here, or `undefined` when they can. Under `CI=true` a missing sshd throws instead. */
export function realSshdSkipReason(): string | undefined {
  const missing = [SSHD, '/usr/bin/ssh-keygen'].filter((path) => !existsSync(path));
  if (missing.length === 0) {
    return undefined;
  }
  const reason = `${missing.join(', ')} not installed (apt-get install openssh-server openssh-client)`;
  if (process.env.CI === 'true') {
    throw new Error(`CI=true and ${reason}: real-sshd tests must run in CI.`);
  }
  return reason;
}

/** Options of {@link startRealSshd}. */
export interface RealSshdOptions {
  /** sshd `MaxSessions`. @default 10 */
  maxSessions?: number;
  /** Extra sshd_config lines. */
  extraConfig?: readonly string[];
}

/** A running throwaway sshd. */
export interface RealSshd {
  host: string;
  port: number;
  username: string;
  /** Client private key (ed25519, unencrypted) in authorized_keys. */
  privateKeyPath: string;
  /** known_hosts holding this server's host key as `[127.0.0.1]:<port>`. */
  knownHostsPath: string;
  /** Scratch directory for test files, readable by the login user. */
  workDir: string;
  /** The sshd log so far. */
  log(): Promise<string>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts sshd and resolves once it accepts connections. */
export async function startRealSshd(options: RealSshdOptions = {}): Promise<RealSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'slurm-pipes-sshd-'));
  await chmod(dir, 0o755);
  const workDir = join(dir, 'work');
  await mkdir(workDir, { mode: 0o755 });
  const username = userInfo().username;
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const privateKeyPath = join(dir, 'id_ed25519');
  keygen(hostKeyPath);
  keygen(privateKeyPath);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${privateKeyPath}.pub`), { mode: 0o600 });
  const port = await freePort();
  const logPath = join(dir, 'sshd.log');
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKeyPath}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    `AllowUsers ${username}`,
    ...(username === 'root' ? ['PermitRootLogin yes'] : []),
    `MaxSessions ${options.maxSessions ?? 10}`,
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    ...(options.extraConfig ?? []),
  ];
  const configPath = join(dir, 'sshd_config');
  await writeFile(configPath, `${config.join('\n')}\n`);
  if (process.getuid?.() === 0) {
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  }
  const child = spawn(SSHD, ['-D', '-f', configPath, '-E', logPath], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the test process ends without stop() (a killed worker), take the daemon down with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  try {
    await waitForBanner(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    const log = await readFile(logPath, 'utf8').catch(() => '');
    throw new Error(`sshd did not start: ${(error as Error).message}\n${log}`);
  }
  const hostKey = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim().split(/\s+/);
  const knownHostsPath = join(dir, 'known_hosts');
  await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostKey[0]} ${hostKey[1]}\n`);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return {
    host: '127.0.0.1',
    port,
    username,
    privateKeyPath,
    knownHostsPath,
    workDir,
    log: () => readFile(logPath, 'utf8'),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function keygen(path: string): void {
  execFileSync('/usr/bin/ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'slurm-pipes-test',
    '-f',
    path,
  ]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function waitForBanner(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`sshd exited with code ${child.exitCode}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString('latin1').startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no SSH banner within 10 s');
}
