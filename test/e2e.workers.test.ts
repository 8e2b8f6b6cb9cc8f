// The end-to-end suite against the Worker bundle (the same handlers) running in Miniflare/workerd on
// Cloudflare-native bindings: a Queue, the Books Durable Objects (one, then sharded), the Ticker's alarm and a
// stand-in Cron Trigger.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { startLocalWorker } from "../adapters/runtimes/workers/local";
import { testPipeline } from "./support/e2e/suite";
import { bundle } from "./support/workers/build";

for (const shards of [1, 4]) {
  testPipeline(
    `miniflare + workers adapter, ${shards} Books shard${shards > 1 ? "s" : ""}`,
    async (env) => {
      // Books on tmpfs when there is one, as `npm run dev:worker` does: a disk fsync per DO commit is slow and
      // swings with other jobs' I/O on a shared machine.
      const persistDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/rinha-e2e-worker-") : undefined;
      const vars = { ...env, BOOKS_SHARDS: String(shards) };
      const w = await startLocalWorker(vars, { scriptPath: await bundle(), persistDir });
      return {
        url: w.url,
        async close() {
          await w.close();
          if (persistDir) rmSync(persistDir, { recursive: true, force: true });
        },
      };
    },
    { timeoutMs: 90_000 },
  );
}
