// A real Slurm cluster with an SSH login node for the integration tests. getSlurmCluster() picks a
// provider in this order and logs which it used:
//   1. env: a cluster that is already up, described by SLURM_SSH_* variables, or by the env file that
//      SLURM_PIPES_CLUSTER_ENV names (scripts/cluster/native-up.sh writes <state>/cluster.env);
//   2. container: testcontainers from docker/slurm/Dockerfile when a container runtime answers
//      (docker/podman/setup.sh makes one from Podman where no Docker engine runs);
//   3. native: scripts/cluster/native-up.sh (root on Debian 12; installs Slurm if missing).
// SLURM_PIPES_CLUSTER=env|container|native forces one. Under CI=true a missing cluster is a failure.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { repoRoot } from './python.js';

/** How the cluster was provided. */
export type SlurmClusterKind =
  /** A cluster that was already up, described by env (a real cluster, or one `.ci/run` started). */
  | 'external'
  /** Daemons on this machine from `scripts/cluster/native-up.sh`. */
  | 'native'
  /** Containers from `docker/slurm/Dockerfile` started through testcontainers. */
  | 'container';

/** What {@link SlurmClusterHandle.exec} returns. */
export interface ClusterExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One line of `sacct -P` for a job or one of its steps. */
export interface SacctRecord {
  readonly jobId: string;
  readonly state: string;
  readonly exitCode: string;
  readonly elapsed: string;
  readonly maxRss: string;
  readonly nodeList: string;
  readonly allocNodes: string;
  readonly jobName: string;
}

/** Successful SSH authentications, as sshd logs them at LogLevel VERBOSE. */
export interface SshAuthenticationCounts {
  readonly total: number;
  readonly publickey: number;
  readonly password: number;
  readonly keyboardInteractive: number;
}

/** Restricts {@link parseSshAuthentications} to some connections. */
export interface SshAuthenticationFilter {
  /** Client-side TCP ports, as sshd logs them ("from 127.0.0.1 port 43288"). */
  readonly ports?: readonly number[];
}

/** Fault injection (mirrors `scripts/cluster/native-ctl.sh`). */
export type ClusterFault = 'kill-slurmd' | 'restart-slurmd' | 'kill-sshd-sessions' | 'restart-sshd';

/** A running cluster and how to log in to its login node. */
export interface SlurmClusterHandle extends AsyncDisposable {
  readonly kind: SlurmClusterKind;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private key without a passphrase. */
  readonly keyPath: string;
  /** Private key protected by {@link passphrase}, when the provider made one. */
  readonly passphraseKeyPath: string | undefined;
  readonly passphrase: string | undefined;
  /** The test user's password, when known. */
  readonly password: string | undefined;
  /** A known_hosts file holding the login node's host key (`[host]:port ...`). */
  readonly knownHostsPath: string;
  /** sshd's log on this machine (native), or undefined: use {@link readSshdLog}. */
  readonly sshdLogPath: string | undefined;
  /** Slurm node names, e.g. `['n1', 'n2']`. */
  readonly nodes: readonly string[];
  /** sshd's log (LogLevel VERBOSE); throws when the provider has none. */
  readSshdLog(): Promise<string>;
  /** A mark (the log's length in bytes) for {@link countSshAuthentications}. */
  markSshdLog(): Promise<number>;
  /**
   * Counts the logins sshd accepted after `since` (a {@link markSshdLog} mark; default: all). A
   * cluster may be shared (other test runs log in too): pass the client `ports` of your own
   * connections (`$SSH_CLIENT`'s second field, or the socket's localPort) to count only those.
   */
  countSshAuthentications(since?: number, filter?: SshAuthenticationFilter): Promise<SshAuthenticationCounts>;
  /**
   * Runs `command` with bash on the login node as the test user, in its home directory. Native and
   * container providers do this without SSH (no login is logged); external ones use one SSH
   * ControlMaster connection (one login). Rejects on a non-zero exit unless `reject: false`.
   */
  exec(command: string, options?: { reject?: boolean }): Promise<ClusterExecResult>;
  /** `sacct` lines of a job (the job, then its steps); empty until slurmdbd knows it. */
  sacct(jobId: string): Promise<SacctRecord[]>;
  /** Polls {@link sacct} until the job reaches a terminal state. */
  waitForJob(jobId: string, options?: { timeoutMs?: number }): Promise<SacctRecord[]>;
  /** Fault injection on a native or container cluster; throws for external ones. */
  inject(fault: ClusterFault, node?: string): Promise<void>;
  /** Releases the cluster: stops containers; leaves a native cluster running (native-down.sh stops it). */
  stop(): Promise<void>;
}

const SACCT_FIELDS = 'JobID,State,ExitCode,Elapsed,MaxRSS,NodeList,AllocNodes,JobName';
const TERMINAL_STATES =
  /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)/;
const log = (message: string) => console.info(`[slurm-cluster] ${message}`);

/** The bridge's `SLURM_SSH_*` variables that point it at `cluster` with its key and known_hosts. */
export function clusterSshEnv(cluster: SlurmClusterHandle): Record<string, string> {
  return {
    SLURM_SSH_HOST: cluster.host,
    SLURM_SSH_PORT: String(cluster.port),
    SLURM_SSH_USER: cluster.user,
    SLURM_SSH_KEY: cluster.keyPath,
    SLURM_SSH_KNOWN_HOSTS: cluster.knownHostsPath,
  };
}

/** The `slurm.ssh` configuration for `cluster`: its key, strict host-key checking, no agent. */
export function clusterSshConfig(cluster: SlurmClusterHandle) {
  return {
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    keyPath: cluster.keyPath,
    knownHostsPath: cluster.knownHostsPath,
    hostKeyPolicy: 'strict' as const,
    useAgent: false,
  };
}

/** Counts accepted authentications in sshd log text. Pure, for any slice of the log. */
export function parseSshAuthentications(
  logText: string,
  filter: SshAuthenticationFilter = {},
): SshAuthenticationCounts {
  let publickey = 0;
  let password = 0;
  let keyboardInteractive = 0;
  const ports = filter.ports === undefined ? undefined : new Set(filter.ports);
  // "Accepted key ED25519 ... found at" is a key check before the signature, not a login.
  const accepted = /^.*Accepted (publickey|password|keyboard-interactive\S*) for \S+ from \S+ port (\d+)/gm;
  for (const match of logText.matchAll(accepted)) {
    if (ports !== undefined && !ports.has(Number(match[2]))) continue;
    if (match[1] === 'publickey') publickey++;
    else if (match[1] === 'password') password++;
    else keyboardInteractive++;
  }
  return { total: publickey + password + keyboardInteractive, publickey, password, keyboardInteractive };
}

/** Parses `sacct -P -n -o ${SACCT_FIELDS}` output; JobName is last so a '|' in it survives. */
export function parseSacct(stdout: string): SacctRecord[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [
        jobId = '',
        state = '',
        exitCode = '',
        elapsed = '',
        maxRss = '',
        nodeList = '',
        allocNodes = '',
        ...name
      ] = line.split('|');
      return { jobId, state, exitCode, elapsed, maxRss, nodeList, allocNodes, jobName: name.join('|') };
    });
}

/** Parses KEY=value lines (as native-up.sh writes them); '#' comments and surrounding quotes allowed. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (line.startsWith('#') || match === null) continue;
    const [, key = '', value = ''] = match;
    env[key] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** Why no cluster can be had here, or undefined when {@link getSlurmCluster} should succeed. */
export async function slurmClusterMissing(): Promise<string | undefined> {
  const forced = process.env.SLURM_PIPES_CLUSTER;
  if (clusterEnvGiven() && forced !== 'container' && forced !== 'native') return undefined;
  if (forced === 'env')
    return 'SLURM_PIPES_CLUSTER=env but neither SLURM_SSH_HOST nor SLURM_PIPES_CLUSTER_ENV is set';
  if (forced !== 'native' && (await containerRuntimeAnswers())) return undefined;
  if (forced === 'container') return 'SLURM_PIPES_CLUSTER=container but no container runtime answers';
  return nativeMissing();
}

/**
 * Gets a running cluster from the first provider that works (see the top of this file).
 * @throws when none does, naming what each lacked.
 */
export async function getSlurmCluster(): Promise<SlurmClusterHandle> {
  const forced = process.env.SLURM_PIPES_CLUSTER;
  if (forced !== undefined && !['env', 'container', 'native'].includes(forced)) {
    throw new RangeError(
      `SLURM_PIPES_CLUSTER must be env, container or native (got ${JSON.stringify(forced)})`,
    );
  }
  if ((forced === undefined || forced === 'env') && clusterEnvGiven()) {
    const env = await clusterEnv();
    const state = env.SLURM_PIPES_CLUSTER_STATE;
    // A native cluster named by its env file but stopped since (native-down.sh, a reboot): bring it
    // back up; native-up.sh is idempotent and takes ~2 s when packages and state are there.
    if (env.SLURM_PIPES_CLUSTER_KIND === 'native' && state !== undefined && nativeMissing() === undefined) {
      if (!(await tcpAnswers(env.SLURM_SSH_HOST ?? '127.0.0.1', Number(env.SLURM_SSH_PORT ?? '22')))) {
        log(`the native cluster in ${state} is down: running native-up.sh`);
        return startNativeCluster(state);
      }
    }
    const handle = await fromEnv(env);
    log(`using the ${handle.kind} cluster from env: ${handle.user}@${handle.host}:${handle.port}`);
    return handle;
  }
  if (forced === 'env')
    throw new Error('SLURM_PIPES_CLUSTER=env but SLURM_SSH_HOST/SLURM_PIPES_CLUSTER_ENV are unset');
  if (forced !== 'native' && (await containerRuntimeAnswers())) {
    const started = Date.now();
    const handle = await startContainerCluster();
    log(
      `using a container cluster (testcontainers), started in ${Date.now() - started} ms: port ${handle.port}`,
    );
    return handle;
  }
  if (forced === 'container')
    throw new Error('SLURM_PIPES_CLUSTER=container but no container runtime answers');
  const missing = nativeMissing();
  if (missing !== undefined)
    throw new Error(`no Slurm cluster: no SLURM_SSH_HOST, no container runtime, and ${missing}`);
  const started = Date.now();
  const handle = await startNativeCluster(
    process.env.SLURM_PIPES_CLUSTER_STATE ?? join(repoRoot, '.state', 'cluster'),
  );
  log(
    `using the native cluster (scripts/cluster/native-up.sh, ${Date.now() - started} ms): port ${handle.port}`,
  );
  return handle;
}

function clusterEnvGiven(): boolean {
  return process.env.SLURM_PIPES_CLUSTER_ENV !== undefined || process.env.SLURM_SSH_HOST !== undefined;
}

async function clusterEnv(): Promise<Record<string, string | undefined>> {
  const file = process.env.SLURM_PIPES_CLUSTER_ENV;
  // Variables set in the environment win over the file's.
  return file === undefined
    ? { ...process.env }
    : { ...parseEnvFile(await readFile(file, 'utf8')), ...process.env };
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function nativeMissing(): string | undefined {
  if (process.platform !== 'linux') return `the native cluster needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the native cluster (scripts/cluster/native-up.sh) needs root';
  return undefined;
}

// --- processes ------------------------------------------------------------------------------------

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  input?: string;
}

function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<ClusterExecResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...options },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') reject(error);
        else resolve({ exitCode: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
    // A command that exits without reading its input closes the pipe first: not an error here.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

function checked(command: string, result: ClusterExecResult, reject: boolean): ClusterExecResult {
  if (reject && result.exitCode !== 0) {
    throw new Error(
      `command failed with exit code ${result.exitCode}: ${command}\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}

// --- shared handle parts ------------------------------------------------------------------------

interface HandleParts {
  kind: SlurmClusterKind;
  host: string;
  port: number;
  user: string;
  keyPath: string;
  passphraseKeyPath: string | undefined;
  passphrase: string | undefined;
  password: string | undefined;
  knownHostsPath: string;
  sshdLogPath: string | undefined;
  nodes: readonly string[];
  readSshdLog(): Promise<string>;
  exec(command: string): Promise<ClusterExecResult>;
  inject(fault: ClusterFault, node?: string): Promise<void>;
  stop(): Promise<void>;
}

function makeHandle(parts: HandleParts): SlurmClusterHandle {
  let stopped: Promise<void> | undefined;
  const sacct = async (jobId: string) => {
    if (!/^\d+(_\d+)?(\+\d+)?$/.test(jobId))
      throw new RangeError(`not a Slurm job id: ${JSON.stringify(jobId)}`);
    const result = await parts.exec(`sacct -n -P -j ${jobId} -o ${SACCT_FIELDS}`);
    return parseSacct(checked('sacct', result, true).stdout);
  };
  return {
    kind: parts.kind,
    host: parts.host,
    port: parts.port,
    user: parts.user,
    keyPath: parts.keyPath,
    passphraseKeyPath: parts.passphraseKeyPath,
    passphrase: parts.passphrase,
    password: parts.password,
    knownHostsPath: parts.knownHostsPath,
    sshdLogPath: parts.sshdLogPath,
    nodes: parts.nodes,
    readSshdLog: parts.readSshdLog,
    markSshdLog: async () => Buffer.byteLength(await parts.readSshdLog()),
    countSshAuthentications: async (since = 0, filter = {}) => {
      const logBytes = Buffer.from(await parts.readSshdLog());
      return parseSshAuthentications(logBytes.subarray(since).toString('utf8'), filter);
    },
    exec: async (command, options = {}) =>
      checked(command, await parts.exec(command), options.reject ?? true),
    sacct,
    waitForJob: async (jobId, options = {}) => {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const records = await sacct(jobId);
        if (records[0] !== undefined && TERMINAL_STATES.test(records[0].state)) return records;
        if (Date.now() > deadline)
          throw new Error(`job ${jobId} not finished in sacct: ${JSON.stringify(records)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    inject: parts.inject,
    stop: () => {
      stopped ??= parts.stop();
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return this.stop();
    },
  };
}

/** Login over the ssh CLI, for external clusters (and as a test of the login path). */
function sshArgs(
  parts: Pick<HandleParts, 'host' | 'port' | 'user' | 'keyPath' | 'knownHostsPath'>,
): string[] {
  return [
    ...['-p', String(parts.port), '-i', parts.keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'],
    ...['-o', `UserKnownHostsFile=${parts.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes'],
    ...['-o', 'ConnectTimeout=15', '-o', 'LogLevel=ERROR', `${parts.user}@${parts.host}`],
  ];
}

// --- env provider (external, or native started earlier) ------------------------------------------

async function fromEnv(env: Record<string, string | undefined>): Promise<SlurmClusterHandle> {
  const need = (key: string) => {
    const value = env[key];
    if (value === undefined || value === '')
      throw new Error(`${key} is required with SLURM_SSH_HOST/SLURM_PIPES_CLUSTER_ENV`);
    return value;
  };
  const host = need('SLURM_SSH_HOST');
  const port = Number(env.SLURM_SSH_PORT ?? '22');
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new RangeError(`SLURM_SSH_PORT: ${env.SLURM_SSH_PORT}`);
  const user = need('SLURM_SSH_USER');
  const keyPath = need('SLURM_SSH_KEY');
  const scratch = await mkdtemp(join(tmpdir(), 'slurm-cluster-'));
  let knownHostsPath = env.SLURM_SSH_KNOWN_HOSTS;
  if (knownHostsPath === undefined) {
    knownHostsPath = join(scratch, 'known_hosts');
    const scan = await run('ssh-keyscan', ['-p', String(port), host]);
    await writeFile(knownHostsPath, scan.stdout);
  }
  const passwordFile = env.SLURM_SSH_PASSWORD_FILE;
  const password =
    passwordFile === undefined ? undefined : (await readFile(passwordFile, 'utf8')).replace(/\r?\n$/, '');
  const sshdLogPath = env.SLURM_PIPES_SSHD_LOG;
  const kind: SlurmClusterKind = env.SLURM_PIPES_CLUSTER_KIND === 'native' ? 'native' : 'external';
  const slurmConf = env.SLURM_PIPES_SLURM_CONF;
  const base = { host, port, user, keyPath, knownHostsPath };

  // A native cluster on this machine, and we are root: run commands as the user directly, so
  // assertions add no logins to sshd's log. Otherwise one ControlMaster connection carries them.
  const local = kind === 'native' && process.getuid?.() === 0 && slurmConf !== undefined;
  let exec: (command: string) => Promise<ClusterExecResult>;
  let closeMaster = async () => {};
  if (local) {
    const account = await lookupUser(user);
    exec = (command) =>
      run('/bin/bash', ['-c', command], {
        uid: account.uid,
        gid: account.gid,
        cwd: account.home,
        env: {
          HOME: account.home,
          USER: user,
          LOGNAME: user,
          SHELL: '/bin/bash',
          PATH: '/usr/local/bin:/usr/bin:/bin',
          LANG: 'C.UTF-8',
          SLURM_CONF: slurmConf,
        },
      });
  } else {
    const control = [
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${join(scratch, 'cm-%C')}`,
      '-o',
      'ControlPersist=300',
    ];
    exec = (command) => run('ssh', [...control, ...sshArgs(base), '--', command]);
    closeMaster = async () => {
      await run('ssh', [...control, '-O', 'exit', ...sshArgs(base)]).catch(() => undefined);
    };
  }
  const ctl = join(repoRoot, 'scripts', 'cluster', 'native-ctl.sh');
  return makeHandle({
    kind,
    ...base,
    passphraseKeyPath: env.SLURM_SSH_PASSPHRASE_KEY,
    passphrase: env.SLURM_SSH_PASSPHRASE,
    password,
    sshdLogPath,
    nodes: (env.SLURM_PIPES_SLURM_NODES ?? 'n1,n2').split(',').filter(Boolean),
    readSshdLog: async () => {
      if (sshdLogPath === undefined)
        throw new Error('this cluster has no sshd log here (SLURM_PIPES_SSHD_LOG unset)');
      return readFile(sshdLogPath, 'utf8');
    },
    exec,
    inject: async (fault, node) => {
      if (!local)
        throw new Error(`fault injection needs a native cluster on this machine and root (kind ${kind})`);
      const ctlEnv = { ...process.env, SLURM_PIPES_CLUSTER_STATE: env.SLURM_PIPES_CLUSTER_STATE };
      checked(
        fault,
        await run('bash', [ctl, fault, ...(node === undefined ? [] : [node])], { env: ctlEnv }),
        true,
      );
    },
    stop: async () => {
      await closeMaster();
      await rm(scratch, { recursive: true, force: true });
    },
  });
}

async function lookupUser(user: string): Promise<{ uid: number; gid: number; home: string }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith(`${user}:`));
  const [, , uid, gid, , home] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined || home === undefined)
    throw new Error(`no user ${user} in /etc/passwd`);
  return { uid: Number(uid), gid: Number(gid), home };
}

// --- native provider ----------------------------------------------------------------------------

async function startNativeCluster(state: string): Promise<SlurmClusterHandle> {
  const script = join(repoRoot, 'scripts', 'cluster', 'native-up.sh');
  // Streams native-up.sh's progress and timings to our stderr, so a slow install is visible.
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const env = { ...process.env, SLURM_PIPES_CLUSTER_STATE: state };
    const child = spawn('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'], env });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (exitCode !== 0) throw new Error(`${script} failed with exit code ${exitCode}`);
  return fromEnv({ ...parseEnvFile(await readFile(join(state, 'cluster.env'), 'utf8')) });
}

// --- container provider -------------------------------------------------------------------------

/** Binds exposed ports to 127.0.0.1 only (testcontainers binds every address by default). */
class LoopbackContainer extends GenericContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as { HostIp?: string }[][]) {
      for (const binding of bindings) binding.HostIp = '127.0.0.1';
    }
  }
}

async function slurmImage(): Promise<string> {
  const image = process.env.SLURM_PIPES_SLURM_IMAGE;
  if (image !== undefined) return image;
  // A machine with Docker and a registry builds docker/slurm itself (cached after the first time).
  const buildArgs: Record<string, string> = {};
  if (process.env.SLURM_PIPES_BASE_IMAGE !== undefined)
    buildArgs.BASE_IMAGE = process.env.SLURM_PIPES_BASE_IMAGE;
  await GenericContainer.fromDockerfile(join(repoRoot, 'docker', 'slurm'))
    .withBuildArgs(buildArgs)
    .withCache(true)
    .build('localhost/slurm-pipes-slurm:dev', { deleteOnExit: false });
  return 'localhost/slurm-pipes-slurm:dev';
}

async function startContainerCluster(): Promise<SlurmClusterHandle> {
  const image = await slurmImage();
  const user = 'slurmpipes';
  const nodes = ['n1', 'n2'];
  const scratch = await mkdtemp(join(tmpdir(), 'slurm-cluster-'));
  const home = join(scratch, 'home');
  await mkdir(home, { mode: 0o755 });
  const shared = {
    MUNGE_KEY_B64: randomBytes(1024).toString('base64'),
    SLURM_NODE_COUNT: String(nodes.length),
    SSH_MAX_SESSIONS: process.env.SLURM_PIPES_SSH_MAX_SESSIONS ?? '10',
  };
  const network: StartedNetwork = await new Network().start();
  // Every container carries this label, so cleanup finds even one whose start() failed half-way.
  const runLabel = { 'slurm-pipes.cluster': randomBytes(8).toString('hex') };
  const role = (name: string, command: string[], ready: string) =>
    new LoopbackContainer(image)
      .withNetwork(network)
      .withNetworkAliases(name)
      .withHostname(name)
      .withLabels(runLabel)
      .withEnvironment(shared)
      .withCommand(command)
      .withWaitStrategy(Wait.forLogMessage(ready))
      .withStartupTimeout(120_000);
  const cleanup = async () => {
    const client = await getContainerRuntimeClient();
    // dockerode's listContainers({ all: true }) also finds containers created but never started.
    type Lister = { dockerode?: { listContainers(options: object): Promise<{ Id: string }[]> } };
    const label = `slurm-pipes.cluster=${runLabel['slurm-pipes.cluster']}`;
    const ours = await ((client.container as Lister).dockerode?.listContainers({
      all: true,
      filters: { label: [label] },
    }) ?? client.container.list());
    await Promise.allSettled(
      ours.map((info) => client.container.getById(info.Id).remove({ force: true, v: true })),
    );
    await network.stop().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    // All four start at once: slurmd and sshd need no controller to start, only to register.
    const results = await Promise.allSettled([
      role('controller', ['controller'], 'slurm-pipes: controller ready').start(),
      ...nodes.map((n) =>
        role(n, ['compute', n], `slurm-pipes: compute ${n} ready`)
          .withBindMounts([{ source: home, target: '/home' }])
          // jobacct_gather reads /proc/<pid>/io of the user's processes; without this, no MaxRSS.
          .withAddedCapabilities('SYS_PTRACE')
          .start(),
      ),
      role('login', ['login'], 'slurm-pipes: login ready')
        .withBindMounts([{ source: home, target: '/home' }])
        .withExposedPorts(22)
        .start(),
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const [, ...rest] = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const login = rest[nodes.length];
    if (login === undefined) throw new Error('login container missing');
    const byNode = new Map(nodes.map((n, i) => [n, rest[i]]));

    const read = async (path: string) => {
      const r = await login.exec(['cat', path]);
      if (r.exitCode !== 0) throw new Error(`cat ${path} in the login container: ${r.output}`);
      return r.stdout;
    };
    const keyPath = join(scratch, 'id_ed25519');
    const passphraseKeyPath = join(scratch, 'id_ed25519_passphrase');
    const knownHostsPath = join(scratch, 'known_hosts');
    const port = login.getMappedPort(22);
    await writeFile(keyPath, await read('/etc/slurm-pipes/client/id_ed25519'), { mode: 0o600 });
    await writeFile(passphraseKeyPath, await read('/etc/slurm-pipes/client/id_ed25519_passphrase'), {
      mode: 0o600,
    });
    const hostKey = (await read('/etc/ssh/ssh_host_ed25519_key.pub')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostKey}\n`);

    const exec = async (command: string): Promise<ClusterExecResult> => {
      const r = await login.exec(['runuser', '-l', user, '-c', command]);
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    };
    const inContainer = async (container: StartedTestContainer | undefined, script: string) => {
      if (container === undefined) throw new Error('no such container');
      const r = await container.exec(['bash', '-c', script]);
      if (r.exitCode !== 0) throw new Error(`fault injection failed: ${r.output}`);
    };
    const handle = makeHandle({
      kind: 'container',
      host: '127.0.0.1',
      port,
      user,
      keyPath,
      passphraseKeyPath,
      passphrase: 'test-passphrase',
      password: 'test-password',
      knownHostsPath,
      sshdLogPath: undefined,
      nodes,
      readSshdLog: () => read('/var/log/sshd.log'),
      exec,
      inject: async (fault, node) => {
        const slurmd = node === undefined ? undefined : byNode.get(node);
        const stopSshd =
          'kill "$(cat /run/sshd.pid)"; while kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; do sleep 0.05; done';
        switch (fault) {
          case 'kill-slurmd':
            return inContainer(slurmd, 'kill -KILL "$(cat /run/slurmd.pid)"');
          case 'restart-slurmd':
            return inContainer(
              slurmd,
              `p="$(cat /run/slurmd.pid)"; kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; slurmd -N ${node}`,
            );
          case 'kill-sshd-sessions':
            return inContainer(
              login,
              'for m in $(pgrep -P "$(cat /run/sshd.pid)"); do kill -KILL $(pgrep -P "$m") "$m" 2>/dev/null; done; true',
            );
          case 'restart-sshd':
            return inContainer(login, `${stopSshd}; /usr/sbin/sshd -E /var/log/sshd.log`);
        }
      },
      stop: cleanup,
    });
    // Nodes register with slurmctld a moment after it starts.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await exec("sinfo -h -N -o '%N %t'");
      const idle = r.stdout.split('\n').filter((l) => / idle$/.test(l.trim())).length;
      if (idle === nodes.length) break;
      if (Date.now() > deadline) throw new Error(`nodes not idle after 60 s: ${r.stdout}${r.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return handle;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

// --- logging in from a test ---------------------------------------------------------------------

/** How {@link sshLogin} authenticates. */
export type SshAuth = 'key' | 'passphrase-key' | 'password';

/**
 * Runs `command` on the login node through a fresh `ssh` CLI login (one authentication in sshd's log).
 * Passphrase and password reach ssh through SSH_ASKPASS, so no terminal is needed.
 */
export async function sshLogin(
  cluster: SlurmClusterHandle,
  auth: SshAuth,
  command: string,
): Promise<ClusterExecResult> {
  const common = [
    ...['-p', String(cluster.port), '-o', `UserKnownHostsFile=${cluster.knownHostsPath}`],
    ...['-o', 'StrictHostKeyChecking=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none'],
    ...['-o', 'ConnectTimeout=15', '-o', 'LogLevel=ERROR', '-o', 'NumberOfPasswordPrompts=1'],
  ];
  let args: string[];
  let secret: string | undefined;
  if (auth === 'key') {
    args = ['-i', cluster.keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'];
  } else if (auth === 'passphrase-key') {
    if (cluster.passphraseKeyPath === undefined || cluster.passphrase === undefined) {
      throw new Error(`the ${cluster.kind} cluster has no passphrase-protected key`);
    }
    args = [
      '-i',
      cluster.passphraseKeyPath,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'PreferredAuthentications=publickey',
    ];
    secret = cluster.passphrase;
  } else {
    if (cluster.password === undefined) throw new Error(`the ${cluster.kind} cluster has no known password`);
    args = ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password'];
    secret = cluster.password;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'slurm-askpass-'));
  try {
    const askpass = join(scratch, 'askpass.sh');
    await writeFile(askpass, '#!/bin/sh\nprintf "%s\\n" "$SLURM_PIPES_ASKPASS_SECRET"\n', { mode: 0o700 });
    const env: NodeJS.ProcessEnv = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
    if (secret !== undefined) env.SLURM_PIPES_ASKPASS_SECRET = secret;
    return await run('ssh', [...common, ...args, `${cluster.user}@${cluster.host}`, '--', command], { env });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
