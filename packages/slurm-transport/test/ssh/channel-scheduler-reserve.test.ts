import { describe, expect, it } from 'vitest';
import { ChannelScheduler, SHORT_CHANNEL_RESERVE } from '../../src/ssh/channel-scheduler.js';

describe('ChannelScheduler reserve for short channels', () => {
  it('never lets long-lived channels take the last slots, and lets short ones pass a waiting long one', async () => {
    const scheduler = new ChannelScheduler(8);
    const longs = await Promise.all(
      Array.from({ length: 8 - SHORT_CHANNEL_RESERVE }, () => scheduler.acquire(undefined, false, 'long')),
    );
    let extraLongGranted = false;
    const extraLong = scheduler.acquire(undefined, false, 'long').then((slot) => {
      extraLongGranted = true;
      return slot;
    });
    // Queued behind the waiting long request, short ones still get the reserved slots.
    const shorts = await Promise.all([scheduler.acquire(), scheduler.acquire()]);
    expect(scheduler.active).toBe(8);
    expect(extraLongGranted).toBe(false);
    for (const s of shorts) s.release();
    await Promise.resolve();
    expect(extraLongGranted).toBe(false);
    longs[0]?.release();
    const granted = await extraLong;
    expect(extraLongGranted).toBe(true);
    granted.release();
  });

  it('gives a one-slot connection to whoever asks', async () => {
    const scheduler = new ChannelScheduler(1);
    const slot = await scheduler.acquire(undefined, false, 'long');
    expect(scheduler.active).toBe(1);
    slot.release();
  });
});
