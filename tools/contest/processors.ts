// The two payment processors as the load test sees them: admin calls (timed, they count in p99).
import type { Pool } from "undici";
import { JSON_HEADERS, pool, type Reply, send, timed } from "./http";
import type { Latencies } from "./latency";

export interface AdminSummary {
  totalRequests: number;
  totalAmount: number;
  totalFee: number;
  feePerTransaction: number;
}
export type Which = "default" | "fallback";

const ZERO: AdminSummary = { totalRequests: 0, totalAmount: 0, totalFee: 0, feePerTransaction: 0 };

export class Processor {
  readonly pool: Pool;
  constructor(
    readonly which: Which,
    readonly url: string,
    private token: string,
    private lat: Latencies,
  ) {
    this.pool = pool(url, 4);
  }

  private admin(method: "GET" | "POST" | "PUT", path: string, body?: unknown, token = this.token): Promise<Reply> {
    return timed(this.lat, this.pool, {
      method,
      path,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { ...JSON_HEADERS, "x-rinha-token": token },
    });
  }

  /** Like the official setup: set the token using the initial one ("123"). */
  async setToken(initial = "123"): Promise<Reply> {
    return this.admin("PUT", "/admin/configurations/token", { token: this.token }, initial);
  }

  async purge(): Promise<Reply> {
    return this.admin("POST", "/admin/purge-payments");
  }

  async setDelay(ms: number): Promise<Reply> {
    return this.admin("PUT", "/admin/configurations/delay", { delay: ms });
  }

  async setFailure(failure: boolean): Promise<Reply> {
    return this.admin("PUT", "/admin/configurations/failure", { failure });
  }

  /** Admin summary; zeros when it failed (what the official script does), with `ok` telling which. */
  async summary(from?: string, to?: string): Promise<AdminSummary & { ok: boolean }> {
    const q = from && to ? `?from=${from}&to=${to}` : "";
    const r = await this.admin("GET", `/admin/payments-summary${q}`);
    if (r.status !== 200) return { ...ZERO, ok: false };
    return { ...(JSON.parse(r.body) as AdminSummary), ok: true };
  }

  /** Untimed cumulative count for the live monitor: not part of the official test, so not in p99. */
  async peek(): Promise<AdminSummary | null> {
    const r = await send(this.pool, {
      method: "GET",
      path: "/admin/payments-summary",
      headers: { "x-rinha-token": this.token },
      timeoutMs: 900,
    });
    return r.status === 200 ? (JSON.parse(r.body) as AdminSummary) : null;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
