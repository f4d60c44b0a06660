import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** One question of a keyboard-interactive challenge. */
export interface KeyboardInteractivePrompt {
  /** The server's prompt text, e.g. `"Verification code: "`. */
  prompt: string;
  /** Whether the answer may be shown while typed (false for passwords and codes). */
  echo: boolean;
}

/** A keyboard-interactive challenge (RFC 4256) sent by the server, e.g. for a one-time code. */
export interface KeyboardInteractiveChallenge {
  /** `user@host:port` the challenge is for, to show the user. */
  target: string;
  name: string;
  instructions: string;
  prompts: readonly KeyboardInteractivePrompt[];
}

/**
 * Answers a keyboard-interactive challenge with one string per prompt, or `undefined` when it
 * cannot (the method is then given up and the next one tried). Called again on every reconnect,
 * so a one-time code must be fresh each time.
 */
export type KeyboardInteractiveResponder = (
  challenge: KeyboardInteractiveChallenge,
) => readonly string[] | undefined | Promise<readonly string[] | undefined>;

/** Where {@link createDefaultResponder} takes answers from. */
export interface DefaultResponderSources {
  /** Answers prompts that ask for a password. */
  password: string | undefined;
  /** Environment variable holding a one-time code for every other prompt. */
  otpEnvVar: string;
  /** Environment to read `otpEnvVar` from. */
  env: NodeJS.ProcessEnv;
  /** Asks on the terminal when no other source answers; `undefined` when there is no TTY. */
  askTerminal: ((prompt: string, echo: boolean) => Promise<string>) | undefined;
}

const PASSWORD_PROMPT = /pass(word|phrase)/i;

/**
 * The responder used unless one is configured: password prompts get `password`, other prompts
 * (one-time codes) the value of the `otpEnvVar` environment variable, else the terminal when stdin
 * is a TTY; otherwise it gives up.
 */
export function createDefaultResponder(sources: DefaultResponderSources): KeyboardInteractiveResponder {
  return async (challenge) => {
    const answers: string[] = [];
    for (const { prompt, echo } of challenge.prompts) {
      const fromEnv = sources.env[sources.otpEnvVar];
      if (PASSWORD_PROMPT.test(prompt) && sources.password !== undefined) {
        answers.push(sources.password);
      } else if (!PASSWORD_PROMPT.test(prompt) && fromEnv !== undefined && fromEnv !== '') {
        answers.push(fromEnv.trim());
      } else if (sources.askTerminal !== undefined) {
        const header = [challenge.name, challenge.instructions].filter((line) => line !== '').join('\n');
        const label = `${header === '' ? '' : `${header}\n`}(${challenge.target}) ${prompt}`;
        answers.push(await sources.askTerminal(label, echo));
      } else {
        return undefined;
      }
    }
    return answers;
  };
}

/**
 * Asks one question on the controlling terminal (prompt on stderr, answer from stdin, not echoed
 * unless `echo`), or `undefined` when stdin or stderr is not a TTY.
 */
export function terminalAsker(): ((prompt: string, echo: boolean) => Promise<string>) | undefined {
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
    return undefined;
  }
  return (prompt, echo) =>
    new Promise((resolve) => {
      let muted = false;
      const output = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (!muted) {
            process.stderr.write(chunk);
          }
          callback();
        },
      });
      const rl = createInterface({ input: process.stdin, output, terminal: true });
      rl.question(prompt, (answer) => {
        rl.close();
        if (!echo) {
          process.stderr.write('\n');
        }
        resolve(answer);
      });
      muted = !echo;
    });
}
