import { appendFileSync, closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A result line held back until the job's end. */
export interface HeldLine {
  /** The message line as the payload wrote it. */
  raw: string;
  /** True for `report_asset_materialization` (it gets the `slurm_*` metadata). */
  materialization: boolean;
}

/** Options of {@link HeldResults}. */
export interface HeldResultsOptions {
  /**
   * Bytes of held lines kept in memory; later lines go to a private temporary file.
   * @default 8388608 (8 MiB)
   */
  memoryBytes?: number;
  /**
   * Where the temporary file's private directory is made.
   * @default os.tmpdir()
   */
  tmpDir?: string;
}

const READ_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * The results (materializations, and checks reported after one) a relay holds until the job's
 * end, in order, with bounded memory: up to `memoryBytes` in memory, the rest spilled to a file
 * in a private (0700) temporary directory, one record per line, and read back in chunks on
 * {@link release}. A payload reports few results, so the file is rarely written; it bounds the
 * odd payload that reports a check per row.
 */
export class HeldResults {
  readonly #memoryLimit: number;
  readonly #tmpDir: string;
  #memory: HeldLine[] = [];
  #memoryBytes = 0;
  #spill: { dir: string; file: string } | undefined;
  #count = 0;

  /** @throws {RangeError} for an invalid `memoryBytes`. */
  constructor(options: HeldResultsOptions = {}) {
    const limit = options.memoryBytes ?? 8 * 1024 * 1024;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`HeldResults: memoryBytes must be an integer >= 0, got ${String(limit)}`);
    }
    this.#memoryLimit = limit;
    this.#tmpDir = options.tmpDir ?? tmpdir();
  }

  /** Lines held. */
  get size(): number {
    return this.#count;
  }

  /** True once lines went to the temporary file. */
  get spilled(): boolean {
    return this.#spill !== undefined;
  }

  /** Holds `line` after the ones held before. `raw` must be one line (no `\n`). */
  push(line: HeldLine): void {
    this.#count += 1;
    const bytes = Buffer.byteLength(line.raw);
    if (this.#spill === undefined && this.#memoryBytes + bytes <= this.#memoryLimit) {
      this.#memory.push(line);
      this.#memoryBytes += bytes;
      return;
    }
    // Once spilling, every later line goes to the file too, so the order stays memory, then file.
    this.#spill ??= this.#openSpill();
    appendFileSync(this.#spill.file, `${line.materialization ? 'M' : 'C'}${line.raw}\n`, { mode: 0o600 });
  }

  /** Hands every held line to `onLine` in order and forgets them (the file is removed). */
  release(onLine: (line: HeldLine) => void): void {
    const memory = this.#memory;
    const spill = this.#spill;
    this.#memory = [];
    this.#memoryBytes = 0;
    this.#spill = undefined;
    this.#count = 0;
    try {
      for (const line of memory) onLine(line);
      if (spill !== undefined) readRecords(spill.file, onLine);
    } finally {
      if (spill !== undefined) rmSync(spill.dir, { recursive: true, force: true });
    }
  }

  /** Forgets the held lines and removes the file; idempotent. */
  dispose(): void {
    if (this.#spill !== undefined) rmSync(this.#spill.dir, { recursive: true, force: true });
    this.#spill = undefined;
    this.#memory = [];
    this.#memoryBytes = 0;
    this.#count = 0;
  }

  #openSpill(): { dir: string; file: string } {
    const dir = mkdtempSync(join(this.#tmpDir, 'slurm-pipes-held-'));
    return { dir, file: join(dir, 'results.jsonl') };
  }
}

// Reads the spill file in chunks; each record is a kind byte and the raw line.
function readRecords(file: string, onLine: (line: HeldLine) => void): void {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    let rest: Buffer[] = [];
    for (;;) {
      const read = readSync(fd, buffer, 0, READ_BYTES, null);
      if (read === 0) break;
      let position = 0;
      for (;;) {
        const newline = buffer.indexOf(NEWLINE, position);
        if (newline === -1 || newline >= read) break;
        const record = Buffer.concat([...rest, buffer.subarray(position, newline)]);
        rest = [];
        onLine({ materialization: record[0] === 0x4d, raw: record.subarray(1).toString('utf8') });
        position = newline + 1;
      }
      if (position < read) rest.push(Buffer.from(buffer.subarray(position, read)));
    }
  } finally {
    closeSync(fd);
  }
}
