// Moves due retries from the delayed set back to the stream. Every consuming process runs one, so a retry
// is never stranded by the death of the process that scheduled it.

import { log } from "../../../handlers/contract/log";
import type { RedisConn } from "./connect";
import type { Keys } from "./keys";
import { PROMOTE } from "./scripts";

export class Promoter {
  private users = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextAt = Infinity;
  private running = false;
  private again = false;

  constructor(
    private readonly conn: RedisConn,
    private readonly k: Keys,
    private readonly maxWaitMs: number,
    /** Most moves per call; a full call is followed by the next at once (small calls: chunks.ts). */
    private readonly batch: number,
  ) {}

  acquire() {
    if (++this.users === 1) this.schedule(0);
  }

  release() {
    if (--this.users > 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = Infinity;
  }

  /** Something becomes due in `ms`: make sure we look by then. */
  soon(ms: number) {
    if (this.users > 0 && Date.now() + ms < this.nextAt) this.schedule(ms);
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.nextAt = Date.now() + ms;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick() {
    this.timer = undefined;
    this.nextAt = Infinity;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let wait = this.maxWaitMs;
    try {
      const [moved, due] = (await PROMOTE.run<number[]>(this.conn, [this.k.stream, this.k.delayed], [this.batch])).map(
        Number,
      );
      if (moved === this.batch) wait = 0;
      else if (due !== undefined && due >= 0) wait = Math.min(due, this.maxWaitMs);
    } catch (err) {
      log("warn", "redis_promote_failed", { error: String(err), retryInMs: this.maxWaitMs });
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      wait = 0;
    }
    if (this.users > 0 && (this.timer === undefined || Date.now() + wait < this.nextAt)) this.schedule(wait);
  }
}
