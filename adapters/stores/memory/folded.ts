// Folded totals of one processor: count and cents per bucket (or, once old, per coarser group: coarsen.ts),
// sorted by bucket index. Folding appends (entries fold in time order), so adds are ~appends.
import { COARSE_LEVELS, COARSEN_FACTOR } from "../../../handlers/contract/coarsen";

export class FoldedTotals {
  private buckets: number[] = [];
  private n: number[] = [];
  private c: number[] = [];

  get size(): number {
    return this.buckets.length;
  }

  /** First index whose bucket is >= b. */
  private bound(b: number): number {
    let lo = 0,
      hi = this.buckets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buckets[mid]! < b) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(bucket: number, n: number, cents: number) {
    const i = this.bound(bucket);
    if (this.buckets[i] === bucket) {
      this.n[i]! += n;
      this.c[i]! += cents;
    } else {
      this.buckets.splice(i, 0, bucket);
      this.n.splice(i, 0, n);
      this.c.splice(i, 0, cents);
    }
  }

  /** Totals of the buckets b with bLo <= b < bHi. */
  total(bLo: number, bHi: number) {
    let n = 0,
      c = 0;
    for (let i = this.bound(bLo); i < this.buckets.length && this.buckets[i]! < bHi; i++) {
      n += this.n[i]!;
      c += this.c[i]!;
    }
    return { n, c };
  }

  /**
   * Merges the totals below each new cut into groups of 16^k buckets (cuts as coarseCuts returns them; `held`:
   * the cuts already applied). Only the totals between a held cut and its new one move.
   */
  coarsen(held: readonly number[], cuts: readonly number[]) {
    for (let k = 1; k <= COARSE_LEVELS; k++) {
      const from = held[k - 1] ?? 0,
        to = cuts[k - 1] ?? 0;
      if (to <= from) continue;
      const g = COARSEN_FACTOR ** k;
      const start = this.bound(from),
        end = this.bound(to);
      const merged: { b: number[]; n: number[]; c: number[] } = { b: [], n: [], c: [] };
      for (let i = start; i < end; i++) {
        const b = Math.floor(this.buckets[i]! / g) * g;
        const last = merged.b.length - 1;
        if (merged.b[last] === b) {
          merged.n[last]! += this.n[i]!;
          merged.c[last]! += this.c[i]!;
        } else {
          merged.b.push(b);
          merged.n.push(this.n[i]!);
          merged.c.push(this.c[i]!);
        }
      }
      // concat, not splice(...spread): a first cut can span more totals than a call takes arguments
      this.buckets = this.buckets.slice(0, start).concat(merged.b, this.buckets.slice(end));
      this.n = this.n.slice(0, start).concat(merged.n, this.n.slice(end));
      this.c = this.c.slice(0, start).concat(merged.c, this.c.slice(end));
    }
  }
}
