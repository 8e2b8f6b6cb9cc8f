// The processor's payments table, in memory: a map for lookups and duplicate checks, plus
// requested_at-sorted columns so a summary is two binary searches and one pass over the window.

export interface StoredPayment {
  correlationId: string;
  amountCents: number;
  /** Exactly as sent. */
  requestedAt: string;
  /** Parsed requestedAt, epoch microseconds. */
  requestedAtUs: number;
}

export interface Totals {
  totalRequests: number;
  totalCents: bigint;
}

export class Ledger {
  private byId = new Map<string, StoredPayment>();
  // Parallel columns sorted by requestedAtUs (ties in insertion order).
  private times: number[] = [];
  private cents: number[] = [];
  private rowsSorted: StoredPayment[] = [];
  private allCents = 0;
  /** Largest |amountCents| stored: bounds every partial sum, so we know when float sums are exact. */
  private maxAbsCents = 0;

  get size(): number {
    return this.byId.size;
  }

  get(correlationId: string): StoredPayment | undefined {
    return this.byId.get(correlationId.toLowerCase());
  }

  /** false when the correlationId is already stored (the first row stays). */
  insert(p: StoredPayment): boolean {
    if (this.byId.has(p.correlationId)) return false;
    this.byId.set(p.correlationId, p);
    // Rows mostly arrive in requestedAt order, so this is usually an append.
    const i = upperBound(this.times, p.requestedAtUs);
    if (i === this.times.length) {
      this.times.push(p.requestedAtUs);
      this.cents.push(p.amountCents);
      this.rowsSorted.push(p);
    } else {
      this.times.splice(i, 0, p.requestedAtUs);
      this.cents.splice(i, 0, p.amountCents);
      this.rowsSorted.splice(i, 0, p);
    }
    this.allCents += p.amountCents;
    this.maxAbsCents = Math.max(this.maxAbsCents, Math.abs(p.amountCents));
    return true;
  }

  /** requested_at BETWEEN from AND to (both inclusive); every row when either bound is missing. */
  summary(fromUs?: number, toUs?: number): Totals {
    if (fromUs === undefined || toUs === undefined) {
      return { totalRequests: this.times.length, totalCents: this.exactSum(0, this.cents.length, this.allCents) };
    }
    if (fromUs > toUs) return { totalRequests: 0, totalCents: 0n };
    const lo = lowerBound(this.times, fromUs);
    const hi = upperBound(this.times, toUs);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += this.cents[i]!;
    return { totalRequests: hi - lo, totalCents: this.exactSum(lo, hi, sum) };
  }

  /** Rows in requestedAt order. */
  rows(): StoredPayment[] {
    return this.rowsSorted.slice();
  }

  purge(): void {
    this.byId = new Map();
    this.times = [];
    this.cents = [];
    this.rowsSorted = [];
    this.allCents = 0;
    this.maxAbsCents = 0;
  }

  /**
   * A float sum of integer cents is exact while every partial sum is a safe integer, which
   * rows * max|cents| bounds; beyond that (never with contest amounts), redo it in BigInt.
   */
  private exactSum(lo: number, hi: number, floatSum: number): bigint {
    if ((hi - lo) * this.maxAbsCents <= Number.MAX_SAFE_INTEGER) return BigInt(floatSum);
    let s = 0n;
    for (let i = lo; i < hi; i++) s += BigInt(this.cents[i]!);
    return s;
  }
}

/** First index with a[i] >= x. */
function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with a[i] > x. */
function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
