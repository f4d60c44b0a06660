import { DEFAULT_MAX_LINE_LENGTH, type DecodedLine, PipesError } from '@slurm-pipes/pipes-protocol';

const NEWLINE = 0x0a;
const HEAD_BYTES = 256;

/** Options of {@link LineCursor}. */
export interface LineCursorOptions {
  /**
   * Byte offset of the first byte that will be pushed (where following the file starts).
   * @default 0
   */
  startOffset?: number;
  /**
   * Longest line in bytes, without its `\n`; a longer one is reported once as `too-long` and
   * skipped up to its newline.
   * @default 67108864 (64 MiB, as the Pipes host's reader)
   */
  maxLineLength?: number;
}

/**
 * Splits the bytes of a messages file into lines and keeps the file's cursor: `committed` is the
 * offset just past the last line that was handed on AND whose handler returned, so it advances
 * only once a line reached the Dagster channel (the file channel's write is synchronous). Bytes
 * after it form the one unterminated line still being assembled, so memory is bounded by the
 * longest line, never by the file. I/O-free.
 *
 * Why the cursor lives in memory and is not written to a state file: within one bridge process a
 * dropped SSH connection loses nothing of it, and the tail resumes at {@link received} while the
 * held partial line stays here, which is the same as resuming at {@link committed}; that is all the
 * exactly-once relay across disconnects needs. Across bridge processes a stored cursor would be
 * wrong: a new bridge is launched by a new Pipes session whose messages channel is fresh and has
 * seen none of the job's messages, so a re-launch must relay from byte 0 (the reattach path does)
 * and a persisted offset would make it skip messages that new session never received.
 */
export class LineCursor {
  readonly maxLineLength: number;
  #committed: number;
  #parts: Buffer[] = [];
  #pending = 0;
  // Bytes of a too-long line skipped so far (it was reported when it crossed the limit).
  #skipped = 0;
  #skipping = false;
  #lines = 0;

  /** @throws {RangeError} for an invalid option, naming it. */
  constructor(options: LineCursorOptions = {}) {
    const start = options.startOffset ?? 0;
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`LineCursor: startOffset must be an integer >= 0, got ${String(start)}`);
    }
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`LineCursor: maxLineLength must be a positive integer, got ${String(max)}`);
    }
    this.#committed = start;
    this.maxLineLength = max;
  }

  /** Offset just past the last line handed on whose handler returned. */
  get committed(): number {
    return this.#committed;
  }

  /** Offset just past the last byte pushed: {@link committed} plus the unterminated line's bytes. */
  get received(): number {
    return this.#committed + this.#pending + this.#skipped;
  }

  /** Bytes of the unterminated line held in memory. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** Lines completed so far (handed on or skipped). */
  get lineCount(): number {
    return this.#lines;
  }

  /**
   * Takes the next bytes of the file and hands each line it completes to `onLine`, in order.
   * When `onLine` throws, the cursor stays before that line and the partial line is dropped, so
   * {@link received} equals {@link committed}: a caller may push again from there.
   */
  push(chunk: Buffer, onLine: (line: DecodedLine) => void): void {
    let position = 0;
    try {
      while (position < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, position);
        const end = newline === -1 ? chunk.length : newline;
        const tooLong = this.#append(chunk, position, end, newline === -1);
        if (tooLong !== undefined) onLine(tooLong);
        if (newline === -1) break;
        position = newline + 1;
        this.#finishLine(onLine);
      }
    } catch (error) {
      this.#dropPartial();
      throw error;
    }
  }

  /** Ends the file: an unterminated last line counts as a line. */
  end(onLine: (line: DecodedLine) => void): void {
    if (this.#pending === 0 && !this.#skipping) return;
    try {
      this.#finishLine(onLine, false);
    } catch (error) {
      this.#dropPartial();
      throw error;
    }
  }

  // Appends chunk[from, to) to the current line; returns the too-long report when it crosses the
  // limit. Only a `held` segment (no newline after it in this chunk) is copied: the caller may
  // reuse the chunk once push() returns, and the others are decoded before that.
  #append(chunk: Buffer, from: number, to: number, held: boolean): DecodedLine | undefined {
    const length = to - from;
    if (length === 0) return undefined;
    if (this.#skipping) {
      this.#skipped += length;
      return undefined;
    }
    if (this.#pending + length <= this.maxLineLength) {
      const segment = chunk.subarray(from, to);
      this.#parts.push(held ? Buffer.from(segment) : segment);
      this.#pending += length;
      return undefined;
    }
    const head = Buffer.concat([...this.#parts, chunk.subarray(from, from + HEAD_BYTES)])
      .subarray(0, HEAD_BYTES)
      .toString('utf8');
    const line = this.#lines + 1;
    this.#skipping = true;
    this.#skipped = this.#pending + length;
    this.#parts = [];
    this.#pending = 0;
    return {
      kind: 'too-long',
      line,
      head,
      error: new PipesError(
        'ERR_PIPES_INVALID_MESSAGE',
        `Line ${line} is longer than ${this.maxLineLength} bytes and was skipped; it starts with ${JSON.stringify(head.slice(0, 80))}.`,
      ),
    };
  }

  #finishLine(onLine: (line: DecodedLine) => void, terminated = true): void {
    const length = this.#pending + this.#skipped + (terminated ? 1 : 0);
    if (this.#skipping) {
      this.#lines += 1;
      this.#skipping = false;
      this.#skipped = 0;
      this.#committed += length;
      return;
    }
    const only = this.#parts.length === 1 ? this.#parts[0] : undefined;
    const text = (only ?? Buffer.concat(this.#parts, this.#pending)).toString('utf8');
    onLine({ kind: 'line', text, line: this.#lines + 1 });
    this.#lines += 1;
    this.#parts = [];
    this.#pending = 0;
    this.#committed += length;
  }

  #dropPartial(): void {
    this.#parts = [];
    this.#pending = 0;
    this.#skipped = 0;
    this.#skipping = false;
  }
}
