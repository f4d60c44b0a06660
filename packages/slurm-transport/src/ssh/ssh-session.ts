import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { operationSignal } from './abort.js';
import { type ConnectedHop, connectHop } from './connect-hop.js';
import {
  describeEndpoint,
  type ResolvedConnectionOptions,
  type ResolvedEndpoint,
} from './connection-options.js';
import { fromSsh2Error } from './ssh-error.js';
import { forwardThrough, openTcpSocket } from './transport-socket.js';

/** One live SSH connection: the target's client and the jump-host clients it runs through. */
export interface SshSession {
  readonly client: Client;
  readonly hops: readonly ConnectedHop[];
  /** Set once any hop dropped; channels of this session then fail with it. */
  lost: SlurmTransportError | undefined;
}

/**
 * Opens TCP to the first hop (no-delay), then runs SSH over each hop in turn, each next one over
 * a channel forwarded by the previous one; bounded by `connectTimeoutMs`. `onLost` runs when any
 * hop closes later.
 * @throws {SlurmTransportError} from {@link connectHop}, {@link openTcpSocket}, {@link forwardThrough}.
 */
export async function openSession(
  options: ResolvedConnectionOptions,
  lifetime: AbortSignal,
  onLost: (session: SshSession, hopName: string) => void,
): Promise<SshSession> {
  const { endpoint, connectTimeoutMs, keepaliveIntervalMs, keepaliveCountMax, logger } = options;
  const target = describeEndpoint(endpoint);
  const started = performance.now();
  const op = operationSignal(
    lifetime,
    connectTimeoutMs,
    () =>
      new SlurmTransportError(
        'ERR_SSH_TIMEOUT',
        `Connecting to ${target} took longer than connectTimeoutMs (${connectTimeoutMs} ms). Check that the ` +
          'host is reachable (VPN, firewall) and that authentication does not wait for input.',
      ),
  );
  const settings = { keepaliveIntervalMs, keepaliveCountMax, readyTimeoutMs: connectTimeoutMs, logger };
  const chain = hopChain(endpoint);
  const hops: ConnectedHop[] = [];
  try {
    let sock: Duplex | undefined;
    for (const hop of chain) {
      const previous = hops.at(-1);
      sock =
        previous === undefined
          ? await openTcpSocket(hop.host, hop.port, op.signal)
          : await forwardThrough(
              previous.client,
              describeEndpoint(chain[hops.length - 1] as ResolvedEndpoint),
              hop.host,
              hop.port,
            );
      hops.push(await connectHop(hop, sock, settings, op.signal));
    }
  } catch (error) {
    for (const hop of hops) {
      hop.client.end();
    }
    throw error;
  } finally {
    op.dispose();
  }
  const session: SshSession = { client: (hops.at(-1) as ConnectedHop).client, hops, lost: undefined };
  for (const [index, hop] of hops.entries()) {
    const name = describeEndpoint(chain[index] as ResolvedEndpoint);
    hop.onError((error) => {
      session.lost ??= fromSsh2Error(error, name, true);
    });
    hop.client.once('close', () => onLost(session, name));
  }
  logger.info(`Connected to ${target} in ${Math.round(performance.now() - started)} ms`);
  return session;
}

// Outermost jump host first, target last.
function hopChain(endpoint: ResolvedEndpoint): ResolvedEndpoint[] {
  const chain: ResolvedEndpoint[] = [];
  for (let hop: ResolvedEndpoint | undefined = endpoint; hop !== undefined; hop = hop.jumpHost) {
    chain.unshift(hop);
  }
  return chain;
}

// Ends every client of the session, target first; resolves when the first hop's socket closed.
export function endSession(session: SshSession): Promise<void> {
  const first = session.hops[0]?.client;
  const closed = new Promise<void>((resolve) => {
    if (first === undefined) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      for (const hop of session.hops) {
        hop.client.destroy();
      }
      resolve();
    }, 1_000);
    timer.unref();
    first.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  for (const hop of [...session.hops].reverse()) {
    hop.client.end();
  }
  return closed;
}
