// A test-only Worker (bundled by test/support/workers/build.ts, run in Miniflare) that lets the Node test process
// drive the real workers adapter inside workerd:
//   POST /calls [{name, target, method, args}] -> createWorkersStore(Books object `name`)[target][method](...args),
//                                               all concurrently; answers [{result} | {error}] in order
//   GET  /deliveries?job=<jobId>             -> what the queue consumer below received for that job
// Its `queue` export runs batches through the adapter's runBatch, like the app's Worker, with a handler
// that follows a plan written in the jobId ("plan:r0.3,a:<uuid>": per delivery, r = retry (optional delay
// in seconds), a = ack, n = leave unsettled, x = throw) and records every delivery in KV.
import { runBatch, type Envelope } from "../../../adapters/stores/workers/queue";
import { createWorkersStore } from "../../../adapters/stores/workers/store";
import type { DurableObjectNamespace, Queue, CfMessageBatch } from "../../../adapters/stores/workers/bindings";
import type { BooksApi } from "../../../adapters/stores/workers/books";
import type { PaymentJob } from "../../../handlers/contract/types";

export { Books } from "../../../adapters/stores/workers/books";

interface Kv {
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | null>;
  list(o: { prefix: string }): Promise<{ keys: { name: string }[] }>;
}

interface Env {
  BOOKS: DurableObjectNamespace<BooksApi>;
  TESTQ: Queue<Envelope<PaymentJob>>;
  DELIVERIES: Kv;
  QUEUE_MAX_RETRIES: string;
}

export interface Delivery { attempts: number; at: number; id: string; body: PaymentJob; }

type Call = { name: string; target: "store" | "queue" | "ledger" | "attempts" | "health"; method: string; args: unknown[] };

async function call(env: Env, c: Call): Promise<unknown> {
  const store = createWorkersStore({ books: env.BOOKS, queue: env.TESTQ, name: c.name });
  const target = (c.target === "store" ? store : store[c.target]) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const fn = target[c.method];
  if (typeof fn !== "function" || c.method === "constructor") throw new Error(`no method ${c.target}.${c.method}`);
  // JSON has no undefined: the Node side sends null for an omitted argument (summary's open ends).
  return fn.apply(target, c.args.map((a) => (a === null ? undefined : a)));
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method === "POST" && url.pathname === "/calls") {
        // Many calls per request (the Node side coalesces what it issues at once); they run concurrently
        // here, each through the adapter on its own, as concurrent requests in one isolate would.
        const calls = (await request.json()) as Call[];
        const out = await Promise.all(calls.map((c) => call(env, c).then(
          (result) => ({ result: result === undefined ? null : result }),
          (err: Error) => ({ error: err.message }),
        )));
        return Response.json(out);
      }
      if (url.pathname === "/deliveries") {
        const job = url.searchParams.get("job") ?? "";
        const { keys } = await env.DELIVERIES.list({ prefix: `d:${job}:` });
        const out = await Promise.all(keys.map(async (k) => JSON.parse((await env.DELIVERIES.get(k.name))!) as Delivery));
        return Response.json(out.sort((a, b) => a.attempts - b.attempts || a.at - b.at));
      }
      return new Response("no such harness endpoint", { status: 404 });
    } catch (err) {
      return Response.json({ error: (err as Error).message }, { status: 500 });
    }
  },

  async queue(batch: CfMessageBatch<Envelope<PaymentJob>>, env: Env): Promise<void> {
    const opts = { maxRetries: Number(env.QUEUE_MAX_RETRIES), requeue: env.TESTQ as Queue<Envelope<object>> };
    await runBatch<PaymentJob>(batch, opts, async (b) => {
      for (const m of b.messages) {
        const key = `d:${m.body.jobId}:${String(m.attempts).padStart(4, "0")}:${m.id}`;
        await env.DELIVERIES.put(key, JSON.stringify({ attempts: m.attempts, at: Date.now(), id: m.id, body: m.body } satisfies Delivery));
        const plan = m.body.jobId.startsWith("plan:") ? m.body.jobId.split(":")[1]!.split(",") : [];
        const step = plan[m.attempts - 1] ?? "a";
        if (step === "a") m.ack();
        else if (step.startsWith("r")) m.retry(step.length > 1 ? { delaySeconds: Number(step.slice(1)) } : undefined);
        else if (step === "x") throw new Error(`planned failure of ${m.body.jobId}`);
        // "n": neither ack nor retry
      }
    });
  },
};
