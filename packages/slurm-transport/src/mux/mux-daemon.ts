import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../ssh/logger.js';
import { ConnectionPool } from './connection-pool.js';
import { acquireDaemonLock, type DaemonLock } from './daemon-lock.js';
import { DaemonSession } from './daemon-session.js';
import { type FileLogger, openFileLogger } from './file-logger.js';
import { ensurePrivateDir, type MuxPathOptions, type MuxPaths, resolveMuxPaths } from './mux-paths.js';
import { muxError } from './wire-errors.js';
import { MUX_PROTOCOL_VERSION, MUX_WS_PATH, type MuxStatus } from './wire-frames.js';
import { wsPackage } from './ws-module.js';

/** Options of {@link runMuxDaemon}. */
export interface MuxDaemonOptions extends MuxPathOptions {
  /**
   * The daemon exits this long after its last client left and its last channel closed, like
   * OpenSSH `ControlPersist`; an SSH connection nobody is attached to closes after the same time.
   * @default 600000 (10 minutes)
   */
  idleTimeoutMs?: number;
  /**
   * Receives the daemon's events; never secrets.
   * @default a logger appending to {@link MuxPaths.logPath}
   */
  logger?: Logger;
  /** Aborting stops the daemon, as {@link MuxDaemon.close}. */
  signal?: AbortSignal;
}

/** A running multiplexing daemon. */
export interface MuxDaemon {
  readonly paths: MuxPaths;
  /** Settles once the daemon stopped (idle timeout, `shutdown` request, signal or close) and removed its files. */
  readonly closed: Promise<void>;
  /** What a `status` request reports. */
  status(): MuxStatus;
  /** Stops the daemon: closes clients and SSH connections, removes the socket, token and lock. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Runs the daemon that shares one SSH connection per `user@host:port` among every local bridge
 * process, like an OpenSSH ControlMaster: a WebSocket server on a unix socket in a private
 * directory (see {@link ensurePrivateDir}), open to clients presenting the random token in
 * `Authorization: Bearer <token>`. One daemon per directory (lock file); a socket left by a dead
 * daemon is replaced. Resolves once it listens.
 * @throws {SlurmTransportError} `ERR_MUX` when the directory is not private or another daemon runs.
 * @throws {RangeError} for an invalid `idleTimeoutMs` or a directory path too long.
 */
export async function runMuxDaemon(options: MuxDaemonOptions = {}): Promise<MuxDaemon> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 1 || idleTimeoutMs > 2_147_483_647) {
    throw new RangeError(
      `idleTimeoutMs must be an integer from 1 to 2147483647, got ${String(idleTimeoutMs)}`,
    );
  }
  const paths = resolveMuxPaths(options);
  await ensurePrivateDir(paths.dir);
  const fileLogger = options.logger === undefined ? await openFileLogger(paths.logPath) : undefined;
  const logger = options.logger ?? (fileLogger as FileLogger);
  let lock: DaemonLock | undefined;
  const token = randomBytes(32).toString('hex');
  try {
    lock = await acquireDaemonLock(paths.lockPath, () => socketAnswers(paths.socketPath));
    if (await socketAnswers(paths.socketPath)) {
      throw muxError(`Another multiplexing daemon answers on ${paths.socketPath}.`);
    }
    await unlink(paths.socketPath).catch(() => {});
    await writePrivateFile(paths.tokenPath, token);
    const daemon = new Daemon(paths, token, idleTimeoutMs, logger, lock, fileLogger);
    await daemon.listen();
    if (options.signal?.aborted) {
      void daemon.close('signal');
    } else {
      options.signal?.addEventListener('abort', () => void daemon.close('signal'), { once: true });
    }
    return daemon;
  } catch (error) {
    await unlinkIfContent(paths.tokenPath, token);
    await lock?.release();
    await fileLogger?.close();
    throw error;
  }
}

class Daemon implements MuxDaemon {
  readonly paths: MuxPaths;
  readonly closed: Promise<void>;
  readonly #token: Buffer;
  readonly #idleTimeoutMs: number;
  readonly #logger: Logger;
  readonly #lock: DaemonLock;
  readonly #fileLogger: FileLogger | undefined;
  readonly #pool: ConnectionPool;
  readonly #sessions = new Set<DaemonSession>();
  readonly #server: Server;
  readonly #wss = new wsPackage.WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 256 * 1_048_576,
  });
  readonly #startedAt = new Date();
  #rejected = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed: () => void = () => {};

  constructor(
    paths: MuxPaths,
    token: string,
    idleTimeoutMs: number,
    logger: Logger,
    lock: DaemonLock,
    fileLogger?: FileLogger,
  ) {
    this.paths = paths;
    this.#token = Buffer.from(token);
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#logger = logger;
    this.#lock = lock;
    this.#fileLogger = fileLogger;
    this.#pool = new ConnectionPool(logger, idleTimeoutMs, () => this.#settle());
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
    });
    this.#server.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.paths.socketPath, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.paths.socketPath, 0o600);
    this.#server.on('error', (error) => this.#logger.warn(`Socket server error: ${error.message}`));
    this.#logger.info(`Listening on ${this.paths.socketPath} (idle timeout ${this.#idleTimeoutMs} ms)`);
    this.#settle();
  }

  status(): MuxStatus {
    return {
      protocolVersion: MUX_PROTOCOL_VERSION,
      pid: process.pid,
      startedAt: this.#startedAt.toISOString(),
      idleTimeoutMs: this.#idleTimeoutMs,
      clients: this.#sessions.size,
      authCount: this.#pool.authCount,
      rejectedClients: this.#rejected,
      connections: this.#pool.status(),
    };
  }

  close(reason = 'closed'): Promise<void> {
    this.#closing ??= this.#shutdown(reason);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Frees the socket path, token and lock first (a successor may start at once), then the rest.
  async #shutdown(reason: string): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#logger.info(`Stopping (${reason})`);
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const ws of this.#wss.clients) ws.terminate();
    this.#server.closeAllConnections();
    await unlinkIfContent(this.paths.tokenPath, this.#token.toString());
    await this.#lock.release();
    await this.#pool.closeAll();
    await serverClosed;
    this.#wss.close();
    this.#logger.info('Stopped');
    await this.#fileLogger?.close();
    this.#resolveClosed();
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    if (this.#closing !== undefined) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (request.url !== MUX_WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const presented = Buffer.from(/^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
    if (presented.length !== this.#token.length || !timingSafeEqual(presented, this.#token)) {
      this.#rejected += 1;
      this.#logger.warn(`Refused a client with ${presented.length === 0 ? 'no' : 'a wrong'} token`);
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const session = new DaemonSession(ws, {
        pool: this.#pool,
        logger: this.#logger,
        status: () => this.status(),
        shutdown: (why) => void this.close(why),
      });
      this.#sessions.add(session);
      this.#logger.debug(`Client connected (${this.#sessions.size} now)`);
      ws.on('message', (data, isBinary) => session.receive(toBuffer(data), isBinary));
      ws.on('error', (error) => this.#logger.debug(`Client socket error: ${error.message}`));
      ws.on('close', () => {
        session.closed();
        this.#sessions.delete(session);
        this.#logger.debug(`Client disconnected (${this.#sessions.size} left)`);
        this.#settle();
      });
      this.#settle();
    });
  }

  // Starts the idle countdown when no client is connected and no channel is in use.
  #settle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#closing === undefined && this.#sessions.size === 0 && this.#pool.channelsInUse === 0) {
      this.#idleTimer = setTimeout(
        () => void this.close(`idle for ${this.#idleTimeoutMs} ms`),
        this.#idleTimeoutMs,
      );
    }
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** True when something accepts connections on the unix socket `path`. */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// Written under a temporary name and renamed, so a reader never sees a partial token.
async function writePrivateFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, path);
}

async function unlinkIfContent(path: string, content: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === content) {
    await unlink(path).catch(() => {});
  }
}
