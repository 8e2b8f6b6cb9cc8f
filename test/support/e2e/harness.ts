import { request } from "undici";
import { type Emulator, startEmulator } from "../../../tools/emulator/server";
import { FAST_ENV } from "../../../tools/lib/fast-env";

export { FAST_ENV };

export interface Backend {
  url: string;
  /** Several instances behind one name: requests alternate over them, as a load balancer would. */
  urls?: string[];
  /** Prometheus text of every process of the backend (default: `${url}/metrics`). */
  metrics?(): Promise<string>;
  close(): Promise<void>;
}

/** Starts a backend (any runtime) wired to the given processor URLs; `env` are extra environment variables. */
export type StartBackend = (env: Record<string, string>) => Promise<Backend>;

export interface Pipeline {
  backend: Backend;
  def: Emulator;
  fb: Emulator;
  post(body: unknown, headers?: Record<string, string>): Promise<number>;
  summary(from?: string, to?: string): Promise<BackendSummary>;
  /** Waits until the backend counts `n` payments in total (both processors). */
  waitForCount(n: number, timeoutMs?: number): Promise<BackendSummary>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export interface BackendSummary {
  default: { totalRequests: number; totalAmount: number };
  fallback: { totalRequests: number; totalAmount: number };
}

export async function startPipeline(start: StartBackend, env: Record<string, string> = {}): Promise<Pipeline> {
  const def = await startEmulator({ fee: 0.05, healthWindowMs: 300 });
  const fb = await startEmulator({ fee: 0.15, healthWindowMs: 300 });
  const backend = await start({ ...FAST_ENV, PROCESSOR_DEFAULT_URL: def.url, PROCESSOR_FALLBACK_URL: fb.url, ...env });

  const urls = backend.urls ?? [backend.url];
  let turn = 0;
  const next = () => urls[turn++ % urls.length]!;
  const post = async (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) => {
    const res = await request(`${next()}/payments`, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    await res.body.dump();
    return res.statusCode;
  };
  const summary = async (from?: string, to?: string) => {
    const q = new URLSearchParams();
    if (from) q.set("from", from);
    if (to) q.set("to", to);
    const res = await request(`${next()}/payments-summary?${q}`);
    if (res.statusCode !== 200) throw new Error(`summary answered ${res.statusCode}: ${await res.body.text()}`);
    return (await res.body.json()) as BackendSummary;
  };
  const waitForCount = async (n: number, timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    let s = await summary();
    while (s.default.totalRequests + s.fallback.totalRequests < n) {
      if (Date.now() > end)
        throw new Error(`backend counts ${s.default.totalRequests}+${s.fallback.totalRequests}, expected ${n}`);
      await sleep(50);
      s = await summary();
    }
    return s;
  };
  const metrics = () => backend.metrics?.() ?? fetch(`${backend.url}/metrics`).then((r) => r.text());
  return {
    backend,
    def,
    fb,
    post,
    summary,
    waitForCount,
    metrics,
    async close() {
      await backend.close();
      await Promise.all([def.close(), fb.close()]);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const payment = (amount = 19.9) => ({ correlationId: crypto.randomUUID(), amount });
