import { createAdaptorServer } from "@hono/node-server";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createHandlers, loadConfig, makeEnv, type AppEnv } from "../../../handlers";
import { createMemoryStore } from "../../stores/memory";
import type { Consumer, NodeStore } from "../../../handlers/contract/types";
import { startAdmission } from "./admission";
import { undiciTransport } from "./transport";
import { warmUp } from "./warmup";
import { configureLog, log } from "../../../handlers/contract/log";

export type Role = "all" | "api" | "worker";
type EnvLike = Record<string, string | undefined>;

export interface Runtime {
  env: AppEnv;
  role: Role;
  /** http://host:port, or unix:<path> when listening on a socket. */
  url: string;
  close(): Promise<void>;
}

/** STORE=memory|redis (+ REDIS_URL, REDIS_PREFIX). */
export async function storeFromEnv(vars: EnvLike): Promise<NodeStore> {
  const kind = vars.STORE || "memory";
  if (kind === "memory") return createMemoryStore();
  if (kind === "redis") {
    const { createRedisStore } = await import("../../stores/redis");
    const claimIdleMs = vars.REDIS_CLAIM_IDLE_MS ? Number(vars.REDIS_CLAIM_IDLE_MS) : undefined;
    return createRedisStore({ url: vars.REDIS_URL || "redis://127.0.0.1:6379", prefix: vars.REDIS_PREFIX || "rinha:", claimIdleMs });
  }
  throw new Error(`STORE=${kind} is not known; use memory or redis`);
}

/**
 * Runs the handlers in this Node process: the HTTP API (roles all, api), the queue consumer and the health
 * tick (roles all, worker). A worker still serves /healthz and /metrics.
 */
export async function startRuntime(vars: EnvLike, opts: { store?: NodeStore; quiet?: boolean } = {}): Promise<Runtime> {
  configureLog(vars.LOG_LEVEL);
  const role = (vars.ROLE || "all") as Role;
  if (!["all", "api", "worker"].includes(role)) throw new Error(`ROLE=${role} is not known; use all, api or worker`);
  if ((vars.STORE || "memory") === "memory" && role !== "all" && !opts.store) {
    throw new Error(`ROLE=${role} with STORE=memory would split the queue from its consumer; use ROLE=all or STORE=redis`);
  }
  const config = loadConfig(vars);
  const store = opts.store ?? (await storeFromEnv(vars));
  const transport = undiciTransport(config.processorUrls);
  const instanceId = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env = makeEnv(store, config, transport, instanceId);
  const handlers = createHandlers();
  const serveApi = role !== "worker";
  const work = role !== "api";

  if ("depth" in store.queue) {
    env.metrics.describe("queue_depth", "gauge", "payments waiting (ready), delivered and unacked (pending), waiting for a retry (delayed)");
    env.metrics.gauge("queue_depth", async () => {
      const d = await store.queue.depth();
      return { '{state="ready"}': d.ready, '{state="pending"}': d.pending, '{state="delayed"}': d.delayed };
    });
  }

  env.metrics.describe("process_resident_memory_bytes", "gauge", "resident set size of this process");
  env.metrics.gauge("process_resident_memory_bytes", () => ({ "": process.memoryUsage.rss() }));
  env.metrics.describe("nodejs_heap_used_bytes", "gauge", "V8 heap in use");
  env.metrics.gauge("nodejs_heap_used_bytes", () => ({ "": process.memoryUsage().heapUsed }));
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  env.metrics.describe("nodejs_eventloop_delay_p99_ms", "gauge", "event loop delay p99 since the previous scrape");
  env.metrics.gauge("nodejs_eventloop_delay_p99_ms", () => {
    const v = loopDelay.percentile(99) / 1e6;
    loopDelay.reset();
    return { "": Number(v.toFixed(3)) };
  });

  let consumer: Consumer | null = null;
  let ticker: ReturnType<typeof setInterval> | null = null;
  if (work) {
    const maxInFlight = Number(vars.MAX_IN_FLIGHT || 1500);
    consumer = store.queue.consume((batch) => handlers.queue(batch, env), { batchSize: 100, maxInFlight, pollMs: 1000 });
    const tickMs = Number(vars.TICK_MS || 1000);
    const run = () => { handlers.scheduled(env).catch((e) => log("error", "tick_failed", { error: (e as Error).message })); };
    run();
    ticker = setInterval(run, tickMs);
  }

  const admission = startAdmission({ thresholdMs: Number(vars.SHED_LAG_MS ?? 250) });
  env.metrics.describe("admission_lag_ms", "gauge", "smoothed event-loop lag that admission control acts on");
  env.metrics.gauge("admission_lag_ms", () => ({ "": Number(admission.lagMs().toFixed(2)) }));
  const overloaded = () => {
    env.metrics.inc("rejected_total", { reason: "overload" });
    return new Response('{"error":"overloaded; retry later"}', { status: 503, headers: { "content-type": "application/json", "retry-after": "1" } });
  };

  const server = createAdaptorServer({
    fetch: serveApi
      ? (req: Request) => (admission.shedding() && req.method === "POST" && req.url.endsWith("/payments") ? overloaded() : handlers.fetch(req, env))
      : (req: Request) => {
          const path = new URL(req.url).pathname;
          return path === "/healthz" || path === "/metrics" ? handlers.fetch(req, env) : new Response('{"error":"worker role serves /healthz and /metrics only"}', { status: 404 });
        },
  }) as Server;
  server.keepAliveTimeout = 65_000; // longer than the load balancer's idle timeout, so it never reuses a closing socket

  // Before listening, so the load balancer's health check only sees a warm process.
  const warmRequests = serveApi ? Number(vars.WARMUP_REQUESTS || 3000) : 0; // empty = unset, as in loadConfig
  if (!Number.isInteger(warmRequests) || warmRequests < 0) throw new Error(`WARMUP_REQUESTS=${vars.WARMUP_REQUESTS} is not a whole number >= 0; unset it or fix it`);
  const warm = warmRequests > 0 ? await warmUp(handlers, config, warmRequests) : null;

  const url = await listen(server, vars);
  if (!opts.quiet) {
    const warmed = warm ? ` warm-up=${warm.requests} requests in ${warm.ms.toFixed(0)} ms` : "";
    console.log(`rinha: role=${role} store=${store.name} listen=${url} default=${config.processorUrls.default} fallback=${config.processorUrls.fallback} fees=${config.router.fees.default}/${config.router.fees.fallback}${warmed}`);
  }

  return {
    env, role, url,
    async close() {
      if (ticker) clearInterval(ticker);
      loopDelay.disable();
      admission.stop();
      await new Promise<void>((r) => { server.close(() => r()); server.closeIdleConnections?.(); });
      await consumer?.stop(10_000);
      await transport.close?.();
      await store.close();
    },
  };
}

function listen(server: Server, vars: EnvLike): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const socket = vars.SOCKET_PATH;
    if (socket) {
      if (existsSync(socket)) unlinkSync(socket); // left by a killed predecessor
      server.listen(socket, () => { chmodSync(socket, 0o666); resolve(`unix:${socket}`); });
    } else {
      const port = Number(vars.PORT ?? 9999);
      const host = vars.HOST || "0.0.0.0";
      server.listen(port, host, () => {
        const a = server.address() as AddressInfo;
        resolve(`http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${a.port}`);
      });
    }
  });
}
