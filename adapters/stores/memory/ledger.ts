import { COARSE_LEVELS, nextCuts, oldEdge } from "../../../handlers/contract/coarsen";
import { tooOld } from "../../../handlers/contract/log";
import {
  LEDGER_BUCKET_MS as B,
  checkLedgerEntry,
  type Ledger,
  type LedgerEntry,
  PROCESSORS,
  type ProcessorName,
  type Summary,
} from "../../../handlers/contract/types";
import { FoldedTotals } from "./folded";

/** Entries of one processor kept sorted by requestedAt; arrivals are nearly in order, so inserts are ~appends. */
class SortedTimes {
  times: number[] = [];
  cents: number[] = [];
  ids: string[] = [];

  insert(t: number, c: number, id: string) {
    let i = this.times.length;
    while (i > 0 && this.times[i - 1]! > t) i--;
    this.times.splice(i, 0, t);
    this.cents.splice(i, 0, c);
    this.ids.splice(i, 0, id);
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

  /** Removes and returns the first n entries. */
  shift(n: number) {
    return { times: this.times.splice(0, n), cents: this.cents.splice(0, n), ids: this.ids.splice(0, n) };
  }
}

export interface MemoryLedger extends Ledger {
  /** Folds up to `limit` entries with requestedAt below `horizon` (a bucket boundary) into bucket totals. */
  fold(horizon: number, limit: number): { folded: number; more: boolean };
  /** Merges old totals into coarser groups up to these cuts (coarseCuts; a cut never moves back). */
  coarsen(cuts: readonly number[]): void;
  /** How many folded totals it holds (what coarsening bounds). */
  foldedTotals(): number;
  /** Records refused as older than the horizon since the last call. */
  takeRefused(): number;
}

export function createMemoryLedger(): MemoryLedger {
  let ids = new Map<string, LedgerEntry>();
  let byProcessor = new Map<ProcessorName, SortedTimes>();
  let folded = new Map<ProcessorName, FoldedTotals>();
  let horizon = -Infinity;
  let cuts: number[] = new Array(COARSE_LEVELS).fill(0);
  let refused = 0;
  const reset = () => {
    ids = new Map();
    byProcessor = new Map(PROCESSORS.map((p) => [p, new SortedTimes()]));
    folded = new Map(PROCESSORS.map((p) => [p, new FoldedTotals()]));
    horizon = -Infinity;
    cuts = new Array(COARSE_LEVELS).fill(0);
  };
  reset();

  return {
    async record(e: LedgerEntry) {
      checkLedgerEntry(e);
      if (e.requestedAt < horizon) {
        refused++;
        tooOld(e);
        return false;
      }
      if (ids.has(e.correlationId)) return false;
      ids.set(e.correlationId, {
        correlationId: e.correlationId,
        processor: e.processor,
        requestedAt: e.requestedAt,
        amountCents: e.amountCents,
      });
      byProcessor.get(e.processor)!.insert(e.requestedAt, e.amountCents, e.correlationId);
      return true;
    },
    async lookup(id: string) {
      const e = ids.get(id);
      return e ? { ...e } : null;
    },
    async summary(from = -Infinity, to = Infinity): Promise<Summary> {
      const out = {} as Summary;
      // Entries sit on whole ms: [from, to] == (lo, hi]. An edge older than the horizon moves to the end of its
      // bucket or group (every store's rule): a folded payment counts iff its group's start is in the window.
      const edge = (t: number) => (t < horizon ? oldEdge(t, cuts) : t);
      const lo = edge(Math.ceil(from) - 1),
        hi = edge(Math.floor(to));
      for (const p of PROCESSORS) {
        if (hi <= lo) {
          out[p] = { totalRequests: 0, totalCents: 0 };
          continue;
        }
        const live = byProcessor.get(p)!.total(lo + 1, hi);
        const old = folded.get(p)!.total(Math.floor(lo / B) + 1, Math.floor(hi / B) + 1);
        out[p] = { totalRequests: live.totalRequests + old.n, totalCents: live.totalCents + old.c };
      }
      return out;
    },
    async purge() {
      reset();
    },
    takeRefused() {
      const n = refused;
      refused = 0;
      return n;
    },
    fold(h: number, limit: number) {
      horizon = Math.max(horizon, h);
      let n = 0;
      let more = false;
      for (const p of PROCESSORS) {
        const s = byProcessor.get(p)!;
        const count = Math.min(s.bound(horizon, false), limit - n);
        const gone = s.shift(count);
        const totals = folded.get(p)!;
        for (let i = 0; i < count; i++) {
          totals.add(Math.floor(gone.times[i]! / B), 1, gone.cents[i]!);
          ids.delete(gone.ids[i]!);
        }
        n += count;
        if (s.bound(horizon, false) > 0) more = true;
      }
      return { folded: n, more };
    },
    coarsen(wanted: readonly number[]) {
      const next = nextCuts(cuts, wanted);
      for (const totals of folded.values()) totals.coarsen(cuts, next);
      cuts = next;
    },
    foldedTotals() {
      let n = 0;
      for (const totals of folded.values()) n += totals.size;
      return n;
    },
  };
}
