// Node side: runs a built Worker bundle (dist/worker.js) in Miniflare/workerd with the Cloudflare bindings the
// adapter needs, and stands in for the Cron Trigger (the watchdog of the tick's alarm) by firing `scheduled`
// every TICK_MS. Used by `npm run dev:worker` (tools/build/dev-worker.ts) and the end-to-end tests. Nothing
// here runs inside workerd.
import { dirname } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { loadConfig } from "../../../handlers/contract/config";

/** workerd's compatibility date for the Worker (any date this workerd knows; pinned so behaviour is fixed). */
export const COMPATIBILITY_DATE = "2025-09-01";

/**
 * The payments queue's consumer settings. maxBatchTimeout is low on purpose: the platform's default (1 s)
 * would add up to a second between POST and forwarding, most of the ~1.5 s audit window (docs/contest.md).
 */
export const QUEUE_CONSUMER = { maxBatchSize: 100, maxBatchTimeout: 0.05, maxRetries: 100 } as const;

export interface LocalWorkerOptions {
  /** The bundle to run (tools/build/build-worker.mjs output). */
  scriptPath: string;
  port?: number;
  host?: string;
  /** Interval of the stand-in Cron Trigger (the alarm's watchdog), ms (default: TICK_MS of `vars`). */
  tickMs?: number;
  /**
   * Where the Books object's SQLite files go (default: Miniflare's temp folder, removed on close). A tmpfs
   * folder (/dev/shm) makes each commit far cheaper than a disk fsync; nothing is meant to outlive the run.
   */
  persistDir?: string;
  /** Miniflare's own log level (the Worker's console output is always shown). Default WARN. */
  logLevel?: LogLevel;
}

export interface LocalWorker {
  mf: Miniflare;
  /** http://host:port */
  url: string;
  tickMs: number;
  close(): Promise<void>;
}

/** Starts the Worker; `vars` become its plain-text bindings (PROCESSOR_DEFAULT_URL, FEE_DEFAULT, ...). */
export async function startLocalWorker(vars: Record<string, string>, o: LocalWorkerOptions): Promise<LocalWorker> {
  // Checked here, with the variable's name, rather than by the Worker on its first request.
  const config = loadConfig(vars);
  const tickMs = o.tickMs ?? config.tickMs;
  const mf = new Miniflare({
    name: "rinha",
    modules: true,
    scriptPath: o.scriptPath,
    modulesRoot: dirname(o.scriptPath), // module names are relative to it; the bundle may live outside the cwd
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { ...vars, QUEUE_MAX_RETRIES: String(QUEUE_CONSUMER.maxRetries) },
    durableObjects: {
      BOOKS: { className: "Books", useSQLite: true },
      TICKER: { className: "Ticker", useSQLite: true },
    },
    durableObjectsPersist: o.persistDir,
    queueProducers: { PAYMENTS: { queueName: "payments" } },
    queueConsumers: { payments: { ...QUEUE_CONSUMER } },
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 0,
    log: new Log(o.logLevel ?? LogLevel.WARN),
    cf: false, // a placeholder Request.cf; Miniflare would otherwise download one from workers.cloudflare.com
  });
  let url: URL;
  try {
    url = await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  // Typed here: Miniflare's own type for it comes from @cloudflare/workers-types, which we do not install.
  const worker = (await mf.getWorker()) as unknown as {
    scheduled(o: { scheduledTime?: Date; cron?: string }): Promise<unknown>;
  };

  // The stand-in Cron Trigger: `scheduled` is the watchdog that keeps the Ticker's alarm armed (the alarm runs
  // the health tick every HEALTH_WINDOW_MS). A slow call does not delay the next.
  let closing = false;
  const ticks = new Set<Promise<unknown>>();
  const fire = () => {
    const t: Promise<unknown> = worker
      .scheduled({ scheduledTime: new Date(), cron: "* * * * *" })
      .catch((err: Error) => {
        if (!closing) console.error(`tick: ${err.message}`);
      })
      .finally(() => ticks.delete(t));
    ticks.add(t);
  };
  // The first call arms the alarm and runs the first tick before we report ready, so the router starts from
  // polled health (as the Node runtime's first tick, which it starts before listening, usually has).
  fire();
  await Promise.allSettled([...ticks]);
  const timer = setInterval(fire, tickMs);

  return {
    mf,
    tickMs,
    url: url.origin,
    async close() {
      closing = true;
      clearInterval(timer);
      await Promise.race([Promise.allSettled([...ticks]), new Promise((r) => setTimeout(r, 3000))]);
      await mf.dispose();
    },
  };
}
