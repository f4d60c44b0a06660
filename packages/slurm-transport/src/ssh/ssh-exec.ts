import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { signalError } from './abort.js';
import type { ExecResult } from './remote-executor.js';
import type { RemoteExit, RemoteProcess } from './remote-transport.js';

// SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (sshd's answer beyond MaxSessions) and SSH_OPEN_RESOURCE_SHORTAGE.
const CAPACITY_REASONS: readonly unknown[] = [1, 4];

/** True when the server refused to open a channel for lack of capacity, so a retry may succeed. */
export function isChannelRefusal(error: unknown): boolean {
  const { reason, message } = (error ?? {}) as { reason?: unknown; message?: unknown };
  return (
    CAPACITY_REASONS.includes(reason) ||
    (typeof message === 'string' && /channel open failure.*(open failed|prohibited)/i.test(message))
  );
}

/** Opens a session channel and sends the `exec` request. Rejects with ssh2's error (see {@link isChannelRefusal}). */
export function openExecChannel(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (error, channel) => (error ? reject(error) : resolve(trackClose(channel))));
    } catch (error) {
      reject(error);
    }
  });
}

/** Opens a session channel running the SFTP subsystem. */
export function openSftpChannel(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    try {
      client.sftp((error, sftp) => (error ? reject(error) : resolve(trackClose(sftp))));
    } catch (error) {
      reject(error);
    }
  });
}

// ssh2 parses a whole TCP read at once: a channel's reply, its data, exit status and close can
// all be handled before the promise of the open callback resumes its awaiter. So the close (and
// its arguments, which repeat the exit status) is recorded from inside the callback.
const closedChannels = new WeakMap<object, [code?: number | null, signalName?: string]>();

function trackClose<C extends ClientChannel | SFTPWrapper>(channel: C): C {
  channel.once('close', (...args: [code?: number | null, signalName?: string]) =>
    closedChannels.set(channel, args),
  );
  return channel;
}

/** Calls `listener` once `channel` (opened by this module) has closed, at once if it already has. */
export function onceClosed(
  channel: ClientChannel | SFTPWrapper,
  listener: (code?: number | null, signalName?: string) => void,
): void {
  const args = closedChannels.get(channel);
  if (args === undefined) {
    channel.once('close', listener);
  } else {
    listener(...args);
  }
}

/** How a channel learns that its connection went away (then it fails with `ERR_SSH_DISCONNECTED`). */
export type LostCheck = () => SlurmTransportError | undefined;

/**
 * Follows `channel` until it closes, then settles with the exit status. Aborting `signal` sends
 * `TERM` to the remote command and closes the channel.
 */
function watchExit(
  channel: ClientChannel,
  command: string,
  signal: AbortSignal | undefined,
  lost: LostCheck,
): Promise<RemoteExit> {
  return new Promise((resolve, reject) => {
    let exit: RemoteExit | undefined;
    const onAbort = () => {
      channel.signal('TERM');
      channel.close();
      finish(signalError(signal, `command ${command}`));
    };
    const finish = (error?: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        reject(error);
      } else if (exit !== undefined) {
        resolve(exit);
      } else {
        reject(
          lost() ??
            new SlurmTransportError(
              'ERR_SSH_CHANNEL',
              `The channel running ${command} closed without an exit status.`,
              {
                command,
              },
            ),
        );
      }
    };
    const record = (code: number | null | undefined, signalName: string | undefined) => {
      if (exit === undefined && code !== undefined) {
        exit = { exitCode: code, signal: signalName === undefined ? null : signalName.replace(/^SIG/, '') };
      }
    };
    channel.on('exit', record);
    // The exit event may have fired before this listener existed; close repeats its arguments.
    onceClosed(channel, (code, signalName) => {
      record(code, signalName);
      finish();
    });
    if (signal?.aborted) {
      onAbort();
    } else {
      signal?.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** Writes `stdin` (or nothing), closes it, and collects the output of `channel` until it closes. */
export async function collectExec(
  channel: ClientChannel,
  command: string,
  stdin: string | Buffer | undefined,
  signal: AbortSignal | undefined,
  lost: LostCheck,
): Promise<ExecResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  channel.on('data', (data: Buffer) => stdout.push(data));
  channel.stderr.on('data', (data: Buffer) => stderr.push(data));
  // A remote command that exits before reading its input makes writes fail; the exit status says it all.
  channel.on('error', () => {});
  const exited = watchExit(channel, command, signal, lost);
  channel.end(stdin);
  const { exitCode, signal: signalName } = await exited;
  return {
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    exitCode,
    signal: signalName,
  };
}

/** Wraps an exec channel as a {@link RemoteProcess}; `onClosed` runs once the channel closed. */
export function toRemoteProcess(
  channel: ClientChannel,
  command: string,
  signal: AbortSignal | undefined,
  lost: LostCheck,
): RemoteProcess {
  channel.on('error', () => {});
  const exited = watchExit(channel, command, signal, lost);
  // Callers may never await `exited` (e.g. after abort); keep that from being an unhandled rejection.
  exited.catch(() => {});
  let closing = false;
  return {
    stdout: channel,
    stderr: channel.stderr,
    stdin: channel,
    exited,
    close() {
      if (closing) {
        return;
      }
      closing = true;
      channel.end();
      // The remote side normally closes on EOF; force it if it does not.
      const timer = setTimeout(() => channel.close(), 2_000);
      timer.unref();
      onceClosed(channel, () => clearTimeout(timer));
    },
  };
}
