import { signalError } from './abort.js';

/** A permit to have one channel open; see {@link ChannelScheduler}. */
export interface ChannelSlot {
  /** The server confirmed the channel: it counts as open until {@link release}. */
  opened(): void;
  /**
   * The server refused the channel (sshd `MaxSessions`): frees the slot and lowers the limit to
   * what the server has shown to allow. Returns how many other channels are open.
   */
  refused(): number;
  /** Frees the slot; idempotent. */
  release(): void;
}

/** Slots kept free of long-lived channels, for the short commands (at most all but one). */
export const SHORT_CHANNEL_RESERVE = 2;

interface Waiter {
  kind: ChannelKind;
  grant: (slot: ChannelSlot) => void;
  fail: (error: unknown) => void;
}

/**
 * How long a channel is held: `'short'` (a command, an SFTP call) or `'long'` (a spawned process
 * such as a tail, held as long as a job runs).
 */
export type ChannelKind = 'short' | 'long';

/**
 * Caps the channels open at once on one connection. Requests beyond the cap wait in FIFO order
 * instead of failing; when the server refuses an open before the cap (its `MaxSessions` is lower),
 * the cap drops to the number of channels the server has actually held open at once.
 *
 * Long-lived channels never take the last {@link SHORT_CHANNEL_RESERVE} slots: with many jobs
 * followed at once their tails would otherwise hold every slot, and the short commands that find
 * out the jobs ended (and so free the tails) would wait for ever. A long request that must wait
 * does not hold up short ones queued behind it.
 */
export class ChannelScheduler {
  readonly #max: number;
  #limit: number;
  #active = 0;
  #activeLong = 0;
  #open = 0;
  #peakOpen = 0;
  #queue: Waiter[] = [];

  constructor(maxChannels: number) {
    this.#max = maxChannels;
    this.#limit = maxChannels;
  }

  /** Current cap (at most `maxChannels`). */
  get limit(): number {
    return this.#limit;
  }

  /** Slots held (channels opening or open). */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Resolves with a slot once fewer than `limit` are held; `first` jumps the queue (for retries).
   * @throws {SlurmTransportError} `ERR_ABORTED` (or the signal's own error) when `signal` aborts while waiting.
   */
  acquire(signal?: AbortSignal, first = false, kind: ChannelKind = 'short'): Promise<ChannelSlot> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signalError(signal));
        return;
      }
      const waiter: Waiter = {
        kind,
        grant: (slot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(slot);
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        this.#queue = this.#queue.filter((queued) => queued !== waiter);
        reject(signalError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (first) {
        this.#queue.unshift(waiter);
      } else {
        this.#queue.push(waiter);
      }
      this.#pump();
    });
  }

  /** A new connection: forget the learned limit. */
  reset(): void {
    this.#limit = this.#max;
    this.#peakOpen = this.#open;
    this.#pump();
  }

  /** Fails every waiting request with `error` (the connection closed for good). */
  failWaiting(error: unknown): void {
    const waiting = this.#queue;
    this.#queue = [];
    for (const waiter of waiting) {
      waiter.fail(error);
    }
  }

  #longLimit(): number {
    return Math.max(1, this.#limit - Math.min(SHORT_CHANNEL_RESERVE, this.#limit - 1));
  }

  #pump(): void {
    while (this.#active < this.#limit) {
      const index = this.#queue.findIndex((w) => w.kind === 'short' || this.#activeLong < this.#longLimit());
      if (index < 0) return;
      const [waiter] = this.#queue.splice(index, 1) as [Waiter];
      this.#active += 1;
      if (waiter.kind === 'long') this.#activeLong += 1;
      waiter.grant(this.#createSlot(waiter.kind));
    }
  }

  #createSlot(kind: ChannelKind): ChannelSlot {
    let state: 'opening' | 'open' | 'released' = 'opening';
    const release = () => {
      if (state === 'released') {
        return;
      }
      if (state === 'open') {
        this.#open -= 1;
      }
      state = 'released';
      this.#active -= 1;
      if (kind === 'long') this.#activeLong -= 1;
      this.#pump();
    };
    return {
      opened: () => {
        if (state === 'opening') {
          state = 'open';
          this.#open += 1;
          this.#peakOpen = Math.max(this.#peakOpen, this.#open);
        }
      },
      refused: () => {
        // Refusals of a burst arrive one by one, before the successful opens are confirmed: each
        // lowers the limit to the slots held by others, never below what was seen open at once.
        const others = this.#active - 1;
        this.#limit = Math.max(1, Math.min(this.#limit, Math.max(others, this.#peakOpen)));
        release();
        return others;
      },
      release,
    };
  }
}
