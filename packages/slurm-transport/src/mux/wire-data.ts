// Binary frames: 1 byte stream (0 stdout, 1 stderr, 2 stdin), 4 bytes request id (big-endian),
// then the bytes. stdout/stderr flow daemon → client, stdin client → daemon. Flow control is by
// credit: the receiver acks bytes once consumed, and the sender pauses while more than
// {@link STREAM_WINDOW_BYTES} are unacknowledged, so neither side buffers without bound.

/** A stream of a spawned process. */
export type StreamName = 'stdout' | 'stderr' | 'stdin';

/** Unacknowledged bytes per stream after which the sender pauses. */
export const STREAM_WINDOW_BYTES = 1_048_576;

const STREAMS: readonly StreamName[] = ['stdout', 'stderr', 'stdin'];
const HEADER_BYTES = 5;

/** One decoded binary frame. */
export interface DataFrame {
  id: number;
  stream: StreamName;
  chunk: Buffer;
}

/** Encodes a binary frame. */
export function encodeDataFrame(id: number, stream: StreamName, chunk: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + chunk.length);
  frame.writeUInt8(STREAMS.indexOf(stream), 0);
  frame.writeUInt32BE(id, 1);
  chunk.copy(frame, HEADER_BYTES);
  return frame;
}

/** Decodes a binary frame, or returns why it is malformed. */
export function decodeDataFrame(data: Buffer): DataFrame | { error: string } {
  if (data.length < HEADER_BYTES) {
    return { error: `binary frame of ${data.length} bytes is shorter than its ${HEADER_BYTES}-byte header` };
  }
  const stream = STREAMS[data.readUInt8(0)];
  if (stream === undefined) {
    return {
      error: `binary frame names stream #${data.readUInt8(0)}; expected 0 (stdout), 1 (stderr) or 2 (stdin)`,
    };
  }
  const id = data.readUInt32BE(1);
  if (id === 0) {
    return { error: 'binary frame has request id 0' };
  }
  return { id, stream, chunk: data.subarray(HEADER_BYTES) };
}
