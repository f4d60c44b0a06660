import { PipesError } from '../errors.js';
import { preview } from './parse-message.js';

/** Default for {@link LineDecoderOptions.maxLineLength}: 64 MiB. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const HEAD_BYTES = 256;

/** Options of {@link LineDecoder}. */
export interface LineDecoderOptions {
  /**
   * Longest line accepted, in bytes, without its `\n`. A longer line is reported once as a
   * `too-long` item and skipped up to its newline; the lines after it are decoded normally.
   * @default 67108864 (64 MiB)
   */
  maxLineLength?: number;
}

/** One item produced by {@link LineDecoder}; `line` counts from 1 and includes skipped lines. */
export type DecodedLine =
  | { kind: 'line'; text: string; line: number }
  | { kind: 'too-long'; line: number; head: string; error: PipesError };

/**
 * Chunk-safe splitter of a byte stream into UTF-8 lines (I/O-free, like ws's receiver): feed
 * Buffers split anywhere, including inside a multi-byte character, and get back complete lines.
 * Splitting happens on bytes (0x0a never occurs inside a multi-byte UTF-8 sequence), and only
 * complete lines are decoded, so split characters are never mangled. Invalid UTF-8 decodes to
 * U+FFFD. An unterminated last line is held until its newline arrives or {@link LineDecoder.end}.
 */
export class LineDecoder {
  readonly maxLineLength: number;
  // State: collecting parts of the current line, or skipping the rest of a too-long line.
  #parts: Buffer[] = [];
  #length = 0;
  #skipping = false;
  #completed = 0;

  /** @throws {RangeError} when `maxLineLength` is not a positive integer. */
  constructor(options: LineDecoderOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new RangeError(`maxLineLength must be a positive integer number of bytes; got ${String(max)}.`);
    }
    this.maxLineLength = max;
  }

  /** Bytes of the current, not yet terminated line that are held (0 while skipping). */
  get pendingBytes(): number {
    return this.#length;
  }

  /** Number of lines completed so far (terminated lines, reported or skipped). */
  get lineCount(): number {
    return this.#completed;
  }

  /** Feeds a chunk; returns the lines it completes, in order. The chunk may be reused afterwards. */
  write(chunk: Uint8Array): DecodedLine[] {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: DecodedLine[] = [];
    let pos = 0;
    while (pos <= bytes.length) {
      const newline = bytes.indexOf(NEWLINE, pos);
      if (newline === -1) {
        this.#append(bytes.subarray(pos), out, true);
        break;
      }
      this.#append(bytes.subarray(pos, newline), out, false);
      this.#finishLine(out);
      pos = newline + 1;
    }
    return out;
  }

  /** Ends the stream: returns the unterminated last line, if any, and resets the decoder. */
  end(): DecodedLine[] {
    const out: DecodedLine[] = [];
    if (this.#length > 0) this.#finishLine(out);
    this.#skipping = false;
    this.#parts = [];
    this.#length = 0;
    return out;
  }

  #append(segment: Buffer, out: DecodedLine[], held: boolean): void {
    if (this.#skipping || segment.length === 0) return;
    if (this.#length + segment.length > this.maxLineLength) {
      const head = Buffer.concat([...this.#parts, segment.subarray(0, HEAD_BYTES)])
        .subarray(0, HEAD_BYTES)
        .toString('utf8');
      const line = this.#completed + 1;
      out.push({
        kind: 'too-long',
        line,
        head,
        error: new PipesError(
          'ERR_PIPES_INVALID_MESSAGE',
          `Line ${line} is longer than maxLineLength (${this.maxLineLength} bytes) and was skipped; it starts with ${preview(head, 80)}.`,
        ),
      });
      this.#skipping = true;
      this.#parts = [];
      this.#length = 0;
      return;
    }
    // A segment ending at a newline is decoded right away; only a held tail outlives the chunk.
    this.#parts.push(held ? Buffer.from(segment) : segment);
    this.#length += segment.length;
  }

  #finishLine(out: DecodedLine[]): void {
    this.#completed += 1;
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const only = this.#parts.length === 1 ? this.#parts[0] : undefined;
    const text = (only ?? Buffer.concat(this.#parts, this.#length)).toString('utf8');
    this.#parts = [];
    this.#length = 0;
    out.push({ kind: 'line', text, line: this.#completed });
  }
}
