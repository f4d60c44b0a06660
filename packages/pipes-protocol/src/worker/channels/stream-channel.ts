import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { LineSink } from './line-writer.js';

async function drainStream(stream: Writable): Promise<void> {
  if (stream.writableNeedDrain && !stream.destroyed) await once(stream, 'drain');
}

/**
 * A sink writing each line to `stream` at once. Mirrors dagster_pipes.PipesStreamMessageWriterChannel.
 * (Node writes to files and pipes synchronously on Linux, so lines written in an `exit` handler arrive.)
 */
export function createStreamSink(stream: Writable): LineSink {
  return {
    kind: 'stdio',
    writeLine(line) {
      stream.write(line);
    },
    drain: () => drainStream(stream),
  };
}

/**
 * A sink holding lines in memory and writing them all to `stream` at close. Mirrors
 * dagster_pipes.PipesBufferedStreamMessageWriterChannel (used so Lambda-style log readers find
 * the messages at the tail of the logs).
 */
export function createBufferedStreamSink(stream: Writable): LineSink {
  let buffer: string[] = [];
  return {
    kind: 'buffered_stdio',
    writeLine(line) {
      buffer.push(line);
    },
    closeSync() {
      const lines = buffer;
      buffer = [];
      if (lines.length > 0) stream.write(lines.join(''));
    },
    drain: () => drainStream(stream),
  };
}
