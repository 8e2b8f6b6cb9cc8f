// Timed HTTP over undici dispatchers. Every request the load test makes goes through `timed`,
// so p99 covers backend POSTs, summaries and the processors' admin calls, like k6's
// http_req_duration{expected_response:true} (status 200-399; timeouts and errors excluded).
import { performance } from "node:perf_hooks";
import { type Dispatcher, Pool } from "undici";
import type { Latencies } from "./latency";

export interface Reply {
  status: number;
  ms: number;
  body: string;
  error?: string;
}
export interface Req {
  method: "GET" | "POST" | "PUT";
  path: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export const JSON_HEADERS = { "content-type": "application/json" };

/** Sends one request; status 0 with `error` set when it failed or timed out (client timeout default 1.5 s). */
export async function send(d: Dispatcher, r: Req): Promise<Reply> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), r.timeoutMs ?? 1500);
  const t0 = performance.now();
  try {
    const res = await d.request({
      method: r.method,
      path: r.path,
      headers: r.headers,
      body: r.body,
      signal: ac.signal,
    });
    const body = await res.body.text();
    return { status: res.statusCode, ms: performance.now() - t0, body };
  } catch (e) {
    return {
      status: 0,
      ms: performance.now() - t0,
      body: "",
      error: ac.signal.aborted ? "timeout" : (e as Error).message,
    };
  } finally {
    clearTimeout(timer);
  }
}

export const expected = (status: number): boolean => status >= 200 && status < 400;

/** `send`, and file the latency when the answer was an expected one. */
export async function timed(lat: Latencies, d: Dispatcher, r: Req): Promise<Reply> {
  const reply = await send(d, r);
  if (expected(reply.status)) lat.add(reply.ms);
  return reply;
}

/** A small shared pool for the few non-VU calls to one origin. */
export function pool(origin: string, connections = 4): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

/** Splits a target URL into an origin for undici and a path prefix. */
export function splitUrl(url: string): { origin: string; prefix: string } {
  const u = new URL(url);
  return { origin: u.origin, prefix: u.pathname.replace(/\/+$/, "") };
}
