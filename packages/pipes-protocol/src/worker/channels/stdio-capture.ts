import { StringDecoder } from 'node:string_decoder';
import { makePipesMessage } from '../message.js';

/** The two process streams Dagster distinguishes. */
export type PipesStdioStream = 'stdout' | 'stderr';

/** A capture of this process's own stdout/stderr writes. */
export interface StdioCapture {
  /** Sends the text captured so far as `log_external_stream` messages, in write order. */
  flush(): void;
  /** Flushes, stops the timer and restores the streams' `write`. Idempotent. */
  stop(): void;
}

/** Options for {@link startStdioCapture}. */
export interface StdioCaptureOptions {
  /** Receives each `log_external_stream` message. */
  send: (message: object) => void;
  /** How often captured text is sent. Mirrors Python's 1 s poll. @default 1000 */
  intervalMs?: number;
  /** Streams to capture. @default { stdout: process.stdout, stderr: process.stderr } */
  streams?: Partial<Record<PipesStdioStream, NodeJS.WritableStream>>;
}

type WriteFn = NodeJS.WritableStream['write'];

function chunkToText(decoder: StringDecoder, chunk: unknown, encoding: unknown): string {
  if (typeof chunk === 'string') {
    if (typeof encoding !== 'string' || encoding === 'utf8' || encoding === 'utf-8') return chunk;
    return decoder.write(Buffer.from(chunk, encoding as BufferEncoding));
  }
  if (chunk instanceof Uint8Array)
    return decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return '';
}

/**
 * Wraps the streams' `write` so text still reaches them and is also queued; queued text is sent as
 * `{stream, text, extras: {}}` `log_external_stream` messages periodically and on flush.
 * Mirrors dagster_pipes.PipesDefaultLogWriter (which tees the file descriptors instead; a wrapper
 * sees only this process's own writes, not those of child processes).
 */
export function startStdioCapture(options: StdioCaptureOptions): StdioCapture {
  const streams = options.streams ?? { stdout: process.stdout, stderr: process.stderr };
  const queue: { stream: PipesStdioStream; text: string }[] = [];
  const restores: (() => void)[] = [];

  for (const name of ['stdout', 'stderr'] as const) {
    const stream = streams[name];
    if (stream === undefined) continue;
    const original = stream.write;
    const decoder = new StringDecoder('utf8');
    const wrapped = function (this: unknown, chunk: unknown, encoding?: unknown, callback?: unknown) {
      const text = chunkToText(decoder, chunk, encoding);
      if (text !== '') {
        const last = queue.at(-1);
        if (last?.stream === name) last.text += text;
        else queue.push({ stream: name, text });
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, encoding, callback);
    } as WriteFn;
    stream.write = wrapped;
    // Only undo our own wrapper; if someone wrapped after us, leave theirs in place.
    restores.push(() => {
      if (stream.write === wrapped) stream.write = original;
    });
  }

  let stopped = false;
  const flush = () => {
    // Take the queue first: sending may itself write (and so re-enter flush).
    const chunks = queue.splice(0, queue.length);
    for (const { stream, text } of chunks) {
      options.send(makePipesMessage('log_external_stream', { stream, text, extras: {} }));
    }
  };
  const timer = setInterval(() => {
    // A failing channel surfaces on the worker's next explicit write; a timer must not crash the process.
    try {
      flush();
    } catch {}
  }, options.intervalMs ?? 1000);
  timer.unref();

  return {
    flush,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      flush();
      for (const restore of restores) restore();
    },
  };
}
