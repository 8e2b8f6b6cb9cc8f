// The AppEnv the handlers run on inside workerd, built from the Worker's bindings: shared by the Worker's
// exports and the Ticker Durable Object (both in worker.ts), which get the same bindings.
import { type AppEnv, loadConfig, makeEnv } from "../../../handlers";
import { configureLog } from "../../../handlers/contract/log";
import { fetchTransport } from "../../../handlers/contract/transport";
import type { HealthStore, PaymentJob } from "../../../handlers/contract/types";
import type { DurableObjectNamespace, Queue } from "../../stores/workers/bindings";
import type { BooksApi } from "../../stores/workers/books";
import type { Envelope } from "../../stores/workers/queue";
import { createWorkersStore } from "../../stores/workers/store";
import type { TickerApi } from "../../stores/workers/ticker";

/** The bindings the Worker is configured with (wrangler.jsonc, or Miniflare options in local.ts). */
export interface WorkerBindings {
  /** Durable Object namespace of class Books (BOOKS_SHARDS objects of it hold the state). */
  BOOKS: DurableObjectNamespace<BooksApi>;
  /** Durable Object namespace of class Ticker: one object, whose alarm runs the health tick. */
  TICKER: DurableObjectNamespace<TickerApi>;
  /** Producer binding of the payments queue (the same queue this Worker consumes). */
  PAYMENTS: Queue<Envelope<PaymentJob>>;
  /**
   * Plain-text vars, read by loadConfig like the Node runtime's environment (handlers/contract/config.ts):
   * PROCESSOR_DEFAULT_URL, FEE_DEFAULT, ..., QUEUE_MAX_RETRIES (the consumer's max_retries), BOOKS_SHARDS.
   */
  [name: string]: unknown;
}

// Per isolate: config, store, transport and metrics (counters are per isolate, like per process on Node);
// every durable fact lives in the Books objects. Keyed by the env object, which the runtime reuses.
const envs = new WeakMap<object, AppEnv>();

/**
 * The AppEnv for one invocation: the isolate's parts plus a HealthView of its own. workerd ties timers and
 * I/O to the invocation that started them: a timer set by an invocation that has ended never fires, and a
 * promise waiting on its I/O never settles (checked in this workerd). A HealthView shared across
 * invocations keeps exactly such things (its next() timer, its in-flight refresh), so one batch ending at
 * the wrong moment could stall every later batch of the isolate. The view re-reads the shared health from
 * Books at the start of each batch, so nothing is lost but its local in-flight bookkeeping. The
 * observations it shares without waiting are handed to `waitUntil`, so the invocation's end does not
 * cancel them.
 */
export function appEnv(bindings: WorkerBindings, waitUntil: (p: Promise<unknown>) => void): AppEnv {
  let env = envs.get(bindings);
  if (!env) {
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(bindings)) if (typeof v === "string") vars[k] = v;
    const config = loadConfig(vars);
    configureLog(config.logLevel);
    const store = createWorkersStore({ books: bindings.BOOKS, queue: bindings.PAYMENTS, shards: config.booksShards });
    env = makeEnv(store, config, fetchTransport(config.processorUrls), `worker-${crypto.randomUUID().slice(0, 8)}`);
    envs.set(bindings, env);
  }
  const shared = env.store.health;
  const health: HealthStore = {
    ...shared,
    observe(p, o) {
      const done = shared.observe(p, o);
      waitUntil(done.catch(() => {}));
      return done;
    },
  };
  // The view as makeEnv builds it (so its settings stay the handlers' choice), over the wrapped health store.
  const { view } = makeEnv({ ...env.store, health }, env.config, env.transport, env.instanceId);
  return { ...env, view };
}
