import {
  type DecodedLine,
  fileLineEvent,
  LineDecoder,
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesException,
  type PipesMessageChannel,
} from '@slurm-pipes/pipes-protocol';
import { addMetadataEntries, type MetadataEntryText } from './metadata/metadata-splice.js';

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
}

const STDERR_KEEP_BYTES = 64 * 1024;

/**
 * Consumes the bytes of a job's three files (messages.jsonl, stdout, stderr) as the tail yields
 * them, and relays them: every valid message exactly once and in order, except `opened` (the
 * caller sent its own) and `closed` (its exception is kept for the result). Materializations are
 * held until {@link JobOutputRelay.finish}, because Dagster yields results only after the process
 * exits and the job's metrics are known only then; asset checks reported after a held
 * materialization are held too, so results keep their order. Invalid lines are reported as
 * ERROR log messages and skipped. I/O-free apart from the sinks.
 */
export class JobOutputRelay {
  readonly #sinks: JobOutputSinks;
  readonly #decoder = new LineDecoder();
  readonly #held: Array<{ raw: string; materialization: boolean }> = [];
  #stderrTail: Buffer = Buffer.alloc(0);
  #closedSeen = false;
  #exception: PipesException | null = null;
  #relayed = 0;
  #invalid = 0;

  constructor(sinks: JobOutputSinks) {
    this.#sinks = sinks;
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

  /** Feeds bytes of messages.jsonl. */
  messages(chunk: Buffer): void {
    for (const decoded of this.#decoder.write(chunk)) this.#line(decoded);
  }

  /** Feeds bytes of the job's stdout. */
  stdout(chunk: Buffer): void {
    this.#sinks.stdout.write(chunk);
  }

  /** Feeds bytes of the job's stderr. */
  stderr(chunk: Buffer): void {
    this.#sinks.stderr.write(chunk);
    const joined = Buffer.concat([this.#stderrTail, chunk]);
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
    for (const decoded of this.#decoder.end()) this.#line(decoded);
    const held = this.#held.splice(0);
    for (const { raw, materialization } of held) {
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
    }
  }

  #line(decoded: DecodedLine): void {
    const event = fileLineEvent(decoded);
    if (event.kind === 'protocol-error') {
      this.#invalid += 1;
      const text = `[slurm-pipes] payload message line ${event.line} was not relayed: ${event.error.message}`;
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
        this.#held.push({ raw: event.raw, materialization: true });
        return;
      case 'report_asset_check':
        if (this.#held.length > 0) this.#held.push({ raw: event.raw, materialization: false });
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
