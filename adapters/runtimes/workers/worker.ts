// The Workers module entry (bundled to dist/worker.js by tools/build/build-worker.mjs): the same three handlers as
// the Node runtime, with Cloudflare bindings turned into the AppEnv they expect.
import { type AppEnv, createHandlers, loadConfig, makeEnv } from "../../../handlers";
import { configureLog } from "../../../handlers/contract/log";
import { fetchTransport } from "../../../handlers/contract/transport";
import type { HealthStore, PaymentJob } from "../../../handlers/contract/types";
import type {
  CfMessageBatch,
  DurableObjectNamespace,
  ExecutionContext,
  Queue,
  ScheduledController,
} from "../../stores/workers/bindings";
import type { BooksApi } from "../../stores/workers/books";
import { type Envelope, runBatch } from "../../stores/workers/queue";
import { createWorkersStore } from "../../stores/workers/store";

export { Books } from "../../stores/workers/books";

/** The bindings the Worker is configured with (wrangler.toml or Miniflare options). */
export interface WorkerBindings {
  /** Durable Object namespace of class Books. */
  BOOKS: DurableObjectNamespace<BooksApi>;
  /** Producer binding of the payments queue (the same queue this Worker consumes). */
  PAYMENTS: Queue<Envelope<PaymentJob>>;
  /**
   * Plain-text vars, read by loadConfig like the Node runtime's environment (handlers/contract/config.ts):
   * PROCESSOR_DEFAULT_URL, FEE_DEFAULT, ..., and QUEUE_MAX_RETRIES, the consumer's max_retries.
   */
  [name: string]: unknown;
}

const handlers = createHandlers();

// Per isolate: config, store, transport and metrics (counters are per isolate, like per process on Node);
// every durable fact lives in the Books object. Keyed by the env object, which the runtime reuses.
const envs = new WeakMap<object, AppEnv>();

/**
 * The AppEnv for one invocation: the isolate's parts plus a HealthView of its own. workerd ties timers and
 * I/O to the invocation that started them: a timer set by an invocation that has ended never fires, and a
 * promise waiting on its I/O never settles (checked in this workerd). A HealthView shared across
 * invocations keeps exactly such things (its next() timer, its in-flight refresh), so one batch ending at
 * the wrong moment could stall every later batch of the isolate. The view re-reads the shared health from
 * the Books object at the start of each batch, so nothing is lost but its local in-flight bookkeeping.
 * The observations it shares without waiting are handed to ctx.waitUntil, so the invocation's end does not
 * cancel them.
 */
function appEnv(bindings: WorkerBindings, ctx: ExecutionContext): AppEnv {
  let env = envs.get(bindings);
  if (!env) {
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(bindings)) if (typeof v === "string") vars[k] = v;
    const config = loadConfig(vars);
    configureLog(config.logLevel);
    const store = createWorkersStore({ books: bindings.BOOKS, queue: bindings.PAYMENTS, retention: config.retention });
    env = makeEnv(store, config, fetchTransport(config.processorUrls), `worker-${crypto.randomUUID().slice(0, 8)}`);
    envs.set(bindings, env);
  }
  const shared = env.store.health;
  const health: HealthStore = {
    ...shared,
    observe(p, o) {
      const done = shared.observe(p, o);
      ctx.waitUntil(done.catch(() => {}));
      return done;
    },
  };
  // The view as makeEnv builds it (so its settings stay the handlers' choice), over the wrapped health store.
  const { view } = makeEnv({ ...env.store, health }, env.config, env.transport, env.instanceId);
  return { ...env, view };
}

export default {
  fetch(request: Request, bindings: WorkerBindings, ctx: ExecutionContext): Response | Promise<Response> {
    return handlers.fetch(request, appEnv(bindings, ctx));
  },

  async scheduled(_controller: ScheduledController, bindings: WorkerBindings, ctx: ExecutionContext): Promise<void> {
    await handlers.scheduled(appEnv(bindings, ctx));
  },

  async queue(
    batch: CfMessageBatch<Envelope<PaymentJob>>,
    bindings: WorkerBindings,
    ctx: ExecutionContext,
  ): Promise<void> {
    const env = appEnv(bindings, ctx);
    const opts = { maxRetries: env.config.queueMaxRetries, requeue: bindings.PAYMENTS as Queue<Envelope<object>> };
    return runBatch<PaymentJob>(batch, opts, (b) => handlers.queue(b, env));
  },
};
