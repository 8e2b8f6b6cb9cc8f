import { chmodSync, existsSync, unlinkSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { type AppEnv, createHandlers, loadConfig, makeEnv } from "../../../handlers";
import type { Config, EnvLike } from "../../../handlers/contract/config";
import { configureLog, log } from "../../../handlers/contract/log";
import type { Consumer, NodeStore } from "../../../handlers/contract/types";
import { createMemoryStore } from "../../stores/memory";
import { startAdmission } from "./admission";
import { undiciTransport } from "./transport";
import { warmUp } from "./warmup";

export type Role = Config["role"];

export interface Runtime {
  env: AppEnv;
  role: Role;
  /** http://host:port, or unix:<path> when listening on a socket. */
  url: string;
  close(): Promise<void>;
}

/** The store Config.store names (STORE, with REDIS_URL, REDIS_PREFIX, REDIS_CLAIM_IDLE_MS, REDIS_BATCH_MS, the
 * retention). */
export async function storeFromConfig(config: Config): Promise<NodeStore> {
  if (config.store === "memory") return createMemoryStore(config.retention);
  const { createRedisStore } = await import("../../stores/redis");
  return createRedisStore({ ...config.redis, retention: config.retention });
}

/**
 * Runs the handlers in this Node process: the HTTP API (roles all, api), the queue consumer and the health
 * tick (roles all, worker). A worker still serves /healthz and /metrics.
 */
export async function startRuntime(vars: EnvLike, opts: { store?: NodeStore; quiet?: boolean } = {}): Promise<Runtime> {
  const config = loadConfig(vars);
  configureLog(config.logLevel);
  const role = config.role;
  if (config.store === "memory" && role !== "all" && !opts.store) {
    throw new Error(
      `ROLE=${role} with STORE=memory would split the queue from its consumer; use ROLE=all or STORE=redis`,
    );
  }
  const store = opts.store ?? (await storeFromConfig(config));
  const transport = undiciTransport(config.processorUrls);
  const instanceId = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env = makeEnv(store, config, transport, instanceId);
  const handlers = createHandlers();
  const serveApi = role !== "worker";
  const work = role !== "api";

  if ("depth" in store.queue) {
    env.metrics.describe(
      "queue_depth",
      "gauge",
      "payments waiting (ready), delivered and unacked (pending), waiting for a retry (delayed)",
    );
    env.metrics.gauge("queue_depth", async () => {
      const d = await store.queue.depth();
      return { '{state="ready"}': d.ready, '{state="pending"}': d.pending, '{state="delayed"}': d.delayed };
    });
  }

  env.metrics.describe("process_resident_memory_bytes", "gauge", "resident set size of this process");
  env.metrics.gauge("process_resident_memory_bytes", () => ({ "": process.memoryUsage.rss() }));
  env.metrics.describe("nodejs_heap_used_bytes", "gauge", "V8 heap in use");
  env.metrics.gauge("nodejs_heap_used_bytes", () => ({ "": process.memoryUsage().heapUsed }));
  let consumer: Consumer | null = null;
  let ticker: ReturnType<typeof setInterval> | null = null;
  if (work) {
    const { maxInFlight, tickMs } = config;
    consumer = store.queue.consume((batch) => handlers.queue(batch, env), {
      batchSize: 100,
      maxInFlight,
      pollMs: 1000,
    });
    const run = () => {
      handlers.scheduled(env).catch((e) => log("error", "tick_failed", { error: (e as Error).message }));
    };
    run();
    ticker = setInterval(run, tickMs);
  }

  const admission = startAdmission({ thresholdMs: config.shedLagMs });
  env.metrics.describe("admission_lag_ms", "gauge", "smoothed event-loop lag that admission control acts on");
  env.metrics.gauge("admission_lag_ms", () => ({ "": Number(admission.lagMs().toFixed(2)) }));
  env.metrics.describe("nodejs_eventloop_lag_max_ms", "gauge", "worst event-loop stall since the previous scrape");
  env.metrics.gauge("nodejs_eventloop_lag_max_ms", () => ({ "": Number(admission.takeMaxLagMs().toFixed(2)) }));
  const overloaded = () => {
    env.metrics.inc("rejected_total", { reason: "overload" });
    return new Response('{"error":"overloaded; retry later"}', {
      status: 503,
      headers: { "content-type": "application/json", "retry-after": "1" },
    });
  };

  const server = createAdaptorServer({
    fetch: serveApi
      ? (req: Request) =>
          admission.shedding() && req.method === "POST" && req.url.endsWith("/payments")
            ? overloaded()
            : handlers.fetch(req, env)
      : (req: Request) => {
          const path = new URL(req.url).pathname;
          return path === "/healthz" || path === "/metrics"
            ? handlers.fetch(req, env)
            : new Response('{"error":"worker role serves /healthz and /metrics only"}', { status: 404 });
        },
  }) as Server;
  server.keepAliveTimeout = 65_000; // longer than the load balancer's idle timeout, so it never reuses a closing socket

  // Before listening, so the load balancer's health check only sees a warm process.
  const warmRequests = serveApi ? config.warmupRequests : 0;
  const warm = warmRequests > 0 ? await warmUp(handlers, config, warmRequests) : null;

  const url = await listen(server, config.listen);
  if (!opts.quiet) {
    const warmed = warm ? ` warm-up=${warm.requests} requests in ${warm.ms.toFixed(0)} ms` : "";
    console.log(
      `rinha: role=${role} store=${store.name} listen=${url} default=${config.processorUrls.default} ` +
        `fallback=${config.processorUrls.fallback} ` +
        `fees=${config.router.fees.default}/${config.router.fees.fallback}${warmed}`,
    );
  }

  return {
    env,
    role,
    url,
    async close() {
      if (ticker) clearInterval(ticker);
      admission.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections?.();
      });
      await consumer?.stop(10_000);
      await transport.close?.();
      await store.close();
    },
  };
}

function listen(server: Server, at: Config["listen"]): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const socket = at.socketPath;
    if (socket) {
      if (existsSync(socket)) unlinkSync(socket); // left by a killed predecessor
      server.listen(socket, () => {
        chmodSync(socket, 0o666);
        resolve(`unix:${socket}`);
      });
    } else {
      const { port, host } = at;
      server.listen(port, host, () => {
        const a = server.address() as AddressInfo;
        resolve(`http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${a.port}`);
      });
    }
  });
}
