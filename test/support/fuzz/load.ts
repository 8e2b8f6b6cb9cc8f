// An open-loop load generator for POST /payments: requests leave on a fixed schedule whether or not earlier ones
// were answered, so a slow server meets more concurrency, not less load. Latency is measured from each request's
// scheduled departure (no coordinated omission), so time spent waiting in the client's own queue counts too.
import { Pool } from "undici";

export interface LoadOptions {
  /** API instances: requests alternate over them, as a load balancer would. */
  urls: string[];
  rate: number;
  seconds: number;
  /**
   * The client's patience: an answer later than this many ms after the scheduled departure is "late", and
   * whatever is still unanswered this long after the last departure is abandoned (the pools are destroyed).
   * (No AbortSignal per request: in undici 7 that alone made latencies ~100x worse at 500/s on this box.)
   */
  timeoutMs: number;
  /** Connections per instance. */
  connections: number;
  /** Amount of the i-th payment, in cents. */
  cents(i: number): number;
}

export interface Sent {
  id: string;
  cents: number;
  /** HTTP status, or 0 when there was no answer. */
  status: number;
  /** Answered (any status) more than timeoutMs after its scheduled departure: the client would have left. */
  late: boolean;
  /** Why there was no answer: "abandoned" (still waiting at the end), or the error code and message. */
  error?: string;
  /** From the scheduled departure to the end of the answer (or the failure), ms. */
  latencyMs: number;
}

export interface LoadResult {
  sent: Sent[];
  /** From the first departure to the last one, s. */
  sendSeconds: number;
  /** From the first departure to the last answer, s. */
  totalSeconds: number;
  /** Largest delay between a request's scheduled and actual departure (the generator falling behind), ms. */
  maxSendLagMs: number;
}

export async function openLoop(o: LoadOptions): Promise<LoadResult> {
  const pools = o.urls.map(
    (u) =>
      new Pool(u, {
        connections: o.connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
  );
  const n = Math.round(o.rate * o.seconds);
  const sent: Sent[] = new Array(n);
  const pending: Promise<void>[] = [];
  let maxSendLagMs = 0;
  let abandoned = false;
  const t0 = performance.now();

  const fire = (i: number) => {
    const at = t0 + (i * 1000) / o.rate;
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - at);
    const id = crypto.randomUUID(),
      cents = o.cents(i);
    const rec: Sent = { id, cents, status: 0, late: false, latencyMs: 0 };
    sent[i] = rec;
    const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
    pending.push(
      pools[i % pools.length]!.request({
        method: "POST",
        path: "/payments",
        headers: { "content-type": "application/json" },
        body: `{"correlationId":"${id}","amount":${amount}}`,
      })
        .then(
          async (res) => {
            await res.body.dump();
            rec.status = res.statusCode;
          },
          (err: Error & { code?: string }) => {
            rec.error = abandoned ? "abandoned" : `${err.code ?? err.name}: ${err.message}`;
          },
        )
        .finally(() => {
          rec.latencyMs = performance.now() - at;
          rec.late = rec.status > 0 && rec.latencyMs > o.timeoutMs;
        }),
    );
  };

  let next = 0;
  while (next < n) {
    const due = Math.min(n, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1);
    while (next < due) fire(next++);
    await new Promise((r) => setTimeout(r, 1));
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  let timer: NodeJS.Timeout | undefined;
  const patience = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), o.timeoutMs);
  });
  if ((await Promise.race([Promise.all(pending), patience])) === "timeout") {
    abandoned = true;
    await Promise.all(pools.map((p) => p.destroy()));
  }
  clearTimeout(timer);
  await Promise.all(pending);
  const totalSeconds = (performance.now() - t0) / 1000;
  await Promise.all(pools.map((p) => (p.destroyed ? undefined : p.close())));
  return { sent, sendSeconds, totalSeconds, maxSendLagMs };
}

/** The p-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
