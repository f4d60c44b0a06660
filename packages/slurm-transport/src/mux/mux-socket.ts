import { readFile } from 'node:fs/promises';
import type WebSocket from 'ws';
import type * as z from 'zod';
import { SlurmTransportError } from '../errors.js';
import { signalError } from '../ssh/abort.js';
import type { KeyboardInteractiveChallenge } from '../ssh/keyboard-interactive.js';
import type { MuxPaths } from './mux-paths.js';
import { decodeDataFrame, encodeDataFrame, type StreamName } from './wire-data.js';
import { fromWireError, muxError, toWireError } from './wire-errors.js';
import {
  type ClientFrame,
  type DaemonFrame,
  MUX_WS_PATH,
  parseDaemonFrame,
  type RequestFrame,
} from './wire-frames.js';
import { wsPackage } from './ws-module.js';

/** Receives what the daemon sends for one request id until {@link MuxSocket.release}. */
export interface RequestHandler {
  frame(frame: DaemonFrame): void;
  data(stream: StreamName, chunk: Buffer): void;
  /** The socket to the daemon closed before the request finished. */
  lost(error: SlurmTransportError): void;
}

/** Why dialing the daemon failed: no daemon (`absent`, `refused`), a stale token, or anything else. */
export type DialFailure = 'absent' | 'refused' | 'unauthorized' | 'failed';

/** Outcome of {@link MuxSocket.dial}. */
export type DialResult =
  | { ok: true; socket: MuxSocket }
  | { ok: false; reason: DialFailure; error: SlurmTransportError };

/** A request frame before the socket assigns its id. */
export type RequestBody = RequestFrame extends infer F
  ? F extends RequestFrame
    ? Omit<F, 'id'>
    : never
  : never;

/**
 * The client end of one daemon socket: assigns request ids, routes replies and stream bytes to
 * their request, and fails every open request when the socket drops.
 */
export class MuxSocket {
  readonly #ws: WebSocket;
  readonly #handlers = new Map<number, RequestHandler>();
  #nextId = 1;
  #lost: SlurmTransportError | undefined;
  /** Answers a keyboard-interactive challenge relayed by the daemon. */
  onPrompt: ((challenge: KeyboardInteractiveChallenge) => Promise<readonly string[] | undefined>) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => this.#receive(data as Buffer, isBinary));
    ws.on('error', () => {});
    ws.on('close', (code, reason) => {
      this.#lost = new SlurmTransportError(
        'ERR_SSH_DISCONNECTED',
        `The connection to the multiplexing daemon closed (code ${code}${reason.length > 0 ? `, ${reason.toString()}` : ''}).`,
        { cause: muxError('daemon socket closed') },
      );
      const handlers = [...this.#handlers.values()];
      this.#handlers.clear();
      for (const handler of handlers) handler.lost(this.#lost);
    });
  }

  /** Connects to the daemon at `paths` with the token from its token file. */
  static async dial(paths: MuxPaths, timeoutMs: number): Promise<DialResult> {
    const token = await readFile(paths.tokenPath, 'utf8').catch(() => undefined);
    if (token === undefined) {
      return {
        ok: false,
        reason: 'absent',
        error: muxError(`No multiplexing daemon token at ${paths.tokenPath}.`),
      };
    }
    return new Promise((resolve) => {
      const ws = new wsPackage.WebSocket(`ws+unix://${paths.socketPath}:${MUX_WS_PATH}`, {
        headers: { authorization: `Bearer ${token.trim()}` },
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
        maxPayload: 256 * 1_048_576,
      });
      const fail = (reason: DialFailure, message: string, cause?: unknown) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        resolve({ ok: false, reason, error: muxError(message, cause) });
      };
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve({ ok: true, socket: new MuxSocket(ws) });
      });
      ws.once('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 0;
        fail(
          status === 401 ? 'unauthorized' : 'failed',
          `The multiplexing daemon at ${paths.socketPath} answered HTTP ${status}.`,
        );
      });
      ws.once('error', (error: NodeJS.ErrnoException) => {
        const reason =
          error.code === 'ENOENT' ? 'absent' : error.code === 'ECONNREFUSED' ? 'refused' : 'failed';
        fail(reason, `Cannot reach the multiplexing daemon at ${paths.socketPath}: ${error.message}`, error);
      });
    });
  }

  /** Why the socket closed, once it did. */
  get lost(): SlurmTransportError | undefined {
    return this.#lost;
  }

  /** Sends a request and routes what comes back for it to `handler`; returns its id. */
  open(body: RequestBody, handler: RequestHandler): number {
    if (this.#lost !== undefined) {
      throw this.#lost;
    }
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    this.#handlers.set(id, handler);
    this.send({ ...body, id } as ClientFrame);
    return id;
  }

  /** Stops routing frames of `id` (late frames for it are dropped). */
  release(id: number): void {
    this.#handlers.delete(id);
  }

  /**
   * Sends a request and resolves with its `result`, checked against `schema`. Aborting `signal`
   * tells the daemon to abort it and rejects at once.
   * @throws {SlurmTransportError} the daemon's error, `ERR_ABORTED`, or `ERR_SSH_DISCONNECTED` when the socket drops.
   */
  request<T>(
    body: RequestBody,
    schema: z.ZodType<T>,
    options: {
      signal?: AbortSignal | undefined;
      onProgress?: ((transferred: number, total: number) => void) | undefined;
    } = {},
  ): Promise<T> {
    const { signal, onProgress } = options;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signalError(signal));
        return;
      }
      let id = 0;
      const onAbort = () => {
        this.release(id);
        this.send({ type: 'abort', id });
        reject(signalError(signal));
      };
      const settle = () => {
        this.release(id);
        signal?.removeEventListener('abort', onAbort);
      };
      id = this.open(body, {
        frame: (frame) => {
          if (frame.type === 'progress') {
            onProgress?.(frame.transferred, frame.total);
            return;
          }
          settle();
          if (frame.type === 'error') {
            reject(fromWireError(frame.error));
          } else if (frame.type === 'result') {
            const parsed = schema.safeParse(frame.value);
            if (parsed.success) {
              resolve(parsed.data);
            } else {
              reject(muxError(`The multiplexing daemon sent a malformed ${body.type} result.`, parsed.error));
            }
          } else {
            reject(
              muxError(
                `The multiplexing daemon sent an unexpected ${frame.type} frame for a ${body.type} request.`,
              ),
            );
          }
        },
        data: () => {},
        lost: (error) => {
          settle();
          reject(error);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Sends a control frame (no-op once the socket closed). */
  send(frame: ClientFrame): void {
    if (this.#ws.readyState === wsPackage.WebSocket.OPEN) {
      this.#ws.send(JSON.stringify(frame));
    }
  }

  /** Sends stream bytes for request `id`. */
  sendData(id: number, stream: StreamName, chunk: Buffer): void {
    if (this.#ws.readyState === wsPackage.WebSocket.OPEN) {
      this.#ws.send(encodeDataFrame(id, stream, chunk), { binary: true });
    }
  }

  /** Closes the socket; the daemon aborts this client's operations. Resolves once closed. */
  close(): Promise<void> {
    if (this.#ws.readyState === wsPackage.WebSocket.CLOSED) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#ws.once('close', () => resolve());
      this.#ws.close(1000, 'client closed');
      const timer = setTimeout(() => this.#ws.terminate(), 1_000);
      timer.unref();
    });
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const frame = decodeDataFrame(data);
      if (!('error' in frame)) this.#handlers.get(frame.id)?.data(frame.stream, frame.chunk);
      return;
    }
    const parsed = parseDaemonFrame(data.toString('utf8'));
    if ('error' in parsed) {
      // Fail the request the frame was for, if it can be told; drop it otherwise.
      const error = toWireError(muxError(`The multiplexing daemon sent a malformed frame: ${parsed.error}`));
      if (parsed.id !== null) this.#handlers.get(parsed.id)?.frame({ type: 'error', id: parsed.id, error });
      return;
    }
    const { frame } = parsed;
    if (frame.type === 'prompt') {
      void this.#answer(frame.id, frame.challenge);
      return;
    }
    if (frame.id !== null) this.#handlers.get(frame.id)?.frame(frame);
  }

  async #answer(id: number, challenge: KeyboardInteractiveChallenge): Promise<void> {
    let answers: readonly string[] | undefined;
    try {
      answers = await this.onPrompt?.(challenge);
    } catch {
      answers = undefined;
    }
    this.send({ type: 'kbd-answer', id, answers: answers === undefined ? null : [...answers] });
  }
}
