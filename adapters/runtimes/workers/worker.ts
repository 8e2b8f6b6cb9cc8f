// The Workers module entry (bundled to dist/worker.js by tools/build/build-worker.mjs): the same three handlers as
// the Node runtime, with Cloudflare bindings turned into the AppEnv they expect (env.ts). The health tick runs
// from the Ticker object's alarm; `scheduled` (the Cron Trigger) only keeps that alarm armed.
import { createHandlers } from "../../../handlers";
import { log } from "../../../handlers/contract/log";
import type { PaymentJob } from "../../../handlers/contract/types";
import type { CfMessageBatch, ExecutionContext, Queue, ScheduledController } from "../../stores/workers/bindings";
import { type Envelope, runBatch } from "../../stores/workers/queue";
import { TICKER_NAME, tickerClass } from "../../stores/workers/ticker";
import { appEnv, type WorkerBindings } from "./env";

export { Books } from "../../stores/workers/books";
export type { WorkerBindings } from "./env";

const handlers = createHandlers();

/** The Durable Object whose alarm runs the health tick every HEALTH_WINDOW_MS, for the whole deployment. */
export const Ticker = tickerClass<WorkerBindings>({
  windowMs: (bindings) => appEnv(bindings, () => {}).config.healthWindowMs,
  tick: (bindings, waitUntil) => handlers.scheduled(appEnv(bindings, waitUntil)),
  onError: (err) => log("warn", "tick_failed", { error: err.message }),
});

const armTicker = (bindings: WorkerBindings) => bindings.TICKER.get(bindings.TICKER.idFromName(TICKER_NAME)).arm();

// Each isolate arms the alarm once, on its first request, so a fresh deployment polls within a window rather
// than at the first Cron Trigger (up to a minute later).
const armed = new WeakSet<object>();
function armOnce(bindings: WorkerBindings, ctx: ExecutionContext) {
  if (armed.has(bindings)) return;
  armed.add(bindings);
  ctx.waitUntil(
    armTicker(bindings).catch((err: Error) => {
      armed.delete(bindings);
      log("warn", "ticker_arm_failed", { error: err.message });
    }),
  );
}

export default {
  fetch(request: Request, bindings: WorkerBindings, ctx: ExecutionContext): Response | Promise<Response> {
    armOnce(bindings, ctx);
    return handlers.fetch(
      request,
      appEnv(bindings, (p) => ctx.waitUntil(p)),
    );
  },

  async scheduled(_controller: ScheduledController, bindings: WorkerBindings): Promise<void> {
    await armTicker(bindings);
  },

  async queue(
    batch: CfMessageBatch<Envelope<PaymentJob>>,
    bindings: WorkerBindings,
    ctx: ExecutionContext,
  ): Promise<void> {
    const env = appEnv(bindings, (p) => ctx.waitUntil(p));
    const opts = { maxRetries: env.config.queueMaxRetries, requeue: bindings.PAYMENTS as Queue<Envelope<object>> };
    return runBatch<PaymentJob>(batch, opts, (b) => handlers.queue(b, env));
  },
};
