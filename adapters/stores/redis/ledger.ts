// Ledger on Redis: idempotent record and a summary whose cost is independent of how many payments it covers.
import { COARSE_LEVELS, coarseCuts } from "../../../handlers/contract/coarsen";
import { tooOld } from "../../../handlers/contract/log";
import {
  type Compaction,
  checkLedgerEntry,
  LEDGER_BUCKET_MS,
  type Ledger,
  type LedgerEntry,
  PROCESSORS,
  type ProcessorName,
  type Summary,
} from "../../../handlers/contract/types";
import { answerInSequence, inSequence } from "./chunks";
import type { RedisConn } from "./connect";
import type { FlushClock } from "./flush-clock";
import type { Keys } from "./keys";
import { COARSEN, COMPACT, RECORD, SUMMARY } from "./scripts";

// The data layout (see scripts.ts): every process sharing a prefix must use the same values.
/** Bucket width (ms): a summary scans at most half a bucket of entries per window end; also the folding unit. */
export const BUCKET_MS = LEDGER_BUCKET_MS;
/** Tree fan-out and depth: a record touches LEVELS nodes; a summary reads at most (FANOUT-1) per level. */
export const FANOUT = 16;
export const LEVELS = 10;
/** requestedAt must be below this (16^10 buckets of 100 ms: about year 5400). */
export const MAX_MS = FANOUT ** LEVELS * BUCKET_MS;
// Coarsening drops whole levels of this tree (COARSEN): its fan-out and depth are the rule's.
if (FANOUT !== 16 || LEVELS !== COARSE_LEVELS + 1) throw new Error("ledger tree and coarsen.ts disagree");

const LAYOUT = [BUCKET_MS, FANOUT, LEVELS];

export class RedisLedger implements Ledger {
  private readonly recordKeys: string[];
  private readonly summaryKeys: string[];
  private readonly compactKeys: string[];
  private readonly coarsenKeys: string[];
  private readonly allKeys: string[];
  private readonly ids: string;
  private readonly entries: Record<ProcessorName, string>;

  constructor(
    private readonly conn: RedisConn,
    k: Keys,
    private readonly clock: FlushClock,
    private readonly retentionMs = Infinity,
    private readonly detailMs = Infinity,
  ) {
    this.summaryKeys = [
      ...PROCESSORS.flatMap((p) => [k.ledgerEntries(p), k.ledgerCents(p), k.ledgerCounts(p)]),
      k.ledgerHorizon,
      k.ledgerCoarse,
    ];
    this.recordKeys = [
      k.ledgerIds,
      ...PROCESSORS.flatMap((p) => [k.ledgerEntries(p), k.ledgerCents(p)]),
      k.ledgerHorizon,
    ];
    this.compactKeys = [
      k.ledgerIds,
      k.ledgerHorizon,
      ...PROCESSORS.flatMap((p) => [k.ledgerEntries(p), k.ledgerCounts(p)]),
    ];
    this.coarsenKeys = [k.ledgerCoarse, ...PROCESSORS.flatMap((p) => [k.ledgerCents(p), k.ledgerCounts(p)])];
    this.allKeys = [k.ledgerIds, ...this.summaryKeys];
    this.ids = k.ledgerIds;
    this.entries = { default: k.ledgerEntries("default"), fallback: k.ledgerEntries("fallback") };
    clock.register(() => this.flush());
  }

  private refusedOld = 0;

  /**
   * Folds up to `limit` entries older than the retention into bucket totals (COMPACT in scripts.ts), and once
   * all are folded, drops up to `limit / 4` groups of old tree nodes (COARSEN). The tick calls it again while
   * `more`: small calls keep Redis free for the XADDs in between (chunks.ts).
   */
  async compact(limit = this.clock.entriesPerCall): Promise<Omit<Compaction, "expiredClaims">> {
    const refusedOld = this.refusedOld;
    this.refusedOld = 0;
    if (!Number.isFinite(this.retentionMs)) return { folded: 0, more: false, refusedOld };
    const [folded, more, horizon] = await COMPACT.run<number[]>(this.conn, this.compactKeys, [
      ...LAYOUT,
      this.retentionMs,
      limit,
    ]);
    const foldMore = Number(more) === 1;
    if (foldMore || !Number.isFinite(this.detailMs)) return { folded: Number(folded), more: foldMore, refusedOld };
    const cuts = coarseCuts(Number(horizon), this.detailMs);
    // A step drops 16 nodes from 4 hashes and looks up to 18 ancestors: about 4 recorded entries' worth of time
    // (npm run bench:redis-calls), so a call holds Redis about as long as a RECORD of `limit`.
    const steps = Math.max(1, Math.ceil(limit / 4));
    const coarser = await COARSEN.run<number>(this.conn, this.coarsenKeys, [...LAYOUT, steps, ...cuts]);
    return { folded: Number(folded), more: Number(coarser) === 1, refusedOld };
  }

  /**
   * Records made before the flush clock's next tick go to Redis together, in script calls of up to
   * entriesPerCall entries sent one after another: one call sums the shared tree nodes once for its entries
   * instead of once per payment, and no call holds Redis (which every POST's XADD waits on) for long.
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
    answerInSequence(batch, this.clock.entriesPerCall, async (slice) => {
      const added = await this.write(slice.map((b) => b.entry));
      return slice.map((_, i) => added[i] === true);
    });
  }

  /** Records many entries (same layout and rules as record); true per entry that was new. */
  async recordMany(entries: readonly LedgerEntry[]): Promise<boolean[]> {
    entries.forEach(checkEntry);
    const added: boolean[] = [];
    await inSequence(
      entries,
      this.clock.entriesPerCall,
      (slice) => this.write(slice),
      (_, r) => added.push(...r),
    );
    return added;
  }

  /** One RECORD call for entries already checked (at most entriesPerCall of them). */
  private async write(entries: readonly LedgerEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const args: (string | number)[] = [...LAYOUT];
    for (const e of entries) args.push(e.processor, e.correlationId, e.requestedAt, e.amountCents);
    const out = await RECORD.run<number[]>(this.conn, this.recordKeys, args);
    return out.map((x, i) => {
      if (Number(x) === 2) {
        this.refusedOld++;
        tooOld(entries[i]!);
      }
      return Number(x) === 1;
    });
  }

  /** The entry of `correlationId` while it is held exactly (not yet folded), else null. */
  async lookup(correlationId: string): Promise<LedgerEntry | null> {
    const v = await this.conn.sendCommand<string | null>(["HGET", this.ids, correlationId]);
    if (v == null) return null;
    const [processor, cents] = v.split(":") as [ProcessorName, string];
    const member = `${correlationId}:${cents}`;
    const score = await this.conn.sendCommand<string | null>(["ZSCORE", this.entries[processor], member]);
    if (score == null) return null; // folded between the two reads
    return { correlationId, processor, requestedAt: Number(score), amountCents: Number(cents) };
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
    await this.conn.sendCommand(["DEL", ...this.allKeys]);
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
