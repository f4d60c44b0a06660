import { isAbsolute } from 'node:path';
import type { WebSocket } from 'ws';
import type { KeyboardInteractiveChallenge } from '../ssh/keyboard-interactive.js';
import type { Logger } from '../ssh/logger.js';
import type { ExecOptions } from '../ssh/remote-executor.js';
import type { UploadFileOptions } from '../ssh/remote-transport.js';
import type { ConnectionPool, PoolClient, PoolEntry } from './connection-pool.js';
import { type FrameSink, SpawnForwarder } from './daemon-spawn.js';
import { decodeDataFrame } from './wire-data.js';
import { muxError, toWireError } from './wire-errors.js';
import {
  type ClientFrame,
  type DaemonFrame,
  type MuxStatus,
  parseClientFrame,
  type RequestFrame,
} from './wire-frames.js';

/** What a session needs from its daemon. */
export interface SessionContext {
  pool: ConnectionPool;
  logger: Logger;
  status(): MuxStatus;
  shutdown(reason: string): void;
}

interface Operation {
  readonly controller: AbortController;
  spawn: SpawnForwarder | undefined;
}

// A reply was already sent (spawn) or none is due.
const NO_REPLY = Symbol('no reply');
// How long a keyboard-interactive challenge waits for the client's answer.
const PROMPT_TIMEOUT_MS = 300_000;
const PROGRESS_INTERVAL_MS = 100;

/**
 * One client socket of the daemon: parses and validates its frames, runs its operations on the
 * shared connections (many at once, by request id) and answers. A malformed frame gets an
 * `error` reply; nothing a client sends can crash the daemon. Closing the socket aborts the
 * client's operations.
 */
export class DaemonSession implements PoolClient {
  readonly #ws: WebSocket;
  readonly #context: SessionContext;
  readonly #sink: FrameSink;
  readonly #operations = new Map<number, Operation>();
  readonly #attached = new Map<string, PoolEntry>();
  readonly #prompts = new Map<number, (answers: readonly string[] | undefined) => void>();
  #nextPromptId = 1;
  #closed = false;

  constructor(ws: WebSocket, context: SessionContext) {
    this.#ws = ws;
    this.#context = context;
    this.#sink = {
      json: (frame) => this.#sendJson(frame),
      binary: (data) => {
        if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
      },
    };
  }

  /** Handles one frame from the socket. */
  receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.#receiveData(data);
      return;
    }
    const parsed = parseClientFrame(data.toString('utf8'));
    if ('error' in parsed) {
      this.#context.logger.warn(`Malformed frame from a client: ${parsed.error.split('\n')[0]}`);
      this.#sendJson({
        type: 'error',
        id: parsed.id,
        error: toWireError(muxError(`Malformed frame: ${parsed.error}`)),
      });
      return;
    }
    this.#dispatch(parsed.frame);
  }

  /** The socket closed: aborts this client's operations and detaches it. */
  closed(): void {
    this.#closed = true;
    for (const operation of this.#operations.values()) {
      operation.spawn?.close();
      operation.spawn?.abandon();
      operation.controller.abort(muxError('The client disconnected.'));
    }
    for (const resolve of this.#prompts.values()) resolve(undefined);
    this.#prompts.clear();
    for (const entry of this.#attached.values()) this.#context.pool.detach(entry, this);
    this.#attached.clear();
  }

  /** Asks this client to answer a keyboard-interactive challenge; `undefined` if it cannot. */
  prompt(challenge: KeyboardInteractiveChallenge): Promise<readonly string[] | undefined> {
    if (this.#closed) {
      return Promise.resolve(undefined);
    }
    const id = this.#nextPromptId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), PROMPT_TIMEOUT_MS);
      const finish = (answers: readonly string[] | undefined) => {
        clearTimeout(timer);
        this.#prompts.delete(id);
        resolve(answers);
      };
      this.#prompts.set(id, finish);
      const { target, name, instructions, prompts } = challenge;
      this.#sendJson({
        type: 'prompt',
        id,
        challenge: { target, name, instructions, prompts: [...prompts] },
      });
    });
  }

  #dispatch(frame: ClientFrame): void {
    const operation = this.#operations.get(frame.id);
    switch (frame.type) {
      case 'abort':
        operation?.spawn?.abandon();
        operation?.controller.abort();
        return;
      case 'close':
        operation?.spawn?.close();
        return;
      case 'stdin-end':
        operation?.spawn?.endStdin();
        return;
      case 'ack':
        operation?.spawn?.ack(frame.stream, frame.bytes);
        return;
      case 'kbd-answer':
        this.#prompts.get(frame.id)?.(frame.answers ?? undefined);
        return;
      default:
        this.#start(frame);
    }
  }

  #start(frame: RequestFrame): void {
    const { id } = frame;
    if (this.#operations.has(id)) {
      this.#sendJson({
        type: 'error',
        id,
        error: toWireError(muxError(`Request id ${id} is already in use.`)),
      });
      return;
    }
    const operation: Operation = { controller: new AbortController(), spawn: undefined };
    this.#operations.set(id, operation);
    this.#run(frame, operation)
      .then(
        (value) => {
          if (value !== NO_REPLY) this.#sendJson({ type: 'result', id, value: value ?? null });
        },
        (error: unknown) => this.#sendJson({ type: 'error', id, error: toWireError(error) }),
      )
      .finally(() => this.#operations.delete(id));
  }

  async #run(frame: RequestFrame, operation: Operation): Promise<unknown> {
    const { pool } = this.#context;
    const { signal } = operation.controller;
    switch (frame.type) {
      case 'status':
        return this.#context.status();
      case 'shutdown':
        setImmediate(() => this.#context.shutdown('asked by a client'));
        return null;
      case 'connect': {
        const entry = pool.attach(frame.options, this);
        this.#attached.set(entry.key, entry);
        try {
          await entry.connection.ensureConnected({ signal });
        } catch (error) {
          this.#attached.delete(entry.key);
          pool.detach(entry, this);
          throw error;
        }
        return { conn: entry.key, target: entry.connection.target };
      }
      case 'exec': {
        const options: ExecOptions = { signal };
        if (frame.stdin !== undefined) {
          options.stdin =
            typeof frame.stdin === 'string' ? frame.stdin : Buffer.from(frame.stdin.base64, 'base64');
        }
        if (frame.timeoutMs !== undefined) options.timeoutMs = frame.timeoutMs;
        return pool.use(this.#entry(frame.conn), this, (connection) => connection.exec(frame.argv, options));
      }
      case 'spawn':
        return pool.use(this.#entry(frame.conn), this, async (connection) => {
          const process = await connection.spawn(frame.argv, { signal });
          operation.spawn = new SpawnForwarder(frame.id, process, this.#sink);
          this.#sendJson({ type: 'result', id: frame.id, value: null });
          const exit = await operation.spawn.done;
          this.#sendJson({ type: 'exit', id: frame.id, exitCode: exit.exitCode, signal: exit.signal });
          return NO_REPLY;
        });
      case 'upload': {
        if (!isAbsolute(frame.localPath)) {
          throw new TypeError(
            `uploadFile: the daemon needs an absolute local path, got ${JSON.stringify(frame.localPath)}`,
          );
        }
        const options: UploadFileOptions = { signal };
        if (frame.name !== undefined) options.name = frame.name;
        if (frame.mode !== undefined) options.mode = frame.mode;
        if (frame.dirMode !== undefined) options.dirMode = frame.dirMode;
        if (frame.progress) options.onProgress = this.#progress(frame.id);
        return pool.use(this.#entry(frame.conn), this, (connection) =>
          connection.uploadFile(frame.localPath, frame.remoteCacheDir, options),
        );
      }
      case 'readFile': {
        const data = await pool.use(this.#entry(frame.conn), this, (c) => c.readFile(frame.path, { signal }));
        return { base64: data.toString('base64') };
      }
      case 'stat': {
        const stats = await pool.use(this.#entry(frame.conn), this, (c) => c.stat(frame.path, { signal }));
        if (stats === undefined) return null;
        const { size, mode, mtime, isFile, isDirectory } = stats;
        return { size, mode, mtimeMs: mtime.getTime(), isFile, isDirectory };
      }
      case 'mkdir': {
        const options = frame.mode === undefined ? { signal } : { signal, mode: frame.mode };
        await pool.use(this.#entry(frame.conn), this, (c) => c.mkdir(frame.path, options));
        return null;
      }
    }
  }

  #entry(conn: string): PoolEntry {
    const entry = this.#attached.get(conn);
    if (entry === undefined) {
      throw muxError(
        `This client has not connected to ${JSON.stringify(conn)}; send a connect request first.`,
      );
    }
    return entry;
  }

  // Upload progress, at most every PROGRESS_INTERVAL_MS and always the final count.
  #progress(id: number): (transferred: number, total: number) => void {
    let last = 0;
    return (transferred, total) => {
      const now = performance.now();
      if (transferred >= total || now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        this.#sendJson({ type: 'progress', id, transferred, total });
      }
    };
  }

  #receiveData(data: Buffer): void {
    const frame = decodeDataFrame(data);
    if ('error' in frame) {
      this.#sendJson({
        type: 'error',
        id: null,
        error: toWireError(muxError(`Malformed binary frame: ${frame.error}`)),
      });
      return;
    }
    if (frame.stream !== 'stdin') {
      this.#sendJson({
        type: 'error',
        id: null,
        error: toWireError(
          muxError(`Malformed binary frame: clients may only send stdin, got ${frame.stream}`),
        ),
      });
      return;
    }
    // Bytes for a process that just ended are dropped, as a closed pipe would.
    this.#operations.get(frame.id)?.spawn?.writeStdin(frame.chunk);
  }

  #sendJson(frame: DaemonFrame): void {
    if (this.#ws.readyState === this.#ws.OPEN) {
      this.#ws.send(JSON.stringify(frame));
    }
  }
}
