// Once a second: what the processors have stored so far, the backend's queue depth (if its
// /metrics exposes one), the runner's own CPU and event-loop delay. Observability only: these
// calls are not part of the official test and are kept out of p99.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { baseName, parseMetrics } from "../lib/metrics-text";
import { send } from "./http";
import type { Processor } from "./processors";

export interface Sample {
  s: number; // seconds since start
  vus: number;
  defaultTotal: number | null; // cumulative payments stored by each processor
  fallbackTotal: number | null;
  queueDepth: number | null;
  cpuPct: number; // runner CPU, % of one core, over the last interval
  loopP99Ms: number; // runner event-loop delay p99 over the last interval
}

/** Sum of every sample whose metric name contains "queue_depth" (Prometheus text), or null. */
export function parseQueueDepth(text: string): number | null {
  let sum: number | null = null;
  for (const [series, v] of parseMetrics(text)) {
    if (baseName(series).includes("queue_depth") && Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

// The histogram records whole sampling intervals: the delay is what exceeds the resolution.
const LOOP_RES_MS = 5;

export class Monitor {
  readonly samples: Sample[] = [];
  private stopper = new AbortController();
  private metricsMisses = 0;
  private loop = monitorEventLoopDelay({ resolution: LOOP_RES_MS });

  constructor(
    private procs: { default: Processor; fallback: Processor },
    private backend: { d: Dispatcher; prefix: string },
    private vus: () => number,
  ) {}

  async run(t0: number, untilMs: number): Promise<void> {
    this.loop.enable();
    let cpu = process.cpuUsage();
    let wall = performance.now();
    const stop = this.stopper.signal;
    for (let next = 1000; !stop.aborted && next <= untilMs; next += 1000) {
      const wait = t0 + next - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal: stop }).catch(() => undefined);
      if (stop.aborted) break;
      const [d, f, q] = await Promise.all([this.procs.default.peek(), this.procs.fallback.peek(), this.queueDepth()]);
      const c = process.cpuUsage(cpu);
      const now = performance.now();
      this.samples.push({
        s: Math.round((now - t0) / 100) / 10,
        vus: this.vus(),
        defaultTotal: d?.totalRequests ?? null,
        fallbackTotal: f?.totalRequests ?? null,
        queueDepth: q,
        cpuPct: ((c.user + c.system) / 1000 / (now - wall)) * 100,
        loopP99Ms: Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RES_MS),
      });
      cpu = process.cpuUsage();
      wall = now;
      this.loop.reset();
    }
    this.loop.disable();
  }

  stop(): void {
    this.stopper.abort();
  }

  /** Gives up on /metrics after 3 misses in a row, so a backend without it costs nothing. */
  private async queueDepth(): Promise<number | null> {
    if (this.metricsMisses >= 3) return null;
    const r = await send(this.backend.d, { method: "GET", path: `${this.backend.prefix}/metrics`, timeoutMs: 900 });
    const v = r.status === 200 ? parseQueueDepth(r.body) : null;
    this.metricsMisses = v === null ? this.metricsMisses + 1 : 0;
    return v;
  }

  /** Mean runner CPU over the samples where at least `minVus` were active. */
  cpuAt(minVus: number): { mean: number; max: number } {
    const xs = this.samples.filter((s) => s.vus >= minVus).map((s) => s.cpuPct);
    return { mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0, max: xs.length ? Math.max(...xs) : 0 };
  }
}
