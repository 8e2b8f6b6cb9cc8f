// Latency samples: every successful request (exact p99 at the end, like k6's Trend), a coarse
// histogram for a cheap live p99, and per-second POST samples for the report's plots.
import { percentile } from "./score";

const BUCKET_US = 10; // live histogram: 10 µs buckets up to 200 ms, then one overflow bucket
const BUCKETS = 20_000;

export class Latencies {
  private all = new Float64Array(1 << 16);
  private n = 0;
  private hist = new Uint32Array(BUCKETS + 1);
  /** per second of the run: POST latencies (ms) */
  readonly perSecond: number[][] = [];

  /** Records one successful (2xx/3xx) request; `second` >= 0 also files it for the per-second plot. */
  add(ms: number, second = -1): void {
    if (this.n === this.all.length) {
      const next = new Float64Array(this.all.length * 2);
      next.set(this.all);
      this.all = next;
    }
    this.all[this.n++] = ms;
    this.hist[Math.min(Math.floor((ms * 1000) / BUCKET_US), BUCKETS)]!++;
    if (second >= 0) {
      this.perSecond[second] ??= [];
      this.perSecond[second].push(ms);
    }
  }

  get count(): number {
    return this.n;
  }

  /** Approximate (10 µs) percentile from the histogram; cheap enough for a 2 Hz progress bar. */
  live(p: number): number {
    if (this.n === 0) return 0;
    const want = Math.ceil(p * this.n);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.hist[i]!;
      if (seen >= want) return ((i + 1) * BUCKET_US) / 1000;
    }
    return Infinity;
  }

  /** Exact percentile over every sample (k6 interpolation). */
  exact(p: number): number {
    return percentile(this.sorted(), p);
  }

  sorted(): Float64Array {
    return this.all.slice(0, this.n).sort();
  }
}

/** p50/p99 per second from per-second samples (null where a second had none). */
export function perSecondPercentiles(
  perSecond: number[][],
  seconds: number,
): { p50: (number | null)[]; p99: (number | null)[] } {
  const p50: (number | null)[] = [];
  const p99: (number | null)[] = [];
  for (let s = 0; s < seconds; s++) {
    const xs = perSecond[s];
    if (!xs?.length) {
      p50.push(null);
      p99.push(null);
      continue;
    }
    const sorted = Float64Array.from(xs).sort();
    p50.push(percentile(sorted, 0.5));
    p99.push(percentile(sorted, 0.99));
  }
  return { p50, p99 };
}
