import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { signalError } from './abort.js';
import { createAuthPlan } from './auth-handler.js';
import { describeEndpoint, type ResolvedEndpoint } from './connection-options.js';
import { verifyHostKey } from './host-key-verifier.js';
import { loadSsh2 } from './load-ssh2.js';
import type { Logger } from './logger.js';
import { fromSsh2Error, ssh2Level } from './ssh-error.js';

/** Settings shared by every hop of a connection. */
export interface HopSettings {
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  readyTimeoutMs: number;
  logger: Logger;
}

/** An authenticated ssh2 client plus a way to learn about its errors after the handshake. */
export interface ConnectedHop {
  client: ssh2.Client;
  /** Replaces the handler of errors ssh2 reports after `ready` (it has one from the start, so none is unhandled). */
  onError(handler: (error: SlurmTransportError) => void): void;
}

/**
 * Runs the SSH handshake and authentication for `endpoint` over `sock` (a TCP socket or a channel
 * forwarded by the previous hop), verifying the host key first.
 * @throws {SlurmTransportError} `ERR_SSH_HOST_KEY`, `ERR_SSH_AUTH`, `ERR_SSH_CONNECT`,
 *   `ERR_SSH_TIMEOUT`, `ERR_SSH_CONFIG`, or the signal's error.
 */
export async function connectHop(
  endpoint: ResolvedEndpoint,
  sock: Duplex,
  settings: HopSettings,
  signal: AbortSignal | undefined,
): Promise<ConnectedHop> {
  const target = describeEndpoint(endpoint);
  const { logger } = settings;
  let auth: Awaited<ReturnType<typeof createAuthPlan>>;
  let Client: Awaited<ReturnType<typeof loadSsh2>>['Client'];
  try {
    auth = await createAuthPlan(endpoint, logger);
    ({ Client } = await loadSsh2());
  } catch (error) {
    // The caller handed over an open socket (TCP to sshd, or a forwarded channel): close it, or
    // an unusable key leaves it open until sshd gives up (LoginGraceTime) and keeps the process alive.
    sock.destroy();
    throw error;
  }
  const client = new Client();
  let hostKeyError: SlurmTransportError | undefined;
  let afterReady: (error: SlurmTransportError) => void = () => {};
  let ready = false;

  return new Promise<ConnectedHop>((resolve, reject) => {
    const fail = (error: unknown) => {
      if (ready) {
        return;
      }
      ready = true;
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('close', onClose);
      client.end();
      sock.destroy();
      reject(error);
    };
    const onAbort = () => fail(signalError(signal, 'connect'));
    const onClose = () =>
      fail(
        hostKeyError ??
          new SlurmTransportError(
            'ERR_SSH_CONNECT',
            `${target} closed the connection during the handshake. Check that it is an SSH server and that ` +
              'sshd accepts this client (MaxStartups, AllowUsers, DenyUsers).',
          ),
      );
    client.on('error', (error: Error) => {
      // ssh2 reports a failing agent and moves on to the next method: not fatal.
      if ((error as { level?: string }).level === 'agent') {
        logger.debug(`ssh-agent for ${target} failed: ${error.message}`);
        return;
      }
      const mapped = hostKeyError ?? fromSsh2Error(error, target, ready, auth.describe);
      if (ready) {
        afterReady(mapped);
      } else {
        fail(mapped);
      }
    });
    client.once('close', onClose);
    client.on('banner', (message: string) => logger.debug(`Banner from ${target}: ${message.trim()}`));
    client.once('ready', () => {
      ready = true;
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('close', onClose);
      resolve({
        client,
        onError(handler) {
          afterReady = handler;
        },
      });
    });
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      client.connect({
        sock,
        username: endpoint.username,
        authHandler: auth.handler,
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          const { host, port, hostKeyPolicy: policy, knownHostsPath } = endpoint;
          verifyHostKey(key, { host, port, policy, knownHostsPath, logger }).then(
            () => verify(true),
            (error: unknown) => {
              hostKeyError = error as SlurmTransportError;
              verify(false);
            },
          );
        },
        keepaliveInterval: settings.keepaliveIntervalMs,
        keepaliveCountMax: settings.keepaliveCountMax,
        readyTimeout: settings.readyTimeoutMs,
      });
    } catch (error) {
      fail(
        new SlurmTransportError('ERR_SSH_CONFIG', `Invalid SSH settings for ${target}: ${String(error)}`, {
          cause: error,
          level: ssh2Level(error),
        }),
      );
    }
  });
}
