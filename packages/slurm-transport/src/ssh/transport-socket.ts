import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { signalError } from './abort.js';

/**
 * Opens the TCP connection to the first hop with Nagle's algorithm off: ssh2 leaves it on, which
 * costs about 45 ms per request/response (see docs/test-cluster.md).
 * @throws {SlurmTransportError} `ERR_SSH_CONNECT` naming host, port and the network error.
 */
export function openTcpSocket(host: string, port: number, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signalError(signal, 'connect'));
      return;
    }
    const socket = connect({ host, port, noDelay: true, keepAlive: true });
    socket.setNoDelay(true);
    const settle = (error?: unknown) => {
      socket.off('connect', onConnect).off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const onConnect = () => settle();
    const onError = (error: NodeJS.ErrnoException) =>
      settle(
        new SlurmTransportError(
          'ERR_SSH_CONNECT',
          error.code === 'ENOTFOUND'
            ? `Cannot resolve the host name ${JSON.stringify(host)} (ENOTFOUND). Check its spelling, ` +
                'this machine’s DNS, and any VPN the cluster needs.'
            : `Cannot open a TCP connection to ${host}:${port}: ${error.code ?? error.message}. ` +
                'Check the host name and port, that sshd is running there, and any VPN or firewall.',
          { cause: error, level: error.code === 'ENOTFOUND' ? 'client-dns' : 'client-socket' },
        ),
      );
    const onAbort = () => settle(signalError(signal, 'connect'));
    socket.once('connect', onConnect).once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Opens a `direct-tcpip` channel from the jump host `via` to `host:port`, the stream the next
 * hop's SSH session runs over (OpenSSH `ProxyJump`).
 * @throws {SlurmTransportError} `ERR_SSH_CONNECT` when the jump host refuses or cannot reach the target.
 */
export function forwardThrough(via: Client, viaName: string, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, host, port, (error, stream) => {
      if (error) {
        reject(
          new SlurmTransportError(
            'ERR_SSH_CONNECT',
            `The jump host ${viaName} could not open a connection to ${host}:${port}: ${error.message}. ` +
              'Check the target host and port as seen from the jump host, and that its sshd allows TCP forwarding ' +
              '(AllowTcpForwarding).',
            { cause: error },
          ),
        );
        return;
      }
      resolve(stream);
    });
  });
}
