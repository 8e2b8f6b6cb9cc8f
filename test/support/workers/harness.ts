// Node side of the workers store tests: boots the harness Worker (harness-worker.ts) in Miniflare, hands the
// tests Store objects whose every call runs the real store inside workerd, and is the other end of the Worker's
// `queue` export: the push Delivery of the conformance suite. Each store gets a Cloudflare Queue of its own
// (testq-<i>), so one case's late or retried messages never reach another case's consumers.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Log, LogLevel, Miniflare } from "miniflare";
import { Pool } from "undici";
import { COMPATIBILITY_DATE } from "../../../adapters/runtimes/workers/local";
import {
  type BatchHandler,
  type Consumer,
  messageBatch,
  type PaymentJob,
  type QueueMessage,
  type RetryOptions,
  type Store,
} from "../../../handlers/contract/types";
import type { Delivery } from "../conformance/suite";
import { bundle } from "./build";
import type { Decisions, WireMessage } from "./harness-worker";

/** The harness queues' max_retries: low, so the suite's repeated retries cross the platform's limit. */
export const HARNESS_MAX_RETRIES = 1;
/** The harness queues' max_batch_size: small, so the suite's batch bounds mean something. */
export const HARNESS_BATCH_SIZE = 2;
/** Queues available: one per store that uses its queue (the suite needs about 15 per run; the test runs it twice). */
const QUEUES = 40;

const CHUNK = 100;

export interface HarnessStore extends Store {
  /** The Books objects this store (and its peers) use. */
  readonly books: string;
  /** Over how many shards. */
  readonly shards: number;
}

export interface Harness {
  mf: Miniflare;
  /**
   * A Store on the Books objects `name` over `shards` shards (default 1), driven through harness worker `via`
   * (a and b are two isolates).
   */
  store(name: string, via?: "a" | "b", shards?: number): HarnessStore;
  /** Hands the batches the runtime pushes to `store`'s queue to `handler`. */
  consume(store: Store, handler: BatchHandler<PaymentJob>): Consumer;
  close(): Promise<void>;
}

/** One consumer of a queue on the Node side: runs the suite's handler on each batch the Worker pushes. */
class PushConsumer implements Consumer {
  private readonly running = new Set<{ done: Promise<void>; answer: () => void }>();
  stopped = false;

  constructor(
    private readonly handler: BatchHandler<PaymentJob>,
    private readonly onStop: () => void,
  ) {}

  /** Runs the handler; resolves with its decisions once it settled, or once stop() gave up waiting for it. */
  deliver(queue: string, wire: WireMessage[]): Promise<Decisions> {
    const settled: Decisions["settled"] = [];
    let answered = false;
    const decide = (d: Decisions["settled"][number]) => {
      // First call wins; once the batch is answered the invocation is over and nothing reaches the platform.
      if (answered || settled.some((x) => x.id === d.id)) return;
      settled.push(d);
    };
    const messages: QueueMessage<PaymentJob>[] = wire.map((w) => ({
      id: w.id,
      timestamp: new Date(w.timestamp),
      attempts: w.attempts,
      body: w.body,
      ack: () => decide({ id: w.id, ack: true }),
      retry: (o?: RetryOptions) => decide({ id: w.id, ack: false, delaySeconds: o?.delaySeconds }),
    }));
    const batch = messageBatch(queue, messages);
    return new Promise<Decisions>((resolve) => {
      const answer = (threw?: string) => {
        if (answered) return;
        answered = true;
        this.running.delete(entry);
        resolve({ settled: [...settled], ...(threw === undefined ? {} : { threw }) });
      };
      const done = Promise.resolve()
        .then(() => this.handler(batch))
        .then(
          () => answer(),
          (err: Error) => answer(err.message),
        );
      const entry = { done, answer: () => answer() };
      this.running.add(entry);
    });
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    await Promise.race([Promise.allSettled([...this.running].map((r) => r.done)), sleep(timeoutMs)]);
    // Like a process that died mid-batch: the invocation ends with what was settled; runBatch retries the rest.
    for (const r of [...this.running]) r.answer();
  }
}

/** The push side: which consumers each queue has, and the batches waiting for one. */
class Dispatcher {
  private readonly queues = new Map<
    string,
    { consumers: PushConsumer[]; turn: number; waiting: Array<() => void>; closed: boolean }
  >();

  private q(name: string) {
    let q = this.queues.get(name);
    if (!q) {
      q = { consumers: [], turn: 0, waiting: [], closed: false };
      this.queues.set(name, q);
    }
    return q;
  }

  register(queue: string, handler: BatchHandler<PaymentJob>): Consumer {
    const q = this.q(queue);
    const c: PushConsumer = new PushConsumer(handler, () => {
      q.consumers = q.consumers.filter((x) => x !== c);
    });
    q.consumers.push(c);
    for (const w of q.waiting.splice(0)) w();
    return c;
  }

  /** A store's test is over: what its queue still delivers is dropped (acked), as a deleted queue would. */
  close(queue: string) {
    const q = this.q(queue);
    q.closed = true;
    for (const w of q.waiting.splice(0)) w();
  }

  async dispatch(queue: string, wire: WireMessage[]): Promise<Decisions> {
    const q = this.q(queue);
    // No consumer yet: the messages wait in the queue (the platform sees a batch that takes its time).
    while (!q.closed && q.consumers.length === 0) await new Promise<void>((r) => q.waiting.push(r));
    if (q.closed) return { settled: wire.map((w) => ({ id: w.id, ack: true as const })) };
    const c = q.consumers[q.turn++ % q.consumers.length]!;
    return c.deliver(queue, wire);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += String(chunk);
  return s;
}

export async function startHarness(): Promise<Harness> {
  const dispatcher = new Dispatcher();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method !== "POST" || url.pathname !== "/batch") {
      res.writeHead(404).end();
      return;
    }
    readBody(req)
      .then((text) => dispatcher.dispatch(url.searchParams.get("queue") ?? "", JSON.parse(text) as WireMessage[]))
      .then(
        (d) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(d)),
        (err: Error) => res.writeHead(500).end(err.message),
      );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const dispatchUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const scriptPath = await bundle("test/support/workers/harness-worker.ts");
  const queueNames = Array.from({ length: QUEUES }, (_, i) => `testq-${i}`);
  const shared = {
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { QUEUE_MAX_RETRIES: String(HARNESS_MAX_RETRIES), DISPATCH_URL: dispatchUrl },
    queueProducers: Object.fromEntries(queueNames.map((n, i) => [`TESTQ_${i}`, { queueName: n }])),
    // Its own loopback socket per Worker: much faster than Miniflare's getWorker() proxy for the thousands
    // of calls the suite makes.
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
  // Durable Object storage on tmpfs when there is one: each DO write waits for its commit, and on a shared
  // disk that wait (an fsync) swings from 1 to 5 ms with other jobs' I/O. The store's code is the same.
  const doDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/rinha-do-") : undefined;
  const consumer = { maxBatchSize: HARNESS_BATCH_SIZE, maxBatchTimeout: 0.05, maxRetries: HARNESS_MAX_RETRIES };
  const mf = new Miniflare({
    log: new Log(LogLevel.WARN),
    durableObjectsPersist: doDir,
    workers: [
      {
        ...shared,
        name: "a",
        durableObjects: { BOOKS: { className: "Books", useSQLite: true } },
        queueConsumers: Object.fromEntries(queueNames.map((n) => [n, consumer])),
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
  const fetchJson = async (via: "a" | "b", path: string, body?: string): Promise<unknown> => {
    const res = await pools[via].request({ path, method: body === undefined ? "GET" : "POST", body, reset: true });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`harness ${path} answered ${res.statusCode}: ${text}`);
    return JSON.parse(text);
  };

  // Calls issued in the same tick travel in one request (the suite fires thousands at once; one HTTP
  // round trip each would measure the test's plumbing, not the store).
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
      (out) =>
        (out as Array<{ result?: unknown; error?: string }>).forEach((o, i) => {
          if (o.error !== undefined) batch[i]!.reject(new Error(`in workerd: ${o.error}`));
          else batch[i]!.resolve(o.result);
        }),
      (err: Error) => {
        for (const x of batch) x.reject(err);
      },
    );
  };

  // Queue index per Books object, taken when a store first uses its queue; open handles per object.
  const queueOf = new Map<string, number>();
  const open = new Map<string, number>();
  const queueIndex = (books: string) => {
    let i = queueOf.get(books);
    if (i === undefined) {
      i = queueOf.size;
      if (i >= QUEUES)
        throw new Error(`the harness has ${QUEUES} queues and every one is taken; raise QUEUES in harness.ts`);
      queueOf.set(books, i);
    }
    return i;
  };

  const store = (name: string, via: "a" | "b" = "a", shards = 1): HarnessStore => {
    open.set(name, (open.get(name) ?? 0) + 1);
    let closed = false;
    const call = (target: string, method: string, args: unknown[], queue?: number): Promise<never> =>
      new Promise((resolve, reject) => {
        enqueue(via, {
          call: { name, shards, queue, target, method, args },
          resolve: resolve as (v: unknown) => void,
          reject,
        });
      });
    const part = (target: string, methods: string[]) =>
      Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => call(target, m, args)]));
    return {
      name: "workers (in Miniflare)",
      books: name,
      shards,
      queue: { send: (body: PaymentJob) => call("queue", "send", [body], queueIndex(name)) },
      ledger: part("ledger", ["record", "summary", "purge"]) as unknown as Store["ledger"],
      attempts: part("attempts", ["get", "claim", "release", "purge"]) as unknown as Store["attempts"],
      health: part("health", ["read", "writePoll", "observe", "tryLock", "purge"]) as unknown as Store["health"],
      purge: () => call("store", "purge", []),
      async close() {
        if (closed) return;
        closed = true;
        const left = (open.get(name) ?? 1) - 1;
        open.set(name, left);
        const i = queueOf.get(name);
        if (left === 0 && i !== undefined) dispatcher.close(`testq-${i}`);
      },
    };
  };

  return {
    mf,
    store,
    consume: (s, handler) => dispatcher.register(`testq-${queueIndex((s as HarnessStore).books)}`, handler),
    async close() {
      await Promise.all([pools.a.close(), pools.b.close()]);
      await mf.dispose();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (doDir) rmSync(doDir, { recursive: true, force: true });
    },
  };
}

/**
 * The conformance suite's push delivery over the harness `h()` (called when a case runs, so the harness may
 * start in beforeAll). ConsumeOptions do not apply: batch size and concurrency are the queue consumer's settings.
 */
export function pushDelivery(h: () => Harness): Delivery {
  return { kind: "push", maxBatchSize: HARNESS_BATCH_SIZE, consume: (s, handler) => h().consume(s, handler) };
}
