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
      // Dagster's PipesSubprocessClient sends SIGINT on Terminate (Slurm mode cancels the job); a
      // supervisor stopping Dagster sends SIGTERM (Slurm mode leaves the job running to reattach).
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        process.on(sig, () => abort.abort(new StopRequested(sig)));
      }
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
