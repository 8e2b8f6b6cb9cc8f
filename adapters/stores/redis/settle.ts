// Acks and retries issued before the flush clock's next tick leave in one SETTLE script call: one round trip
// for a whole batch.
import type { RedisConn } from "./connect";
import type { StreamEntry } from "./entries";
import type { FlushClock } from "./flush-clock";
import { GROUP, type Keys } from "./keys";
import { SETTLE } from "./scripts";

export type SettleKind = "a" | "r" | "d";

export class Settler {
  private args: string[] = [];
  private waiters: Array<{ resolve(): void; reject(err: unknown): void }> = [];

  constructor(
    private readonly conn: RedisConn,
    private readonly k: Keys,
    private readonly clock: FlushClock,
  ) {
    clock.register(() => this.flush());
  }

  /** Resolves once Redis applied it. `delayMs` only matters for retries. */
  push(kind: SettleKind, e: StreamEntry, delayMs = 0): Promise<void> {
    const retryFields =
      kind === "r"
        ? [String(Math.max(0, Math.ceil(delayMs))), String(e.prior + 1), String(e.sentAt), e.messageId, e.raw]
        : ["", "", "", "", kind === "d" ? e.raw : ""];
    this.args.push(kind, e.id, ...retryFields);
    this.clock.arm();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private flush() {
    if (this.waiters.length === 0) return;
    const args = this.args,
      waiters = this.waiters;
    this.args = [];
    this.waiters = [];
    SETTLE.run(this.conn, [this.k.stream, this.k.delayed, this.k.dead], [GROUP, ...args]).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
