import type { PipesReaderEvent } from '@slurm-pipes/pipes-protocol';

/** Drains an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** A compact view of events for assertions: method, `error@line`, or `out:text`. */
export function summarize(events: readonly PipesReaderEvent[]): string[] {
  return events.map((e) =>
    e.kind === 'message' ? e.message.method : e.kind === 'output' ? `out:${e.text}` : `error@${e.line}`,
  );
}

/** Resolves once `predicate` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
