import { describe, expect, it } from 'vitest';
import { ChannelScheduler } from '../../src/ssh/channel-scheduler.js';

describe('ChannelScheduler', () => {
  it('grants up to the limit and queues the rest in FIFO order', async () => {
    const scheduler = new ChannelScheduler(2);
    const a = await scheduler.acquire();
    const b = await scheduler.acquire();
    const order: string[] = [];
    const c = scheduler.acquire().then((slot) => {
      order.push('c');
      return slot;
    });
    const d = scheduler.acquire().then((slot) => {
      order.push('d');
      return slot;
    });
    expect(scheduler.queued).toBe(2);
    a.release();
    a.release();
    (await c).release();
    b.release();
    (await d).release();
    expect(order).toEqual(['c', 'd']);
    expect(scheduler.active).toBe(0);
  });

  it('lowers the limit on refusals to what the server held open, and reset() restores it', async () => {
    const scheduler = new ChannelScheduler(8);
    const slots = await Promise.all(Array.from({ length: 8 }, () => scheduler.acquire()));
    // The server allows 3: five opens are refused before the three successes are confirmed.
    for (const slot of slots.slice(3)) {
      slot.refused();
    }
    for (const slot of slots.slice(0, 3)) {
      slot.opened();
    }
    expect(scheduler.limit).toBe(3);
    // A later refusal caused by the server freeing sessions late does not go below the peak.
    slots[0]?.release();
    const retry = await scheduler.acquire();
    expect(retry.refused()).toBe(2);
    expect(scheduler.limit).toBe(3);
    scheduler.reset();
    expect(scheduler.limit).toBe(8);
  });

  it('drops a waiter whose signal aborts, and fails waiters on close', async () => {
    const scheduler = new ChannelScheduler(1);
    await scheduler.acquire();
    const controller = new AbortController();
    const aborted = scheduler.acquire(controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(scheduler.queued).toBe(0);
    const waiting = scheduler.acquire();
    scheduler.failWaiting(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
  });
});
