// The worker's writes that may wait a few milliseconds (ledger records, queue settles) leave together on one
// clock. At a few hundred payments/s, flushing on setImmediate sends a script call per 1-3 entries, and Redis,
// which every POST's XADD waits on, spends its time on per-call overhead; on a 5 ms clock one call carries
// several entries and the records and settles of a tick go out in one pipeline. Nothing on the accept path
// waits on it: the only cost is up to batchMs more before a payment shows in the summary (the auditor allows
// ~1.5 s).
import { ENTRIES_PER_CALL } from "./chunks";

export class FlushClock {
  private readonly flushers: Array<() => void> = [];
  private armed = false;

  /**
   * batchMs 0: flush on setImmediate (the next turn of the event loop), as without a clock. What a tick
   * flushes goes in calls of at most entriesPerCall entries, one after another (chunks.ts).
   */
  constructor(
    readonly batchMs: number,
    readonly entriesPerCall = ENTRIES_PER_CALL,
  ) {
    if (!(batchMs >= 0)) throw new Error(`FlushClock: batchMs must be >= 0, got ${batchMs}`);
    if (!(Number.isInteger(entriesPerCall) && entriesPerCall >= 1))
      throw new Error(`FlushClock: entriesPerCall must be an integer >= 1, got ${entriesPerCall}`);
  }

  /** `flush` runs at every tick of the clock; it must do nothing when it has nothing pending. */
  register(flush: () => void): void {
    this.flushers.push(flush);
  }

  /** Some flusher has work: every flusher runs at the next tick (one timer for all). */
  arm(): void {
    if (this.armed) return;
    this.armed = true;
    const fire = () => {
      this.armed = false;
      for (const f of this.flushers) f();
    };
    if (this.batchMs === 0) setImmediate(fire);
    else setTimeout(fire, this.batchMs);
  }
}
