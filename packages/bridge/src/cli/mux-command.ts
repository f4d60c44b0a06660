import { parseArgs } from 'node:util';
import {
  getMuxDaemonStatus,
  resolveMuxPaths,
  runMuxDaemon,
  stopMuxDaemon,
} from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../errors.js';

/** Usage text of `slurm-pipes mux`. */
export const MUX_USAGE = `Usage: slurm-pipes mux <serve|status|stop> [--idle-timeout <seconds>]

The multiplexing daemon holds one SSH connection per user@host:port and shares it with every
slurm-pipes process on this machine (like OpenSSH's ControlMaster). Bridges start it on first
use; it exits after the idle timeout (default 600 s) with no clients and no open channels.
Its directory (socket, token, log) is $SLURM_PIPES_MUX_DIR, else $XDG_RUNTIME_DIR/slurm-pipes,
else ~/.cache/slurm-pipes/mux.

  serve      run the daemon in the foreground (what bridges start)
  status     print the running daemon's connections and channels as JSON
  stop       ask the running daemon to close its connections and exit`;

/** `slurm-pipes mux …`; returns the exit code. */
export async function muxCommand(argv: readonly string[], write: (text: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { 'idle-timeout': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [action] = positionals;
  if (values.help || action === undefined) {
    write(`${MUX_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  switch (action) {
    case 'serve': {
      const seconds = values['idle-timeout'] === undefined ? 600 : Number(values['idle-timeout']);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new BridgeError(
          'ERR_BRIDGE_USAGE',
          `--idle-timeout expects seconds > 0, got ${JSON.stringify(values['idle-timeout'])}.`,
        );
      }
      const daemon = await runMuxDaemon({ idleTimeoutMs: Math.round(seconds * 1000) });
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void daemon.close());
      await daemon.closed;
      return 0;
    }
    case 'status': {
      const status = await getMuxDaemonStatus();
      if (status === undefined) {
        write(`no multiplexing daemon is running (${resolveMuxPaths().socketPath})\n`);
        return 1;
      }
      write(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    case 'stop':
      write((await stopMuxDaemon()) ? 'stopped\n' : 'no multiplexing daemon was running\n');
      return 0;
    default:
      throw new BridgeError(
        'ERR_BRIDGE_USAGE',
        `Unknown mux action ${JSON.stringify(action)}.\n\n${MUX_USAGE}`,
      );
  }
}
