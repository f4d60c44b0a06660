import { spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import ssh2 from 'ssh2';

// An in-process ssh2 Server on 127.0.0.1:0 as a test double of a login node (ssh2's own tests
// do the same). Exec requests run locally under /bin/sh by default, so what the client quotes is
// what a real shell sees; `exec` can script replies instead. It can require a password, a key,
// a one-time code after either (partial success), cap sessions like sshd `MaxSessions`, and
// forward `direct-tcpip` channels so it can act as a jump host.

/**
 * An ed25519 key pair from ssh2's generator, which about once in 500 calls emits a private key
 * that neither ssh2 nor OpenSSH can load: retried until the key parses.
 */
export function testKeyPair(passphrase?: string): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync(
      'ed25519',
      passphrase === undefined ? {} : { passphrase, cipher: 'aes256-ctr', rounds: 4 },
    );
    if (!(ssh2.utils.parseKey(pair.private, passphrase) instanceof Error)) {
      return pair;
    }
  }
}

/** How a scripted exec answers. */
export interface FakeExecReply {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

/** Options of {@link startFakeSshServer}. */
export interface FakeSshServerOptions {
  /** @default 'tester' */
  username?: string;
  /** Accepted password (password auth and keyboard-interactive "Password:" prompts). */
  password?: string;
  /** Accepted client public key, OpenSSH format. */
  publicKey?: string | Buffer;
  /** When set, a one-time code prompt must be answered with it after password/key succeeded. */
  otp?: string;
  /** Refuse session channels beyond this many open at once (sshd answers "open failed"). */
  maxSessions?: number;
  /** Scripted exec replies; `undefined` runs the command under /bin/sh. */
  exec?: (command: string) => FakeExecReply | undefined;
  /** Host private key. @default a fresh ed25519 key */
  hostKey?: string;
}

/** A running fake server. */
export interface FakeSshServer {
  host: string;
  port: number;
  username: string;
  /** Host public key blob, as ssh2's hostVerifier sees it. */
  hostKeyBlob: Buffer;
  /** `[127.0.0.1]:<port> <type> <base64>` for a known_hosts file. */
  knownHostsLine: string;
  /** Commands received by exec requests, in order. */
  readonly commands: string[];
  /** Auth methods attempted by clients, in order (e.g. `password:ok`). */
  readonly authLog: string[];
  /** Sessions open now / at most so far. */
  readonly openSessions: number;
  readonly peakSessions: number;
  /** Channel opens refused because of `maxSessions`. */
  readonly refusedSessions: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Drops every client connection abruptly. */
  dropConnections(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a fake SSH server on 127.0.0.1 and a random port. */
export async function startFakeSshServer(options: FakeSshServerOptions = {}): Promise<FakeSshServer> {
  const username = options.username ?? 'tester';
  const hostKey = options.hostKey ?? testKeyPair().private;
  const parsedHostKey = ssh2.utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error) {
    throw parsedHostKey;
  }
  const hostKeyBlob = (Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey).getPublicSSH();
  const allowedKey = options.publicKey === undefined ? undefined : ssh2.utils.parseKey(options.publicKey);
  if (allowedKey instanceof Error) {
    throw allowedKey;
  }
  const commands: string[] = [];
  const authLog: string[] = [];
  const sockets = new Set<Socket>();
  let openSessions = 0;
  let peakSessions = 0;
  let refusedSessions = 0;
  let connections = 0;

  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    let firstFactorDone = false;
    client.on('error', () => {});
    // ssh2's reject() can only send CONNECT_FAILED with no text; sshd refuses a session beyond
    // MaxSessions with ADMINISTRATIVELY_PROHIBITED "open failed", so answer like sshd does.
    const protocol = (client as unknown as { _protocol: { channelOpenFail: (...args: unknown[]) => void } })
      ._protocol;
    const channelOpenFail = protocol.channelOpenFail.bind(protocol);
    protocol.channelOpenFail = (recipient: unknown, reason: unknown, description: unknown) =>
      reason === 2
        ? channelOpenFail(recipient, 1, 'open failed')
        : channelOpenFail(recipient, reason, description);
    client.on('authentication', (ctx) => {
      const fail = (note: string) => {
        authLog.push(`${ctx.method}:${note}`);
        ctx.reject(methodsLeft(), firstFactorDone);
      };
      const firstFactor = () => {
        if (options.otp === undefined) {
          authLog.push(`${ctx.method}:ok`);
          ctx.accept();
          return;
        }
        firstFactorDone = true;
        authLog.push(`${ctx.method}:partial`);
        ctx.reject(['keyboard-interactive'], true);
      };
      const methodsLeft = (): Array<'password' | 'publickey' | 'keyboard-interactive'> => {
        if (firstFactorDone) {
          return ['keyboard-interactive'];
        }
        const methods: Array<'password' | 'publickey' | 'keyboard-interactive'> = [];
        if (allowedKey !== undefined) {
          methods.push('publickey');
        }
        if (options.password !== undefined) {
          methods.push('password', 'keyboard-interactive');
        }
        return methods;
      };
      if (ctx.username !== username) {
        fail('wrong-user');
        return;
      }
      switch (ctx.method) {
        case 'password':
          if (
            !firstFactorDone &&
            options.password !== undefined &&
            safeEqual(ctx.password, options.password)
          ) {
            firstFactor();
          } else {
            fail('bad');
          }
          return;
        case 'publickey': {
          const key = Array.isArray(allowedKey) ? allowedKey[0] : allowedKey;
          if (
            firstFactorDone ||
            key === undefined ||
            ctx.key.algo !== key.type ||
            !ctx.key.data.equals(key.getPublicSSH())
          ) {
            fail('bad');
            return;
          }
          if (ctx.signature === undefined || ctx.blob === undefined) {
            ctx.accept();
            return;
          }
          if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) {
            firstFactor();
          } else {
            fail('bad-signature');
          }
          return;
        }
        case 'keyboard-interactive': {
          if (firstFactorDone && options.otp !== undefined) {
            ctx.prompt([{ prompt: 'Verification code: ', echo: false }], 'Two-factor', (answers) => {
              if (answers[0] !== undefined && safeEqual(answers[0], options.otp as string)) {
                authLog.push('keyboard-interactive:ok');
                ctx.accept();
              } else {
                fail('bad-otp');
              }
            });
            return;
          }
          if (!firstFactorDone && options.password !== undefined) {
            ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
              if (answers[0] !== undefined && safeEqual(answers[0], options.password as string)) {
                firstFactor();
              } else {
                fail('bad');
              }
            });
            return;
          }
          fail('unavailable');
          return;
        }
        default:
          fail('unsupported');
      }
    });
    client.on('ready', () => {
      client.on('session', (accept, reject) => {
        if (options.maxSessions !== undefined && openSessions >= options.maxSessions) {
          refusedSessions += 1;
          reject();
          return;
        }
        openSessions += 1;
        peakSessions = Math.max(peakSessions, openSessions);
        const session = accept();
        let closed = false;
        const onClose = () => {
          if (!closed) {
            closed = true;
            openSessions -= 1;
          }
        };
        session.on('close', onClose);
        session.on('exec', (acceptExec, _rejectExec, info) => {
          commands.push(info.command);
          const stream = acceptExec();
          stream.on('close', onClose);
          const reply = options.exec?.(info.command);
          if (reply !== undefined) {
            const answer = () => {
              stream.stderr.write(reply.stderr ?? '');
              stream.write(reply.stdout ?? '');
              stream.exit(reply.exitCode ?? 0);
              stream.end();
            };
            // Without a delay the reply goes out right behind the exec confirmation, often in the
            // same TCP segment, as a real server does for fast commands.
            if (reply.delayMs === undefined) {
              answer();
            } else {
              setTimeout(answer, reply.delayMs);
            }
            return;
          }
          runLocally(info.command, stream);
        });
      });
      client.on('tcpip', (accept, reject, info) => {
        const upstream = connect(info.destPort, info.destIP);
        upstream.once('error', () => reject());
        upstream.once('connect', () => {
          const channel = accept();
          upstream.pipe(channel).pipe(upstream);
          channel.on('close', () => upstream.destroy());
          upstream.on('close', () => channel.end());
        });
      });
    });
  });
  // ssh2's Server wraps a net.Server in `_srv`; its sockets are what a network drop destroys.
  (server as unknown as { _srv: import('node:net').Server })._srv.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const dropConnections = () => {
    for (const socket of sockets) {
      socket.destroy();
    }
  };
  const close = async () => {
    dropConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    host: '127.0.0.1',
    port,
    username,
    hostKeyBlob,
    knownHostsLine: `[127.0.0.1]:${port} ${hostKeyBlob.toString('latin1', 4, 4 + hostKeyBlob.readUInt32BE(0))} ${hostKeyBlob.toString('base64')}`,
    commands,
    authLog,
    get openSessions() {
      return openSessions;
    },
    get peakSessions() {
      return peakSessions;
    },
    get refusedSessions() {
      return refusedSessions;
    },
    get connections() {
      return connections;
    },
    dropConnections,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

// Runs `command` as sshd would with /bin/sh as the login shell, wiring stdio to the channel.
function runLocally(command: string, stream: ssh2.ServerChannel): void {
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.pipe(stream, { end: false });
  child.stderr.pipe(stream.stderr, { end: false });
  stream.pipe(child.stdin);
  child.stdin.on('error', () => {});
  stream.on('close', () => child.kill('SIGTERM'));
  stream.on('signal', () => child.kill('SIGTERM'));
  let outputs = 2;
  let code: number | null = null;
  let signal: NodeJS.Signals | null = null;
  const finish = () => {
    if (signal !== null) {
      stream.exit(signal.replace(/^SIG/, ''), false, '');
    } else {
      stream.exit(code ?? 0);
    }
    stream.end();
  };
  const outputEnded = () => {
    outputs -= 1;
    if (outputs === 0 && exited) {
      finish();
    }
  };
  let exited = false;
  child.stdout.on('end', outputEnded);
  child.stderr.on('end', outputEnded);
  child.on('exit', (exitCode, exitSignal) => {
    exited = true;
    code = exitCode;
    signal = exitSignal;
    if (outputs === 0) {
      finish();
    }
  });
}
