import {
  checkLedgerEntry,
  type Ledger,
  type LedgerEntry,
  PROCESSORS,
  type ProcessorName,
  type Summary,
} from "../../../handlers/contract/types";

/** Entries of one processor kept sorted by requestedAt; arrivals are nearly in order, so inserts are ~appends. */
class SortedTimes {
  times: number[] = [];
  cents: number[] = [];

  insert(t: number, c: number) {
    let i = this.times.length;
    while (i > 0 && this.times[i - 1]! > t) i--;
    if (i === this.times.length) {
      this.times.push(t);
      this.cents.push(c);
      return;
    }
    this.times.splice(i, 0, t);
    this.cents.splice(i, 0, c);
  }

  /** First index whose time is >= t (or > t when `after`). */
  bound(t: number, after: boolean): number {
    let lo = 0,
      hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.times[mid]!;
      if (v < t || (after && v === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  total(from: number, to: number) {
    const start = this.bound(from, false),
      end = this.bound(to, true);
    let cents = 0;
    for (let i = start; i < end; i++) cents += this.cents[i]!;
    return { totalRequests: Math.max(0, end - start), totalCents: cents };
  }
}

export function createMemoryLedger(): Ledger {
  let ids = new Set<string>();
  let byProcessor = new Map<ProcessorName, SortedTimes>(PROCESSORS.map((p) => [p, new SortedTimes()]));

  return {
    async record(e: LedgerEntry) {
      checkLedgerEntry(e);
      if (ids.has(e.correlationId)) return false;
      ids.add(e.correlationId);
      byProcessor.get(e.processor)!.insert(e.requestedAt, e.amountCents);
      return true;
    },
    async summary(from = -Infinity, to = Infinity): Promise<Summary> {
      if (from > to)
        return { default: { totalRequests: 0, totalCents: 0 }, fallback: { totalRequests: 0, totalCents: 0 } };
      return {
        default: byProcessor.get("default")!.total(from, to),
        fallback: byProcessor.get("fallback")!.total(from, to),
      };
    },
    async purge() {
      ids = new Set();
      byProcessor = new Map(PROCESSORS.map((p) => [p, new SortedTimes()]));
    },
  };
}
