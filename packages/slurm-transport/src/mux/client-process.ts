import { Readable, Writable } from 'node:stream';
import type { SlurmTransportError } from '../errors.js';
import { signalError } from '../ssh/abort.js';
import type { RemoteExit, RemoteProcess } from '../ssh/remote-transport.js';
import type { MuxSocket, RequestBody } from './mux-socket.js';
import { STREAM_WINDOW_BYTES } from './wire-data.js';
import { fromWireError } from './wire-errors.js';

type Output = 'stdout' | 'stderr';

const OUTPUT_HIGH_WATER_MARK = 65_536;

/**
 * Starts a process through the daemon and resolves once it runs. Output bytes are acked to the
 * daemon only once the local stream took them below its high-water mark, so a slow consumer
 * holds back the remote command instead of filling memory; stdin writes wait for the daemon's
 * acks the same way.
 * @throws {SlurmTransportError} the daemon's error, `ERR_ABORTED`, `ERR_SSH_DISCONNECTED`.
 */
export function spawnThroughMux(
  socket: MuxSocket,
  body: Extract<RequestBody, { type: 'spawn' }>,
  signal: AbortSignal | undefined,
): Promise<RemoteProcess> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signalError(signal));
      return;
    }
    let id = 0;
    let started = false;
    let done = false;
    const owed: Record<Output, number> = { stdout: 0, stderr: 0 };
    const ended: Record<Output, boolean> = { stdout: false, stderr: false };
    let stdinUnacked = 0;
    let stdinWaiting: (() => void) | undefined;
    let resolveExit: (exit: RemoteExit) => void = () => {};
    let rejectExit: (error: unknown) => void = () => {};
    const exited = new Promise<RemoteExit>((resolveP, rejectP) => {
      resolveExit = resolveP;
      rejectExit = rejectP;
    });
    exited.catch(() => {});

    const flushAck = (stream: Output) => {
      if (!done && owed[stream] > 0) {
        socket.send({ type: 'ack', id, stream, bytes: owed[stream] });
        owed[stream] = 0;
      }
    };
    const output = (stream: Output) =>
      new Readable({ highWaterMark: OUTPUT_HIGH_WATER_MARK, read: () => flushAck(stream) });
    const streams: Record<Output, Readable> = { stdout: output('stdout'), stderr: output('stderr') };
    streams.stdout.once('close', () => flushAck('stdout'));
    streams.stderr.once('close', () => flushAck('stderr'));
    const endOutput = (stream: Output) => {
      if (!ended[stream]) {
        ended[stream] = true;
        streams[stream].push(null);
      }
    };
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (done) {
          callback();
          return;
        }
        socket.sendData(id, 'stdin', chunk);
        stdinUnacked += chunk.length;
        if (stdinUnacked < STREAM_WINDOW_BYTES) {
          callback();
        } else {
          stdinWaiting = callback;
        }
      },
      final(callback) {
        if (!done) socket.send({ type: 'stdin-end', id });
        callback();
      },
    });
    stdin.on('error', () => {});

    const finish = (outcome: { exit: RemoteExit } | { error: unknown }) => {
      if (done) return;
      done = true;
      socket.release(id);
      signal?.removeEventListener('abort', onAbort);
      endOutput('stdout');
      endOutput('stderr');
      stdinWaiting?.();
      stdinWaiting = undefined;
      if ('exit' in outcome) resolveExit(outcome.exit);
      else rejectExit(outcome.error);
    };
    const fail = (error: unknown) => {
      if (started) {
        finish({ error });
      } else {
        done = true;
        socket.release(id);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      }
    };
    const onAbort = () => {
      socket.send({ type: 'abort', id });
      fail(signalError(signal, `command ${body.argv.join(' ')}`));
    };
    const process: RemoteProcess = {
      stdout: streams.stdout,
      stderr: streams.stderr,
      stdin,
      exited,
      close() {
        if (!done) socket.send({ type: 'close', id });
      },
    };

    id = socket.open(body, {
      frame(frame) {
        switch (frame.type) {
          case 'result':
            if (!started) {
              started = true;
              resolve(process);
            }
            return;
          case 'error':
            fail(fromWireError(frame.error));
            return;
          case 'end':
            endOutput(frame.stream);
            return;
          case 'exit':
            finish({ exit: { exitCode: frame.exitCode, signal: frame.signal } });
            return;
          case 'ack':
            stdinUnacked = Math.max(0, stdinUnacked - frame.bytes);
            if (stdinWaiting !== undefined && stdinUnacked < STREAM_WINDOW_BYTES) {
              const callback = stdinWaiting;
              stdinWaiting = undefined;
              callback();
            }
            return;
          default:
            return;
        }
      },
      data(stream, chunk) {
        if (stream === 'stdin' || done) return;
        owed[stream] += chunk.length;
        // A stream the consumer destroyed (e.g. `break` out of `for await`) is drained unread,
        // so the remote command is not held back forever.
        if (ended[stream] || streams[stream].destroyed || streams[stream].push(chunk)) flushAck(stream);
      },
      lost(error: SlurmTransportError) {
        fail(error);
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
