// Acks and retries issued before the flush clock's next tick leave together, in SETTLE script calls of up to
// the clock's entriesPerCall entries sent one after another (chunks.ts).
import { answerInSequence } from "./chunks";
import type { RedisConn } from "./connect";
import type { StreamEntry } from "./entries";
import type { FlushClock } from "./flush-clock";
import { GROUP, type Keys } from "./keys";
import { SETTLE } from "./scripts";

export type SettleKind = "a" | "r" | "d";

export class Settler {
  /** One per pushed entry: its SETTLE arguments and its promise. */
  private pending: Array<{ args: string[]; resolve(): void; reject(err: unknown): void }> = [];

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
    const args = [kind, e.id, ...retryFields];
    this.clock.arm();
    return new Promise((resolve, reject) => this.pending.push({ args, resolve, reject }));
  }

  private flush() {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const keys = [this.k.stream, this.k.delayed, this.k.dead];
    answerInSequence(batch, this.clock.entriesPerCall, async (slice) => {
      await SETTLE.run(this.conn, keys, [GROUP, ...slice.flatMap((p) => p.args)]);
      return slice.map(() => undefined);
    });
  }
}
