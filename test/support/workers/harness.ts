// Node side of the Workers adapter tests: boots the harness Worker (harness-worker.ts) in Miniflare and
// hands the tests Store objects whose every call runs the real adapter inside workerd.
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { Pool } from "undici";
import type { PaymentJob, Store } from "../../../handlers/contract/types";
import { COMPATIBILITY_DATE } from "../../../adapters/runtimes/workers/local";
import { bundle } from "./build";
import type { Delivery } from "./harness-worker";

/** The harness queue's max_retries: low, so the tests reach the platform's limit quickly. */
export const HARNESS_MAX_RETRIES = 1;

const CHUNK = 100;

export interface Harness {
  mf: Miniflare;
  /** A Store on the Books object `name`, driven through harness worker `via` (a and b are two isolates). */
  store(name: string, via?: "a" | "b"): Store;
  /** What the harness consumer received for `jobId`, in delivery order. */
  deliveries(jobId: string): Promise<Delivery[]>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const scriptPath = await bundle("test/support/workers/harness-worker.ts");
  const shared = {
    modules: true, scriptPath, modulesRoot: dirname(scriptPath), compatibilityDate: COMPATIBILITY_DATE,
    bindings: { QUEUE_MAX_RETRIES: String(HARNESS_MAX_RETRIES) },
    kvNamespaces: { DELIVERIES: "deliveries" },
    queueProducers: { TESTQ: { queueName: "testq" } },
    // Its own loopback socket per Worker: much faster than Miniflare's getWorker() proxy for the thousands
    // of calls the suite makes.
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
  // Durable Object storage on tmpfs when there is one: each DO write waits for its commit, and on a shared
  // disk that wait (an fsync) swings from 1 to 5 ms with other jobs' I/O. The adapter's code is the same.
  const doDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/rinha-do-") : undefined;
  const mf = new Miniflare({
    log: new Log(LogLevel.WARN),
    durableObjectsPersist: doDir,
    workers: [
      {
        ...shared, name: "a",
        durableObjects: { BOOKS: { className: "Books", useSQLite: true } },
        queueConsumers: { testq: { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: HARNESS_MAX_RETRIES } },
      },
      // A second Worker: its own isolate, bound to the same Books class, as a second instance would be.
      { ...shared, name: "b", durableObjects: { BOOKS: { className: "Books", useSQLite: true, scriptName: "a" } } },
    ],
  });
  await mf.ready;
  const pools = {
    a: new Pool((await mf.unsafeGetDirectURL("a")).origin, { connections: 32 }),
    b: new Pool((await mf.unsafeGetDirectURL("b")).origin, { connections: 32 }),
  };
  // A fresh connection per request (reset): reusing an idle keep-alive socket that workerd is closing at that
  // moment fails with ECONNRESET (seen here under load).
  const fetchJson = async (via: "a" | "b", path: string, body?: string): Promise<any> => {
    const res = await pools[via].request({ path, method: body === undefined ? "GET" : "POST", body, reset: true });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`harness ${path} answered ${res.statusCode}: ${text}`);
    return JSON.parse(text);
  };

  // Calls issued in the same tick travel in one request (the suite fires thousands at once; one HTTP
  // round trip each would measure the test's plumbing, not the adapter).
  type Pending = { call: object; resolve: (v: unknown) => void; reject: (e: Error) => void };
  const waiting = { a: [] as Pending[], b: [] as Pending[] };
  const enqueue = (via: "a" | "b", p: Pending) => {
    if (waiting[via].push(p) > 1) return;
    setImmediate(() => {
      const all = waiting[via].splice(0);
      // At most CHUNK calls per request: one request holding thousands of open DO calls is not what we test.
      for (let i = 0; i < all.length; i += CHUNK) send(via, all.slice(i, i + CHUNK));
    });
  };
  const send = (via: "a" | "b", batch: Pending[]) => {
    fetchJson(via, "/calls", JSON.stringify(batch.map((x) => x.call))).then(
      (out: Array<{ result?: unknown; error?: string }>) => batch.forEach((x, i) => {
        const o = out[i]!;
        if (o.error !== undefined) x.reject(new Error(`in workerd: ${o.error}`)); else x.resolve(o.result);
      }),
      (err: Error) => batch.forEach((x) => x.reject(err)),
    );
  };

  const store = (name: string, via: "a" | "b" = "a"): Store => {
    const call = (target: string, method: string, args: unknown[]): Promise<any> =>
      new Promise((resolve, reject) => { enqueue(via, { call: { name, target, method, args }, resolve, reject }); });
    const part = (target: string, methods: string[]) =>
      Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => call(target, m, args)]));
    return {
      name: "workers (in Miniflare)",
      queue: part("queue", ["send"]) as unknown as Store["queue"],
      ledger: part("ledger", ["record", "summary", "purge"]) as unknown as Store["ledger"],
      attempts: part("attempts", ["get", "claim", "release", "purge"]) as unknown as Store["attempts"],
      health: part("health", ["read", "writePoll", "observe", "tryLock", "purge"]) as unknown as Store["health"],
      purge: () => call("store", "purge", []),
      async close() {},
    };
  };

  return {
    mf, store,
    deliveries: (jobId) => fetchJson("a", `/deliveries?job=${encodeURIComponent(jobId)}`),
    async close() {
      await Promise.all([pools.a.close(), pools.b.close()]);
      await mf.dispose();
      if (doDir) rmSync(doDir, { recursive: true, force: true });
    },
  };
}

/** A job whose jobId carries the consumer's plan (see harness-worker.ts). */
export function plannedJob(plan: string): PaymentJob {
  return { jobId: `plan:${plan}:${randomUUID()}`, correlationId: randomUUID(), amountCents: 1990, receivedAt: Date.now() };
}
