import type { KeyboardInteractiveChallenge } from '../ssh/keyboard-interactive.js';
import type { Logger } from '../ssh/logger.js';
import { SshConnection } from '../ssh/ssh-connection.js';
import type { MuxConnectionStatus } from './wire-frames.js';
import { connectionKey, fromWireOptions, type WireConnectionOptions } from './wire-options.js';

/** A daemon client as the pool sees it: it can answer keyboard-interactive challenges. */
export interface PoolClient {
  prompt(challenge: KeyboardInteractiveChallenge): Promise<readonly string[] | undefined>;
}

/** One shared SSH connection and who uses it. */
export interface PoolEntry {
  readonly key: string;
  connection: SshConnection;
  readonly clients: Set<PoolClient>;
  inUse: number;
  authCount: number;
  lastClient: PoolClient | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The daemon's SSH connections, one per {@link connectionKey}, created on the first `connect`
 * with that client's options and shared by every later one. A connection nobody is attached to
 * and nothing runs on is closed after `idleTimeoutMs`.
 */
export class ConnectionPool {
  readonly #entries = new Map<string, PoolEntry>();
  readonly #logger: Logger;
  readonly #idleTimeoutMs: number;
  readonly #onActivity: () => void;
  #closed = false;

  constructor(logger: Logger, idleTimeoutMs: number, onActivity: () => void) {
    this.#logger = logger;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#onActivity = onActivity;
  }

  /** Operations holding a channel, over all connections. */
  get channelsInUse(): number {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.inUse;
    return total;
  }

  /** Successful SSH logins since the pool was created. */
  get authCount(): number {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.authCount;
    return total;
  }

  /**
   * Attaches `client` to the connection for `options`, creating it (lazily) if there is none. A
   * connection that is down and unused is rebuilt from these options, so fixed credentials apply.
   */
  attach(options: WireConnectionOptions, client: PoolClient): PoolEntry {
    const key = connectionKey(options);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const created: PoolEntry = {
        key,
        connection: this.#create(() => created, options),
        clients: new Set(),
        inUse: 0,
        authCount: 0,
        lastClient: undefined,
        idleTimer: undefined,
      };
      entry = created;
      this.#entries.set(key, entry);
      this.#logger.info(`New shared connection ${key}`);
    } else if (entry.connection.state === 'idle' && entry.inUse === 0) {
      const stale = entry.connection;
      const current = entry;
      entry.connection = this.#create(() => current, options);
      void stale.close();
    }
    entry.clients.add(client);
    entry.lastClient = client;
    this.#settle(entry);
    return entry;
  }

  /** Detaches `client`; the connection closes after the idle timeout once nobody uses it. */
  detach(entry: PoolEntry, client: PoolClient): void {
    entry.clients.delete(client);
    if (entry.lastClient === client) entry.lastClient = undefined;
    this.#settle(entry);
  }

  /** Runs `operation` on `entry`'s connection, counting it as a channel in use until it settles. */
  async use<T>(
    entry: PoolEntry,
    client: PoolClient,
    operation: (connection: SshConnection) => Promise<T>,
  ): Promise<T> {
    entry.inUse += 1;
    entry.lastClient = client;
    this.#settle(entry);
    try {
      return await operation(entry.connection);
    } finally {
      entry.inUse -= 1;
      this.#settle(entry);
    }
  }

  /** One row per connection. */
  status(): MuxConnectionStatus[] {
    return [...this.#entries.values()].map((entry) => ({
      key: entry.key,
      state: entry.connection.state,
      authCount: entry.authCount,
      channelsInUse: entry.inUse,
      channelLimit: entry.connection.channelLimit,
      clients: entry.clients.size,
    }));
  }

  /** Closes every connection. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(
      entries.map((entry) => {
        clearTimeout(entry.idleTimer);
        return entry.connection.close();
      }),
    );
  }

  // `owner` is called only once the entry exists (on events and challenges).
  #create(owner: () => PoolEntry, options: WireConnectionOptions): SshConnection {
    // Keyboard-interactive challenges (one-time codes) go to the client that used the
    // connection last, since the daemon has no terminal of its own.
    const relay = (challenge: KeyboardInteractiveChallenge) => {
      const entry = owner();
      const client = entry.lastClient ?? entry.clients.values().next().value;
      return client === undefined ? undefined : client.prompt(challenge);
    };
    const connection = SshConnection.lazy(fromWireOptions(options, relay, this.#logger));
    connection.on('state', (state) => {
      const entry = owner();
      if (state === 'ready' && entry.connection === connection) {
        entry.authCount += 1;
        this.#logger.info(`Authenticated ${entry.key} (login #${entry.authCount} of this connection)`);
      }
    });
    return connection;
  }

  #settle(entry: PoolEntry): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    if (!this.#closed && entry.clients.size === 0 && entry.inUse === 0) {
      entry.idleTimer = setTimeout(() => {
        if (this.#entries.get(entry.key) === entry) {
          this.#entries.delete(entry.key);
          this.#logger.info(`Closing idle shared connection ${entry.key}`);
          void entry.connection.close();
        }
      }, this.#idleTimeoutMs);
      entry.idleTimer.unref();
    }
    this.#onActivity();
  }
}
