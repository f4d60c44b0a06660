import {
  type DecodedLine,
  fileLineEvent,
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesException,
  type PipesMessageChannel,
} from '@slurm-pipes/pipes-protocol';
import { notRelayedText } from '../run/envelope.js';
import { addMetadataEntries, type MetadataEntryText } from './metadata/metadata-splice.js';
import { HeldResults, type HeldResultsOptions } from './relay/held-results.js';
import { LineCursor } from './relay/line-cursor.js';

/** Where {@link JobOutputRelay} sends what the job writes. */
export interface JobOutputSinks {
  /** The channel to Dagster (or the standalone printer). */
  channel: PipesMessageChannel;
  /** The job's stdout bytes go here as they arrive. */
  stdout: NodeJS.WritableStream;
  /** The job's stderr bytes go here as they arrive. */
  stderr: NodeJS.WritableStream;
  /** Human progress lines (to the bridge's stderr). */
  log: (line: string) => void;
  /** Called once when the payload's `closed` message arrives (its job is about to end). */
  onClosed?: () => void;
  /** How held results are kept (memory budget, spill directory). @default {} */
  held?: HeldResultsOptions;
}

/** Where the relay stands in messages.jsonl, in bytes. */
export interface MessagesPosition {
  /** Just past the last line written to the channel (or deliberately skipped). */
  committed: number;
  /** Just past the last byte received: `committed` plus the unterminated line held. */
  received: number;
}

const STDERR_KEEP_BYTES = 64 * 1024;

/**
 * Consumes the bytes of a job's three files (messages.jsonl, stdout, stderr) as the tail yields
 * them, and relays them: every valid message exactly once and in order, except `opened` (the
 * caller sent its own) and `closed` (its exception is kept for the result). Logs, custom messages
 * and everything else stream straight through; materializations are held until
 * {@link JobOutputRelay.finish}, because Dagster yields results only after the process exits and
 * the job's metrics are known only then; asset checks reported after a held materialization are
 * held too, so results keep their order. (Dagster handles logs at once and results from a queue
 * after the process ended, so releasing results last changes nothing it can observe.) Invalid
 * lines are reported as ERROR log messages and skipped.
 *
 * Memory does not grow with the stream: one unterminated line, the last 64 KiB of stderr, and
 * the held results (spilled to a private temporary file past a budget). Every write is
 * synchronous, so nothing queues here either: the file channel appends each line before
 * returning, and the CLI's stdout and stderr are synchronous on Linux (files, pipes, TTYs). I/O-free
 * apart from the sinks and the spill file.
 */
export class JobOutputRelay {
  readonly #sinks: JobOutputSinks;
  readonly #cursor = new LineCursor();
  readonly #held: HeldResults;
  #holding = false;
  #stderrTail: Buffer = Buffer.alloc(0);
  #closedSeen = false;
  #exception: PipesException | null = null;
  #relayed = 0;
  #invalid = 0;
  readonly #onLine = (decoded: DecodedLine) => this.#line(decoded);

  constructor(sinks: JobOutputSinks) {
    this.#sinks = sinks;
    this.#held = new HeldResults(sinks.held ?? {});
  }

  /** The payload's exception from its `closed` message, or null. */
  get payloadException(): PipesException | null {
    return this.#exception;
  }

  /** True once the payload's `closed` message arrived. */
  get closedSeen(): boolean {
    return this.#closedSeen;
  }

  /** Messages written to the channel so far (held ones once released). */
  get relayedCount(): number {
    return this.#relayed;
  }

  /** Lines that were not valid messages. */
  get invalidCount(): number {
    return this.#invalid;
  }

  /** Results held for the end. */
  get heldCount(): number {
    return this.#held.size;
  }

  /** Where the relay stands in messages.jsonl. */
  get messagesPosition(): MessagesPosition {
    return { committed: this.#cursor.committed, received: this.#cursor.received };
  }

  /** Feeds the next bytes of messages.jsonl; each line it completes is relayed before this returns. */
  messages(chunk: Buffer): void {
    this.#cursor.push(chunk, this.#onLine);
  }

  /** Feeds bytes of the job's stdout. */
  stdout(chunk: Buffer): void {
    this.#sinks.stdout.write(chunk);
  }

  /** Feeds bytes of the job's stderr. */
  stderr(chunk: Buffer): void {
    this.#sinks.stderr.write(chunk);
    const keep = Math.min(chunk.length, STDERR_KEEP_BYTES);
    const joined = Buffer.concat([this.#stderrTail, chunk.subarray(chunk.length - keep)]);
    this.#stderrTail =
      joined.length > STDERR_KEEP_BYTES ? joined.subarray(joined.length - STDERR_KEEP_BYTES) : joined;
  }

  /** The last `count` non-empty lines of the job's stderr. */
  stderrTail(count = 30): string[] {
    const lines = this.#stderrTail.toString('utf8').split('\n');
    // The first line may have been cut by the byte limit; drop it unless all of stderr is kept.
    if (this.#stderrTail.length >= STDERR_KEEP_BYTES) lines.shift();
    return lines
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line.trim() !== '')
      .slice(-count);
  }

  /**
   * Ends the messages stream (an unterminated last line counts as a line) and releases the held
   * results, each materialization with `metadata` added.
   */
  finish(metadata: readonly MetadataEntryText[]): void {
    this.#cursor.end(this.#onLine);
    this.#holding = false;
    this.#held.release(({ raw, materialization }) => {
      let line = raw;
      if (materialization && metadata.length > 0) {
        try {
          const spliced = addMetadataEntries(raw, metadata);
          line = spliced.line;
          if (spliced.kept.length > 0) {
            this.#sinks.log(`the payload set ${spliced.kept.join(', ')} itself; its values are kept`);
          }
        } catch (error) {
          this.#sinks.log(`could not add Slurm metadata to a materialization: ${(error as Error).message}`);
        }
      }
      this.#write(line);
    });
  }

  #line(decoded: DecodedLine): void {
    const event = fileLineEvent(decoded);
    if (event.kind === 'protocol-error') {
      this.#invalid += 1;
      const text = notRelayedText(event.line, event.error);
      this.#sinks.log(`ERROR ${text}`);
      this.#sinks.channel.write({
        [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION,
        method: 'log',
        params: { message: text, level: 'ERROR' },
      });
      return;
    }
    if (event.kind !== 'message') return;
    switch (event.message.method) {
      case 'opened':
        return;
      case 'closed':
        this.#exception = event.message.params?.exception ?? null;
        if (!this.#closedSeen) {
          this.#closedSeen = true;
          this.#sinks.onClosed?.();
        }
        return;
      case 'report_asset_materialization':
        this.#holding = true;
        this.#held.push({ raw: event.raw, materialization: true });
        return;
      case 'report_asset_check':
        if (this.#holding) this.#held.push({ raw: event.raw, materialization: false });
        else this.#write(event.raw);
        return;
      default:
        this.#write(event.raw);
    }
  }

  #write(raw: string): void {
    this.#sinks.channel.writeLine(raw.replace(/\r$/, ''));
    this.#relayed += 1;
  }
}
