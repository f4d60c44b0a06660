import * as z from 'zod';
import { WireError } from './wire-errors.js';
import { WireConnectionOptions } from './wire-options.js';

// The multiplexing protocol, version 1. Text frames carry one JSON object each (below); binary
// frames carry stream bytes (see wire-data.ts). Every request has a client-chosen `id`, unique
// among the client's requests in flight; replies and stream events carry the same `id`.
//
//   client → daemon: connect, exec, spawn, upload, readFile, stat, mkdir, status, shutdown,
//                    abort, close, stdin-end, ack (stdout/stderr bytes consumed), kbd-answer
//   daemon → client: result, error, progress, end (stdout/stderr EOF), exit, ack (stdin bytes
//                    written), prompt (keyboard-interactive challenge to answer)

/** Bumped on incompatible changes; part of the socket's file name, so versions never meet. */
export const MUX_PROTOCOL_VERSION = 1;

/** The WebSocket path of this protocol version; the daemon answers other paths with 404. */
export const MUX_WS_PATH = `/v${MUX_PROTOCOL_VERSION}`;

const Id = z.number().int().min(1).max(0xffff_ffff);
const Conn = z.string().min(1).max(4_096);
const Argv = z.array(z.string()).min(1);
const Bytes = z.strictObject({ base64: z.base64() });
const Stdin = z.union([z.string(), Bytes]);
const FileMode = z.number().int().min(0).max(0o7777);

/** Frames a client sends. */
export const ClientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('connect'), id: Id, options: WireConnectionOptions }),
  z.strictObject({
    type: z.literal('exec'),
    id: Id,
    conn: Conn,
    argv: Argv,
    stdin: Stdin.optional(),
    timeoutMs: z.number().positive().optional(),
  }),
  z.strictObject({ type: z.literal('spawn'), id: Id, conn: Conn, argv: Argv }),
  z.strictObject({
    type: z.literal('upload'),
    id: Id,
    conn: Conn,
    /** Absolute local path: the daemon runs on the client's machine and reads the file itself. */
    localPath: z.string().min(1),
    remoteCacheDir: z.string(),
    name: z.string().optional(),
    mode: FileMode.optional(),
    dirMode: FileMode.optional(),
    progress: z.boolean(),
  }),
  z.strictObject({ type: z.literal('readFile'), id: Id, conn: Conn, path: z.string() }),
  z.strictObject({ type: z.literal('stat'), id: Id, conn: Conn, path: z.string() }),
  z.strictObject({
    type: z.literal('mkdir'),
    id: Id,
    conn: Conn,
    path: z.string(),
    mode: FileMode.optional(),
  }),
  z.strictObject({ type: z.literal('status'), id: Id }),
  z.strictObject({ type: z.literal('shutdown'), id: Id }),
  z.strictObject({ type: z.literal('abort'), id: Id }),
  z.strictObject({ type: z.literal('close'), id: Id }),
  z.strictObject({ type: z.literal('stdin-end'), id: Id }),
  z.strictObject({
    type: z.literal('ack'),
    id: Id,
    stream: z.enum(['stdout', 'stderr']),
    bytes: z.number().int().positive(),
  }),
  z.strictObject({ type: z.literal('kbd-answer'), id: Id, answers: z.array(z.string()).nullable() }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** Client frames that start an operation (as opposed to steering one). */
export type RequestFrame = Extract<
  ClientFrame,
  { type: 'connect' | 'exec' | 'spawn' | 'upload' | 'readFile' | 'stat' | 'mkdir' | 'status' | 'shutdown' }
>;

const Challenge = z.strictObject({
  target: z.string(),
  name: z.string(),
  instructions: z.string(),
  prompts: z.array(z.strictObject({ prompt: z.string(), echo: z.boolean() })),
});

/** Frames the daemon sends. `error` has `id: null` when the offending frame had no readable id. */
export const DaemonFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('result'), id: Id, value: z.unknown() }),
  z.strictObject({ type: z.literal('error'), id: Id.nullable(), error: WireError }),
  z.strictObject({ type: z.literal('progress'), id: Id, transferred: z.number(), total: z.number() }),
  z.strictObject({ type: z.literal('end'), id: Id, stream: z.enum(['stdout', 'stderr']) }),
  z.strictObject({
    type: z.literal('exit'),
    id: Id,
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
  }),
  z.strictObject({
    type: z.literal('ack'),
    id: Id,
    stream: z.literal('stdin'),
    bytes: z.number().int().positive(),
  }),
  z.strictObject({ type: z.literal('prompt'), id: Id, challenge: Challenge }),
]);
export type DaemonFrame = z.infer<typeof DaemonFrame>;

// `result.value` of each request type.
export const ConnectResult = z.strictObject({ conn: Conn, target: z.string() });
export const ExecResultValue = z.strictObject({
  stdout: z.string(),
  stderr: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
});
export const SpawnResult = z.null();
export const UploadResultValue = z.strictObject({
  remotePath: z.string(),
  sha256: z.string(),
  size: z.number(),
  uploaded: z.boolean(),
});
export const ReadFileResult = Bytes;
export const StatResult = z
  .strictObject({
    size: z.number(),
    mode: z.number(),
    mtimeMs: z.number(),
    isFile: z.boolean(),
    isDirectory: z.boolean(),
  })
  .nullable();
export const EmptyResult = z.null();

/** One shared SSH connection, as {@link MuxStatus} reports it. */
export const MuxConnectionStatus = z.strictObject({
  /** `user@host:port[ via jump…]`, the sharing key. */
  key: z.string(),
  /** The `SshConnection` state (`idle`, `connecting`, `ready`, `reconnecting`, `closed`). */
  state: z.enum(['idle', 'connecting', 'ready', 'reconnecting', 'closed']),
  /** Successful SSH logins of this connection (1 unless it reconnected). */
  authCount: z.number().int(),
  /** Operations holding a channel (exec, spawn, SFTP) right now. */
  channelsInUse: z.number().int(),
  /** The connection's current channel cap. */
  channelLimit: z.number().int(),
  /** Clients attached to it. */
  clients: z.number().int(),
});
export type MuxConnectionStatus = z.infer<typeof MuxConnectionStatus>;

/** What the daemon's `status` request reports. */
export const MuxStatus = z.strictObject({
  protocolVersion: z.number().int(),
  pid: z.number().int(),
  startedAt: z.string(),
  idleTimeoutMs: z.number(),
  /** Client sockets connected now. */
  clients: z.number().int(),
  /** Successful SSH logins since the daemon started, over all connections. */
  authCount: z.number().int(),
  /** Token-less or wrong-token connection attempts refused since the daemon started. */
  rejectedClients: z.number().int(),
  connections: z.array(MuxConnectionStatus),
});
export type MuxStatus = z.infer<typeof MuxStatus>;

/** Parses a client's text frame; the error names what is wrong (for the `error` reply). */
export function parseClientFrame(
  text: string,
): { frame: ClientFrame } | { error: string; id: number | null } {
  return parseFrame(ClientFrame, text);
}

/** Parses a daemon's text frame. */
export function parseDaemonFrame(
  text: string,
): { frame: DaemonFrame } | { error: string; id: number | null } {
  return parseFrame(DaemonFrame, text);
}

function parseFrame<T>(
  schema: z.ZodType<T>,
  text: string,
): { frame: T } | { error: string; id: number | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})`, id: null };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) {
    return { frame: parsed.data };
  }
  const id = Id.safeParse((json as { id?: unknown } | null)?.id);
  return { error: z.prettifyError(parsed.error), id: id.success ? id.data : null };
}
