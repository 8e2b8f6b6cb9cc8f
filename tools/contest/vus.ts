// The payment virtual users: k6 ramping-vus from 1 to max, each looping POST /payments (fresh
// uuid, fixed amount, 1.5 s client timeout) then sleep 1 s, each on its own keep-alive connection
// (one undici Client = one socket, pipelining 1). Kept cheap: no per-VU timers besides the sleep.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "undici";
import { expected, JSON_HEADERS, send } from "./http";
import type { Latencies } from "./latency";
import { vuStartMs } from "./scenarios";

export interface VuOptions {
  origin: string;
  prefix: string;
  amount: number;
  durationMs: number;
  maxVus: number;
  /** all VUs from the start (the floor measurement) instead of the linear ramp */
  allAtOnce?: boolean;
  /** latencies of requests sent before this are not recorded (the floor's connection warm-up) */
  warmupMs?: number;
}

export class Vus {
  accepted = 0;
  failed = 0;
  timeouts = 0;
  active = 0;
  readonly statuses = new Map<number | string, number>();
  readonly acceptedPerSecond: number[] = [];
  readonly failedPerSecond: number[] = [];
  private t0 = 0;
  private running: Promise<void>[] = [];

  constructor(
    private o: VuOptions,
    private lat: Latencies,
  ) {}

  /** Starts the ramp; resolves when every VU has finished its last iteration. */
  async run(t0 = performance.now()): Promise<void> {
    this.t0 = t0;
    const { maxVus, durationMs } = this.o;
    let next = 0;
    while (next < maxVus) {
      const elapsed = performance.now() - t0;
      if (elapsed >= durationMs) break;
      while (
        next < maxVus &&
        (this.o.allAtOnce ? (next * 1000) / maxVus : vuStartMs(next, maxVus, durationMs)) <= elapsed
      ) {
        this.running.push(this.vu());
        next++;
      }
      await sleep(20);
    }
    await Promise.all(this.running);
  }

  private async vu(): Promise<void> {
    const client = new Client(this.o.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
    const path = `${this.o.prefix}/payments`;
    const end = this.t0 + this.o.durationMs;
    this.active++;
    try {
      while (performance.now() < end) {
        const sec = Math.floor((performance.now() - this.t0) / 1000);
        const body = `{"correlationId":"${randomUUID()}","amount":${this.o.amount}}`;
        const r = await send(client, { method: "POST", path, headers: JSON_HEADERS, body });
        if (r.status >= 200 && r.status < 300) {
          this.accepted++;
          this.acceptedPerSecond[sec] = (this.acceptedPerSecond[sec] ?? 0) + 1;
        } else {
          this.failed++;
          this.failedPerSecond[sec] = (this.failedPerSecond[sec] ?? 0) + 1;
          if (r.error === "timeout") this.timeouts++;
        }
        if (expected(r.status) && sec * 1000 >= (this.o.warmupMs ?? 0)) this.lat.add(r.ms, sec);
        const key = r.status || r.error || "error";
        this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
        // Even the last iteration sleeps: k6's gracefulStop lets it finish before the teardown
        // runs, so the backend gets that last second to drain, as in the official run.
        await sleep(1000);
      }
    } finally {
      this.active--;
      await client.close().catch(() => undefined);
    }
  }
}
