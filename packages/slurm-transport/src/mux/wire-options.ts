import { resolve } from 'node:path';
import * as z from 'zod';
import type {
  ResolvedConnectionOptions,
  ResolvedEndpoint,
  SshConnectionOptions,
  SshEndpointOptions,
} from '../ssh/connection-options.js';
import type { KeyboardInteractiveResponder } from '../ssh/keyboard-interactive.js';
import type { Logger } from '../ssh/logger.js';

// SSH connection options as a client sends them to the daemon: defaults already applied by the
// client (agent socket from ITS environment, absolute paths from ITS working directory), secrets
// included. They travel only over the private socket and are never logged.

const Endpoint = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  username: z.string().min(1),
  privateKeyPath: z.string().min(1).optional(),
  privateKeyBase64: z.base64().optional(),
  passphrase: z.string().optional(),
  password: z.string().optional(),
  agent: z.string().min(1).optional(),
  /** The daemon relays keyboard-interactive challenges to a client when true. */
  keyboardInteractive: z.boolean(),
  hostKeyPolicy: z.enum(['strict', 'accept-new', 'off']),
  knownHostsPath: z.string().min(1),
  get jumpHost() {
    return Endpoint.optional();
  },
});
type Endpoint = z.infer<typeof Endpoint>;

/** The `options` of a `connect` frame. */
export const WireConnectionOptions = Endpoint.extend({
  connectTimeoutMs: z.number().int().positive(),
  keepaliveIntervalMs: z.number().int().nonnegative(),
  keepaliveCountMax: z.number().int().positive(),
  maxChannels: z.number().int().positive(),
  reconnect: z.union([
    z.literal(false),
    z.strictObject({
      maxAttempts: z.number().int().positive(),
      initialDelayMs: z.number().nonnegative(),
      maxDelayMs: z.number().nonnegative(),
      factor: z.number().positive(),
      jitter: z.number().min(0).max(1),
    }),
  ]),
});
export type WireConnectionOptions = z.infer<typeof WireConnectionOptions>;

/** Client side: resolved options to their wire form, relative paths made absolute against `cwd`. */
export function toWireOptions(
  options: ResolvedConnectionOptions,
  cwd = process.cwd(),
): WireConnectionOptions {
  return {
    ...toWireEndpoint(options.endpoint, cwd),
    connectTimeoutMs: options.connectTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs,
    keepaliveCountMax: options.keepaliveCountMax,
    maxChannels: options.maxChannels,
    reconnect: options.reconnect === false ? false : { ...options.reconnect },
  };
}

function toWireEndpoint(endpoint: ResolvedEndpoint, cwd: string): Endpoint {
  const wire: Endpoint = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    keyboardInteractive: endpoint.keyboardInteractive !== false,
    hostKeyPolicy: endpoint.hostKeyPolicy,
    knownHostsPath: resolve(cwd, endpoint.knownHostsPath),
  };
  if (endpoint.privateKeyPath !== undefined) wire.privateKeyPath = resolve(cwd, endpoint.privateKeyPath);
  if (endpoint.privateKey !== undefined)
    wire.privateKeyBase64 = Buffer.from(endpoint.privateKey).toString('base64');
  if (endpoint.passphrase !== undefined) wire.passphrase = endpoint.passphrase;
  if (endpoint.password !== undefined) wire.password = endpoint.password;
  if (endpoint.agent !== undefined) wire.agent = endpoint.agent;
  if (endpoint.jumpHost !== undefined) wire.jumpHost = toWireEndpoint(endpoint.jumpHost, cwd);
  return wire;
}

/**
 * Daemon side: wire options to {@link SshConnectionOptions}. `relay` answers keyboard-interactive
 * challenges (it asks a client); `logger` is the daemon's.
 */
export function fromWireOptions(
  wire: WireConnectionOptions,
  relay: KeyboardInteractiveResponder,
  logger: Logger,
): SshConnectionOptions {
  return {
    ...fromWireEndpoint(wire, relay),
    connectTimeoutMs: wire.connectTimeoutMs,
    keepaliveIntervalMs: wire.keepaliveIntervalMs,
    keepaliveCountMax: wire.keepaliveCountMax,
    maxChannels: wire.maxChannels,
    reconnect: wire.reconnect === false ? false : { ...wire.reconnect },
    logger,
  };
}

function fromWireEndpoint(wire: Endpoint, relay: KeyboardInteractiveResponder): SshEndpointOptions {
  const endpoint: SshEndpointOptions = {
    host: wire.host,
    port: wire.port,
    username: wire.username,
    // The daemon's own SSH_AUTH_SOCK is whatever the first client had; use only what was sent.
    agent: wire.agent ?? false,
    keyboardInteractive: wire.keyboardInteractive ? relay : false,
    hostKeyPolicy: wire.hostKeyPolicy,
    knownHostsPath: wire.knownHostsPath,
  };
  if (wire.privateKeyPath !== undefined) endpoint.privateKeyPath = wire.privateKeyPath;
  if (wire.privateKeyBase64 !== undefined) endpoint.privateKey = Buffer.from(wire.privateKeyBase64, 'base64');
  if (wire.passphrase !== undefined) endpoint.passphrase = wire.passphrase;
  if (wire.password !== undefined) endpoint.password = wire.password;
  if (wire.jumpHost !== undefined) endpoint.jumpHost = fromWireEndpoint(wire.jumpHost, relay);
  return endpoint;
}

/**
 * The key connections are shared under: `user@host:port`, the jump chain, and each hop's host key
 * policy (a client asking for `strict` never gets a connection opened with `off`). Credentials
 * are not part of it: as with an OpenSSH ControlMaster, the first client's login is shared.
 */
export function connectionKey(wire: Endpoint): string {
  const hops: string[] = [];
  for (let hop: Endpoint | undefined = wire; hop !== undefined; hop = hop.jumpHost) {
    hops.push(
      `${hop.username}@${hop.host}:${hop.port}${hop.hostKeyPolicy === 'strict' ? '' : `[${hop.hostKeyPolicy}]`}`,
    );
  }
  return hops.join(' via ');
}
