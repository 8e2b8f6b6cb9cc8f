// Forwarding pace: a token bucket that spreads a released backlog over time. When a processor recovers, the
// worker holds thousands of payments; sent at once, their sends, records and acks make a CPU burst in the
// worker and in Redis, and every POST's XADD waits behind Redis: the burst is the POST tail's worst second.
// At a pace well above the arrival rate (the final peaks near 600/s) the backlog still drains in seconds.

export class Pacer {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  /** ratePerS 0: no pacing. burstMs: how much sending can go out at once after a quiet spell. */
  constructor(
    readonly ratePerS: number,
    burstMs = 20,
    now = Date.now(),
  ) {
    if (!(ratePerS >= 0)) throw new Error(`Pacer: ratePerS must be >= 0, got ${ratePerS}`);
    this.capacity = Math.max(1, (ratePerS * burstMs) / 1000);
    this.tokens = this.capacity;
    this.last = now;
  }

  /**
   * Takes one send's token and says how long to wait before sending (0: now). A token is taken even when
   * it must be waited for (the bucket goes into debt), so concurrent callers are served in the order they came.
   */
  reserve(now = Date.now()): number {
    if (this.ratePerS === 0) return 0;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.ratePerS) / 1000);
    this.last = Math.max(this.last, now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerS);
  }

  /** Gives back a token that was reserved and then not used (the payment was held after its wait). */
  refund(): void {
    if (this.ratePerS > 0) this.tokens = Math.min(this.capacity, this.tokens + 1);
  }
}
