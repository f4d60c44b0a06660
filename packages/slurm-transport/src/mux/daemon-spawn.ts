import type { Readable } from 'node:stream';
import type { RemoteExit, RemoteProcess } from '../ssh/remote-transport.js';
import { encodeDataFrame, STREAM_WINDOW_BYTES } from './wire-data.js';
import type { DaemonFrame } from './wire-frames.js';

/** Where the daemon sends frames for one client. */
export interface FrameSink {
  json(frame: DaemonFrame): void;
  binary(data: Buffer): void;
}

/**
 * Forwards a spawned process to a client: stdout/stderr as binary frames under credit-based flow
 * control (the SSH channel is paused while the client has not acked {@link STREAM_WINDOW_BYTES},
 * so ssh2 stops opening its window and the remote command blocks on write), stdin the other way.
 */
export class SpawnForwarder {
  readonly #id: number;
  readonly #process: RemoteProcess;
  readonly #sink: FrameSink;
  readonly #unacked = { stdout: 0, stderr: 0 };
  #abandoned = false;
  /** Settles with the exit status once both output streams ended and `end` frames went out. */
  readonly done: Promise<RemoteExit>;

  constructor(id: number, process: RemoteProcess, sink: FrameSink) {
    this.#id = id;
    this.#process = process;
    this.#sink = sink;
    const pumps = [this.#pump('stdout', process.stdout), this.#pump('stderr', process.stderr)];
    this.done = Promise.all([process.exited, ...pumps]).then(
      ([exit]) => exit,
      (error: unknown) => {
        this.abandon();
        throw error;
      },
    );
  }

  /**
   * Nobody will ack any more (the client aborted, disconnected, or the process failed): drains
   * the output unread, so a paused channel can still end and give its channel slot back.
   */
  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#process.stdout.resume();
    this.#process.stderr.resume();
  }

  /** The client consumed `bytes` of `stream`. */
  ack(stream: 'stdout' | 'stderr', bytes: number): void {
    this.#unacked[stream] = Math.max(0, this.#unacked[stream] - bytes);
    const readable = this.#process[stream];
    if (this.#unacked[stream] < STREAM_WINDOW_BYTES && readable.isPaused()) {
      readable.resume();
    }
  }

  /** Writes client bytes to the remote stdin and acks them once ssh2 took them. */
  writeStdin(chunk: Buffer): void {
    const ack = () => this.#sink.json({ type: 'ack', id: this.#id, stream: 'stdin', bytes: chunk.length });
    if (chunk.length === 0) {
      return;
    }
    if (this.#process.stdin.writableEnded || this.#process.stdin.destroyed) {
      ack();
      return;
    }
    this.#process.stdin.write(chunk, ack);
  }

  /** Sends EOF on the remote stdin. */
  endStdin(): void {
    this.#process.stdin.end();
  }

  /** {@link RemoteProcess.close}. */
  close(): void {
    this.#process.close();
  }

  #pump(stream: 'stdout' | 'stderr', readable: Readable): Promise<void> {
    return new Promise((resolve) => {
      readable.on('data', (chunk: Buffer) => {
        if (this.#abandoned) return;
        this.#sink.binary(encodeDataFrame(this.#id, stream, chunk));
        this.#unacked[stream] += chunk.length;
        if (this.#unacked[stream] >= STREAM_WINDOW_BYTES) {
          readable.pause();
        }
      });
      readable.once('end', () => {
        if (!this.#abandoned) this.#sink.json({ type: 'end', id: this.#id, stream });
        resolve();
      });
      readable.once('close', () => resolve());
      readable.once('error', () => resolve());
    });
  }
}
