// Redis runs one command at a time, and every POST's XADD waits behind whatever is running. One script over
// hundreds of entries holds it for milliseconds (SLOWLOG, unthrottled: RECORD ~10 us per entry, 1,000 entries
// 10.6 ms; COMPACT ~11 us per entry, 5,000 entries 41 ms), and a worker draining a backlog or folding old
// entries sends exactly such batches. So the worker's batched writes go as a sequence of small calls, each sent
// after the previous one's reply, and the XADDs of the APIs run in between.

/** Most entries per RECORD / COMPACT / SETTLE / PROMOTE call (~0.35 ms of Redis time for RECORD). */
export const ENTRIES_PER_CALL = 32;
/** Most ids per heartbeat XCLAIM (cheaper per id than a script entry). */
export const IDS_PER_CLAIM = 256;

/** Runs `call` on consecutive slices of `items`, one after another; each slice's result goes to `done`. */
export async function inSequence<T, R>(
  items: readonly T[],
  size: number,
  call: (slice: T[]) => Promise<R>,
  done: (slice: T[], result: R) => void = () => {},
): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    const slice = items.slice(i, i + size);
    done(slice, await call(slice));
  }
}

/** A caller waiting on its part of a batched write. */
export interface Waiter<R> {
  resolve(result: R): void;
  reject(err: unknown): void;
}

/**
 * Sends a flushed batch in slices (inSequence) and answers each slice's waiters as soon as its call returns:
 * waiter i of a slice gets result i, or every waiter of the slice gets the call's error.
 */
export function answerInSequence<R, W extends Waiter<R>>(
  batch: readonly W[],
  size: number,
  call: (slice: W[]) => Promise<readonly R[]>,
): void {
  void inSequence(batch, size, async (slice) => {
    try {
      const results = await call(slice);
      for (const [i, w] of slice.entries()) w.resolve(results[i]!);
    } catch (err) {
      for (const w of slice) w.reject(err);
    }
  });
}
