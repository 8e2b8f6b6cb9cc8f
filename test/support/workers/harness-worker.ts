// A test-only Worker (bundled by test/support/workers/build.ts, run in Miniflare) that lets the Node test
// process drive the real workers store inside workerd:
//   POST /calls [{name, shards, queue, target, method, args}] -> createWorkersStore(Books `name` over `shards`,
//       queue binding TESTQ_<queue>)[target][method](...args), all concurrently; answers [{result} | {error}].
// Its `queue` export is the runtime pushing a batch, as for the app's Worker: it runs the batch through the
// store's runBatch and hands the messages to the Node side (POST DISPATCH_URL/batch), where the suite's
// handler decides; the decisions (ack, retry with a delay, or nothing) come back and are applied here, and a
// handler that threw is rethrown, so runBatch does exactly what it does in production.

import type { CfMessageBatch, DurableObjectNamespace, Queue } from "../../../adapters/stores/workers/bindings";
import type { BooksApi } from "../../../adapters/stores/workers/books";
import { type Envelope, runBatch } from "../../../adapters/stores/workers/queue";
import { createWorkersStore } from "../../../adapters/stores/workers/store";
import { loadConfig } from "../../../handlers/contract/config";
import type { PaymentJob } from "../../../handlers/contract/types";

export { Books } from "../../../adapters/stores/workers/books";

interface Env {
  BOOKS: DurableObjectNamespace<BooksApi>;
  /** Where the Node side takes batches. */
  DISPATCH_URL: string;
  QUEUE_MAX_RETRIES: string;
  /** TESTQ_0 ... TESTQ_<n-1>: one queue per store under test (see harness.ts). */
  [binding: string]: unknown;
}

/** What travels to the Node side for each message of a batch. */
export interface WireMessage {
  id: string;
  timestamp: string;
  attempts: number;
  body: PaymentJob;
}

/** What the Node side answers: the handler's decisions, and whether it threw. */
export interface Decisions {
  settled: Array<{ id: string; ack: true } | { id: string; ack: false; delaySeconds?: number }>;
  threw?: string;
}

type Call = {
  name: string;
  shards?: number;
  queue?: number;
  target: "store" | "queue" | "ledger" | "attempts" | "health";
  method: string;
  args: unknown[];
};

/** The queue binding of queue `i` (names: testq-<i>, bindings: TESTQ_<i>). */
const binding = (env: Env, i: number) => env[`TESTQ_${i}`] as Queue<Envelope<PaymentJob>>;

async function call(env: Env, c: Call): Promise<unknown> {
  const store = createWorkersStore({
    books: env.BOOKS,
    queue: binding(env, c.queue ?? 0),
    name: c.name,
    shards: c.shards,
  });
  const target = (c.target === "store" ? store : store[c.target]) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >;
  const fn = target[c.method];
  if (typeof fn !== "function" || c.method === "constructor") throw new Error(`no method ${c.target}.${c.method}`);
  // JSON has no undefined: the Node side sends null for an omitted argument (summary's open ends).
  return fn.apply(
    target,
    c.args.map((a) => (a === null ? undefined : a)),
  );
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method === "POST" && url.pathname === "/calls") {
        // Many calls per request (the Node side coalesces what it issues at once); they run concurrently
        // here, each through the store on its own, as concurrent requests in one isolate would.
        const calls = (await request.json()) as Call[];
        const out = await Promise.all(
          calls.map((c) =>
            call(env, c).then(
              (result) => ({ result: result === undefined ? null : result }),
              (err: Error) => ({ error: err.message }),
            ),
          ),
        );
        return Response.json(out);
      }
      return new Response("no such harness endpoint", { status: 404 });
    } catch (err) {
      return Response.json({ error: (err as Error).message }, { status: 500 });
    }
  },

  async queue(batch: CfMessageBatch<Envelope<PaymentJob>>, env: Env): Promise<void> {
    const index = Number(batch.queue.slice("testq-".length));
    const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"));
    const opts = {
      maxRetries: loadConfig(vars).queueMaxRetries,
      requeue: binding(env, index) as Queue<Envelope<object>>,
    };
    await runBatch<PaymentJob>(batch, opts, async (b) => {
      const messages: WireMessage[] = b.messages.map((m) => ({
        id: m.id,
        timestamp: m.timestamp.toISOString(),
        attempts: m.attempts,
        body: m.body,
      }));
      const res = await fetch(`${env.DISPATCH_URL}/batch?queue=${encodeURIComponent(batch.queue)}`, {
        method: "POST",
        body: JSON.stringify(messages),
      });
      if (res.status !== 200)
        throw new Error(`the test process answered the batch with ${res.status}: ${await res.text()}`);
      const d = (await res.json()) as Decisions;
      const byId = new Map(b.messages.map((m) => [m.id, m]));
      for (const s of d.settled) {
        const m = byId.get(s.id);
        if (!m) continue;
        if (s.ack) m.ack();
        else m.retry(s.delaySeconds === undefined ? undefined : { delaySeconds: s.delaySeconds });
      }
      if (d.threw !== undefined) throw new Error(d.threw);
    });
  },
};
