import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { raceSignal, sleep } from './abort.js';
import type { ChannelKind, ChannelScheduler } from './channel-scheduler.js';
import type { Logger } from './logger.js';
import { isChannelRefusal } from './ssh-exec.js';
import type { SshSession } from './ssh-session.js';

// A server refusing channels while we hold none is misconfigured, not busy: give up after this many.
const MAX_IDLE_REFUSALS = 8;

/** What {@link openScheduledChannel} works with. */
export interface ChannelContext {
  scheduler: ChannelScheduler;
  /** Resolves with a ready session, connecting or waiting for a reconnect as needed. */
  readySession: (signal: AbortSignal | undefined) => Promise<SshSession>;
  /** `user@host:port`, for messages. */
  target: string;
  logger: Logger;
}

/** An open channel, the session it belongs to, and the release of its slot (call once it closed). */
export interface OpenedChannel<C> {
  channel: C;
  session: SshSession;
  release: () => void;
}

/**
 * Takes a channel slot, waits for a ready session and opens a channel with `open`, retrying when
 * the server refuses it for capacity (sshd `MaxSessions`): such requests wait, they do not fail.
 * @throws {SlurmTransportError} `ERR_SSH_CHANNEL` for other refusals or a server that refuses
 *   even with nothing open, `ERR_SSH_DISCONNECTED` when the connection drops meanwhile, the signal's error.
 */
export async function openScheduledChannel<C>(
  context: ChannelContext,
  signal: AbortSignal | undefined,
  open: (client: Client) => Promise<C>,
  kind: ChannelKind = 'short',
): Promise<OpenedChannel<C>> {
  const { scheduler, target, logger } = context;
  let refusals = 0;
  for (;;) {
    const slot = await scheduler.acquire(signal, refusals > 0, kind);
    let session: SshSession;
    try {
      session = await context.readySession(signal);
    } catch (error) {
      slot.release();
      throw error;
    }
    try {
      const channel = await raceSignal(open(session.client), signal, (late) => closeLate(late));
      slot.opened();
      return { channel, session, release: slot.release };
    } catch (error) {
      if (session.lost !== undefined) {
        slot.release();
        throw session.lost;
      }
      if (!isChannelRefusal(error)) {
        slot.release();
        if ((error as Error).message === 'Not connected') {
          throw new SlurmTransportError('ERR_SSH_DISCONNECTED', `The connection to ${target} was lost.`, {
            cause: error,
          });
        }
        throw error instanceof SlurmTransportError
          ? error
          : new SlurmTransportError(
              'ERR_SSH_CHANNEL',
              `${target} refused a session channel: ${(error as Error).message}`,
              { cause: error },
            );
      }
      const others = slot.refused();
      refusals += 1;
      if (others === 0 && refusals >= MAX_IDLE_REFUSALS) {
        throw new SlurmTransportError(
          'ERR_SSH_CHANNEL',
          `${target} refuses to open session channels even with none open (${(error as Error).message}). ` +
            'Check sshd MaxSessions and any ForceCommand/restrictions for this account.',
          { cause: error },
        );
      }
      logger.debug(`${target} refused a channel with ${others} open; limit now ${scheduler.limit}`);
      await sleep(Math.min(500, 5 * 2 ** refusals), signal);
    }
  }
}

// A channel that opened after its caller gave up: close it so it does not hold a server session.
function closeLate(channel: unknown): void {
  (channel as ClientChannel | SFTPWrapper).end();
}
