import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP relay whose connections a test can cut, to simulate a dropped network. */
export interface TcpProxy {
  port: number;
  /** Connections relayed so far. */
  readonly connections: number;
  /** Destroys every open relayed connection (both sides); new ones are still accepted. */
  cut(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Relays 127.0.0.1:<random port> to `targetHost:targetPort`. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((inbound) => {
    connections += 1;
    const outbound = connect(targetPort, targetHost);
    open.add(inbound).add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const cut = () => {
    for (const socket of open) {
      socket.destroy();
    }
    open.clear();
  };
  const close = async () => {
    cut();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    get connections() {
      return connections;
    },
    cut,
    close,
    [Symbol.asyncDispose]: close,
  };
}
