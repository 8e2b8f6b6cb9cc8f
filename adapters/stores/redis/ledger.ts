// Ledger on Redis: idempotent record and a summary whose cost is independent of how many payments it covers.
import {
  checkLedgerEntry,
  type Ledger,
  type LedgerEntry,
  PROCESSORS,
  type Summary,
} from "../../../handlers/contract/types";
import type { RedisConn } from "./connect";
import type { FlushClock } from "./flush-clock";
import type { Keys } from "./keys";
import { RECORD, SUMMARY } from "./scripts";

// The data layout (see scripts.ts): every process sharing a prefix must use the same values.
/** Bucket width (ms): a summary scans at most half a bucket of entries per window end. */
export const BUCKET_MS = 100;
/** Tree fan-out and depth: a record touches LEVELS nodes; a summary reads at most (FANOUT-1) per level. */
export const FANOUT = 16;
export const LEVELS = 10;
/** requestedAt must be below this (16^10 buckets of 100 ms: about year 5400). */
export const MAX_MS = FANOUT ** LEVELS * BUCKET_MS;

const LAYOUT = [BUCKET_MS, FANOUT, LEVELS];

export class RedisLedger implements Ledger {
  private readonly recordKeys: string[];
  private readonly summaryKeys: string[];

  constructor(
    private readonly conn: RedisConn,
    k: Keys,
    private readonly clock: FlushClock,
  ) {
    this.summaryKeys = PROCESSORS.flatMap((p) => [k.ledgerEntries(p), k.ledgerCents(p)]);
    this.recordKeys = [k.ledgerIds, ...this.summaryKeys];
    clock.register(() => this.flush());
  }

  /**
   * Records made before the flush clock's next tick go to Redis together, as one script call: a worker
   * draining a backlog records hundreds at once, and one call sums the shared tree nodes once instead of
   * once per payment (Redis is on every POST's path, so its CPU is everyone's latency).
   */
  record(entry: LedgerEntry): Promise<boolean> {
    try {
      checkEntry(entry); // a bad entry fails alone, not its whole batch
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.clock.arm();
    });
  }

  private pending: { entry: LedgerEntry; resolve: (added: boolean) => void; reject: (err: unknown) => void }[] = [];

  private flush() {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.write(batch.map((b) => b.entry)).then(
      (added) => {
        for (const [i, b] of batch.entries()) b.resolve(added[i] === true);
      },
      (err) => {
        for (const b of batch) b.reject(err);
      },
    );
  }

  /** Records many entries in one round trip (same layout and rules as record); true per entry that was new. */
  async recordMany(entries: readonly LedgerEntry[]): Promise<boolean[]> {
    entries.forEach(checkEntry);
    return this.write(entries);
  }

  /** One RECORD call for entries already checked. */
  private async write(entries: readonly LedgerEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const args: (string | number)[] = [...LAYOUT];
    for (const e of entries) args.push(e.processor, e.correlationId, e.requestedAt, e.amountCents);
    const out = await RECORD.run<number[]>(this.conn, this.recordKeys, args);
    return out.map((x) => Number(x) === 1);
  }

  async summary(from?: number, to?: number): Promise<Summary> {
    // Entries sit on whole ms: [from, to] inclusive == (ceil(from) - 1, floor(to)].
    const lo = from === undefined ? undefined : Math.ceil(from) - 1;
    let hi = to === undefined ? undefined : Math.floor(to);
    if (lo !== undefined && hi !== undefined && hi <= lo) return emptySummary();
    if (hi !== undefined && hi >= MAX_MS) hi = undefined; // nothing can be recorded there
    if (lo !== undefined && lo >= MAX_MS - 1) return emptySummary();
    const r = await SUMMARY.run<number[]>(this.conn, this.summaryKeys, [...LAYOUT, lo ?? "", hi ?? ""]);
    return {
      default: { totalRequests: Number(r[0]), totalCents: Number(r[1]) },
      fallback: { totalRequests: Number(r[2]), totalCents: Number(r[3]) },
    };
  }

  async purge(): Promise<void> {
    await this.conn.sendCommand(["DEL", ...this.recordKeys]);
  }
}

function checkEntry(e: LedgerEntry) {
  checkLedgerEntry(e);
  // The tree's own range (16^10 buckets of 100 ms: about year 5400).
  if (e.requestedAt >= MAX_MS)
    throw new Error(`ledger.record: requestedAt must be below ${MAX_MS}, got ${e.requestedAt}`);
}

function emptySummary(): Summary {
  return { default: { totalRequests: 0, totalCents: 0 }, fallback: { totalRequests: 0, totalCents: 0 } };
}
