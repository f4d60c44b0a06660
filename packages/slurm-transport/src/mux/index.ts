export { MuxClient, type MuxClientOptions } from './mux-client.js';
export { type MuxDaemon, type MuxDaemonOptions, runMuxDaemon } from './mux-daemon.js';
export {
  ensurePrivateDir,
  MUX_DIR_ENV,
  type MuxPathOptions,
  type MuxPaths,
  resolveMuxPaths,
} from './mux-paths.js';
export {
  getMuxDaemonStatus,
  type MuxMode,
  type MuxQueryOptions,
  type OpenRemoteTransportOptions,
  openRemoteTransport,
  stopMuxDaemon,
} from './open-remote-transport.js';
export { MUX_PROTOCOL_VERSION, type MuxConnectionStatus, type MuxStatus } from './wire-frames.js';
