#!/usr/bin/env node
import { muxCommand } from './cli/mux-command.js';
import { parseRunArgs, RUN_USAGE } from './cli/run-args.js';
import { BridgeError } from './errors.js';
import { runCommand } from './run/run-command.js';
import { StopRequested } from './run/stop-request.js';

const USAGE = `Usage: slurm-pipes <command> [options]

Commands
  run [options] -- <payload> [args…]   run a payload and relay its Dagster Pipes messages
  mux <serve|status|stop>              the daemon that shares one SSH connection per host
  help                                 this text

Run 'slurm-pipes run --help' for the options of run.`;

/** How long a SIGINT waits for a SIGTERM that would make the stop a restart, in ms. */
const SIGINT_SETTLE_MS = 300;

/**
 * Turns the first stop signal into an abort whose reason (`StopRequested`) `decideOnAbort` reads:
 * SIGINT is Dagster's Terminate (cancel the job), SIGTERM a supervisor stopping Dagster for a
 * restart or deploy (leave the job running). A supervisor stopping Dagster's process group sends
 * SIGTERM to the bridge too, while Dagster also forwards a SIGINT as it is interrupted, in either
 * order; so a SIGINT takes effect only if no SIGTERM follows within {@link SIGINT_SETTLE_MS}.
 * Later signals change nothing.
 */
function stopOnSignals(abort: AbortController): void {
  let interrupt: NodeJS.Timeout | undefined;
  process.on('SIGTERM', () => {
    clearTimeout(interrupt);
    abort.abort(new StopRequested('SIGTERM'));
  });
  process.on('SIGINT', () => {
    if (abort.signal.aborted) return;
    interrupt ??= setTimeout(() => abort.abort(new StopRequested('SIGINT')), SIGINT_SETTLE_MS);
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const args = parseRunArgs(rest);
      if (args.help) {
        process.stdout.write(`${RUN_USAGE}\n`);
        return 0;
      }
      const abort = new AbortController();
      stopOnSignals(abort);
      return runCommand(args, {
        env: process.env,
        stdout: process.stdout,
        stderr: process.stderr,
        signal: abort.signal,
      });
    }
    case 'mux':
      return muxCommand(rest, (text) => process.stdout.write(text));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new BridgeError('ERR_BRIDGE_USAGE', `Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof BridgeError || (error instanceof Error && 'code' in error)) {
      const code = (error as { code: string }).code;
      process.stderr.write(`slurm-pipes: ${error.message} [${code}]\n`);
      process.exitCode = error instanceof BridgeError ? error.exitCode : 1;
    } else {
      process.stderr.write(
        `slurm-pipes: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
