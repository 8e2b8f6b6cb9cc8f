import { afterAll, beforeAll } from "vitest";
import { startRuntime } from "../adapters/runtimes/node/runtime";
import { startRedis, type TestRedis } from "../tools/lib/redis-server";
import { testPipeline } from "./support/e2e/suite";

let redis: TestRedis;
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const base = (env: Record<string, string>) => ({
  ...env,
  STORE: "redis",
  REDIS_URL: redis.url,
  REDIS_PREFIX: `e2e-${process.pid}-${n++}:`,
  HOST: "127.0.0.1",
});

// One process doing everything, on the production adapter.
testPipeline("node + redis, one process", async (env) => {
  const rt = await startRuntime({ ...base(env), PORT: "0" }, { quiet: true });
  return { url: rt.url, close: () => rt.close() };
});

// The compose topology in miniature: two API-only instances share nothing but Redis with one worker.
testPipeline("node api + api + worker + redis", async (env) => {
  const vars = base(env);
  const worker = await startRuntime({ ...vars, ROLE: "worker", PORT: "0" }, { quiet: true });
  const api1 = await startRuntime({ ...vars, ROLE: "api", PORT: "0" }, { quiet: true });
  const api2 = await startRuntime({ ...vars, ROLE: "api", PORT: "0" }, { quiet: true });
  return {
    url: api1.url,
    urls: [api1.url, api2.url],
    metrics: async () =>
      (await Promise.all([api1, api2, worker].map((r) => fetch(`${r.url}/metrics`).then((x) => x.text())))).join(""),
    close: async () => {
      await Promise.all([api1.close(), api2.close()]);
      await worker.close();
    },
  };
});
