export { type BackoffOptions, backoffDelay, resolveBackoff } from './backoff.js';
export type {
  HostKeyPolicy,
  ReconnectOptions,
  SshConnectionOptions,
  SshEndpointOptions,
} from './connection-options.js';
export type {
  KeyboardInteractiveChallenge,
  KeyboardInteractivePrompt,
  KeyboardInteractiveResponder,
} from './keyboard-interactive.js';
export {
  checkHostKey,
  formatKnownHostsLine,
  type HostKeyCheck,
  hostFieldMatches,
  type KnownHostsEntry,
  knownHostsName,
  parseKnownHosts,
  sshFingerprint,
  sshKeyType,
} from './known-hosts.js';
export { type Logger, silentLogger } from './logger.js';
export { buildRemoteCommand } from './remote-command.js';
export type { ExecOptions, ExecResult, RemoteExecutor } from './remote-executor.js';
export { type TailChunk, type TailFile, type TailOptions, tailRemoteFiles } from './remote-tail.js';
export type {
  MkdirOptions,
  RemoteExit,
  RemoteFileOptions,
  RemoteFileStore,
  RemoteProcess,
  RemoteSpawner,
  RemoteStats,
  RemoteTransport,
  SpawnOptions,
  UploadFileOptions,
  UploadResult,
} from './remote-transport.js';
export { shellJoin, shellQuote } from './shell-quote.js';
export {
  type EnsureConnectedOptions,
  SshConnection,
  type SshConnectionEvents,
  type SshConnectionState,
} from './ssh-connection.js';
