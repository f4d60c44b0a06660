import type { ExecOptions, ExecResult, RemoteExecutor } from '../../src/ssh/remote-executor.js';

export const ok = (stdout: string, stderr = ''): ExecResult => ({
  stdout,
  stderr,
  exitCode: 0,
  signal: null,
});
export const failed = (stderr: string, exitCode = 1, stdout = ''): ExecResult => ({
  stdout,
  stderr,
  exitCode,
  signal: null,
});

export interface RecordedCall {
  readonly argv: readonly string[];
  readonly options: ExecOptions | undefined;
  /** `Date.now()` when the call was made (fake time under `vi.useFakeTimers()`). */
  readonly at: number;
}

type Reply = ExecResult | Error | ((argv: readonly string[]) => ExecResult | Promise<ExecResult>);

/**
 * A {@link RemoteExecutor} that records every argv and answers from per-command queues
 * (`sbatch`, `squeue`, `sacct`, `scancel`); the last reply of a queue repeats.
 */
export class FakeExecutor implements RemoteExecutor {
  readonly calls: RecordedCall[] = [];
  readonly #replies = new Map<string, Reply[]>();

  constructor(replies: Readonly<Record<string, Reply | Reply[]>> = {}) {
    for (const [command, reply] of Object.entries(replies)) {
      this.#replies.set(command, Array.isArray(reply) ? [...reply] : [reply]);
    }
  }

  /** Appends replies for `command`. */
  reply(command: string, ...replies: Reply[]): this {
    this.#replies.set(command, [...(this.#replies.get(command) ?? []), ...replies]);
    return this;
  }

  /** The recorded argvs of `command`. */
  argvs(command: string): (readonly string[])[] {
    return this.calls.filter((call) => call.argv[0] === command).map((call) => call.argv);
  }

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], options, at: Date.now() });
    if (options?.signal?.aborted) {
      throw options.signal.reason;
    }
    const command = argv[0] ?? '';
    const queue = this.#replies.get(command);
    const reply = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    if (reply === undefined) {
      return failed(`bash: line 1: ${command}: command not found`, 127);
    }
    if (reply instanceof Error) {
      throw reply;
    }
    return typeof reply === 'function' ? reply(argv) : reply;
  }
}
