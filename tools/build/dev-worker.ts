// `npm run dev:worker [-- --port 9999] [--host 0.0.0.0] [--verbose]`: builds dist/worker.js and serves it
// with Miniflare (workerd) on Cloudflare-native bindings: a Queue, the Books (BOOKS_SHARDS) and Ticker Durable
// Objects, and a stand-in Cron Trigger (the alarm's watchdog) firing `scheduled` every TICK_MS (default 1000).
// Processors: PROCESSOR_DEFAULT_URL and PROCESSOR_FALLBACK_URL (default http://localhost:8001 and :8002); other
// settings as for `npm start`.
// State lives only as long as the process (Miniflare's in-memory storage). Ctrl-C stops workerd and exits.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { LogLevel } from "miniflare";
import { COMPATIBILITY_DATE, QUEUE_CONSUMER, startLocalWorker } from "../../adapters/runtimes/workers/local";
import { type Config, loadConfig, varsUsedBy } from "../../handlers/contract/config";
import { buildWorker } from "./build-worker.mjs";

const USAGE = "usage: npm run dev:worker -- [--port 9999] [--host 0.0.0.0] [--verbose]";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    verbose: { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
// The settings are read as the Node runtime reads them, so a bad one stops us here, with the variable's name,
// rather than the Worker on its first request.
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  console.error(`rinha: cannot start: ${(err as Error).message}`);
  process.exit(1);
}
const port = values.port === undefined ? config.listen.port : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port ${values.port} is not a port number\n${USAGE}`);
  process.exit(2);
}
const host = values.host ?? config.listen.host;

// The Worker's plain-text vars: those the Workers runtime reads, as they are set here.
const vars: Record<string, string> = {};
for (const name of varsUsedBy("workers")) {
  const v = process.env[name];
  if (v !== undefined && v !== "") vars[name] = v;
}

const scriptPath = await buildWorker();
// The Books object's SQLite files on tmpfs when there is one: every DO write waits for its commit, and a
// disk fsync per commit caps forwarding far below the contest's rates. The state is thrown away at exit.
const persistDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/rinha-dev-worker-") : undefined;
const removeState = () => {
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
};
const worker = await startLocalWorker(vars, {
  scriptPath,
  port,
  host,
  persistDir,
  logLevel: values.verbose ? LogLevel.INFO : LogLevel.WARN,
}).catch((err: Error) => {
  console.error(`rinha: cannot start Miniflare on ${host}:${port}: ${err.message}`);
  removeState();
  process.exit(1);
});

const shown = host === "0.0.0.0" ? `http://127.0.0.1:${new URL(worker.url).port}` : worker.url;
console.log(
  `rinha: runtime=workerd (miniflare) store=workers url=${shown} default=${config.processorUrls.default} ` +
    `fallback=${config.processorUrls.fallback} fees=${config.router.fees.default}/${config.router.fees.fallback} ` +
    `cron-watchdog=${worker.tickMs}ms health-alarm=${config.healthWindowMs}ms shards=${config.booksShards} ` +
    `queue=maxBatchSize:${QUEUE_CONSUMER.maxBatchSize},` +
    `maxBatchTimeout:${QUEUE_CONSUMER.maxBatchTimeout}s,maxRetries:${QUEUE_CONSUMER.maxRetries} ` +
    `compat=${COMPATIBILITY_DATE}`,
);

// Miniflare's own exit hook stops workerd on SIGINT/SIGTERM and exits (130/143); all state was in memory, so
// there is nothing to drain. We only say so.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.prependListener(sig, () => {
    console.log(`rinha: ${sig}, stopping workerd`);
    removeState();
  });
}
