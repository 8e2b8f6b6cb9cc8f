// Admission control: when this process is saturated (its event loop runs late), a new payment is refused
// with 503 at once instead of waiting behind the backlog. A client that gives up on a slow 202 would
// otherwise have its payment charged anyway (the contest counts that as negative lag), and shedding early
// is also the cheapest way out of the backlog: no parsing, no Redis write.

export interface Admission {
  /** True while new payments should be refused. */
  shedding(): boolean;
  /** Smoothed event-loop lag (ms). */
  lagMs(): number;
  /** Largest single lag sample (ms) since the previous call: the event loop's worst stall. */
  takeMaxLagMs(): number;
  stop(): void;
}

/** Pure: the next smoothed lag from the previous one and one sample (exponential, weight 1/4). */
export function smoothLag(previous: number, sample: number): number {
  return previous + (sample - previous) / 4;
}

export function startAdmission(opts: { thresholdMs: number; everyMs?: number; now?: () => number }): Admission {
  // One 50 ms timer for both the smoothed lag and the worst stall: each wake-up of an idle API costs CPU that
  // the POSTs share (it replaced a 20 ms timer plus monitorEventLoopDelay's 10 ms one).
  const every = opts.everyMs ?? 50;
  const now = opts.now ?? (() => performance.now());
  let last = now();
  let lag = 0;
  let maxLag = 0;
  const timer = setInterval(() => {
    const t = now();
    const sample = Math.max(0, t - last - every);
    lag = smoothLag(lag, sample);
    if (sample > maxLag) maxLag = sample;
    last = t;
  }, every);
  timer.unref();
  return {
    shedding: () => opts.thresholdMs > 0 && lag > opts.thresholdMs,
    lagMs: () => lag,
    takeMaxLagMs: () => {
      const m = maxLag;
      maxLag = 0;
      return m;
    },
    stop: () => clearInterval(timer),
  };
}
