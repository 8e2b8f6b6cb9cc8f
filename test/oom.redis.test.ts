// A Redis at maxmemory (noeviction) refuses writes. The books must stay right: no payment goes to a processor
// unless its record can follow (the claim, refused under OOM, comes before any send), a record after a send is
// taken anyway (allow-oom), and compaction still runs (it frees more than it writes).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore, type RedisStore } from "../adapters/stores/redis";
import { connect, type OwnedConn } from "../adapters/stores/redis/connect";
import { loadConfig, makeEnv } from "../handlers";
import type { ProcessorRequest, Transport } from "../handlers/contract/transport";
import type { ProcessorName } from "../handlers/contract/types";
import { forwardOne } from "../handlers/forward";
import { startRedis, type TestRedis } from "../tools/lib/redis-server";
import { message, payment } from "./support/forward/message";

let redis: TestRedis;
let raw: OwnedConn;
let store: RedisStore;
let junk = 0;

beforeAll(async () => {
  redis = await startRedis({ args: ["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"] });
  raw = await connect(redis.url, "test");
}, 20_000);

afterAll(async () => {
  await store?.close();
  await raw?.close();
  await redis?.stop();
});

/** Writes junk until Redis answers OOM even to a write as small as a claim (big values first, then small). */
async function fill() {
  for (const size of [64 * 1024, 1024, 16]) {
    const value = "x".repeat(size);
    for (let i = 0; ; i++) {
      if (i === 100_000) throw new Error("redis never reached maxmemory: is --maxmemory applied?");
      try {
        await raw.sendCommand(["SET", `junk:${junk++}`, value]);
      } catch (err) {
        expect(String(err)).toMatch(/OOM/);
        break;
      }
    }
  }
}

async function drain() {
  await raw.sendCommand(["FLUSHDB"]);
}

/** A processor that stores everything; `beforeAnswer` runs while the request is "at" the processor. */
function processor(beforeAnswer: () => Promise<void> = async () => {}) {
  const posts: { p: ProcessorName; req: ProcessorRequest }[] = [];
  const transport: Transport = {
    async send(p, req) {
      if (req.method === "GET" && req.path.endsWith("service-health"))
        return { status: 200, body: '{"failing":false,"minResponseTime":0}' };
      if (req.method === "GET") return { status: 404, body: "" };
      posts.push({ p, req });
      await beforeAnswer();
      return { status: 200, body: '{"message":"payment processed successfully"}' };
    },
  };
  return { posts, transport };
}

describe("a Redis at maxmemory", () => {
  it("sends nothing to a processor when the claim cannot be written; the payment is retried", async () => {
    store = await createRedisStore({ url: redis.url, prefix: "oom1:" });
    const { posts, transport } = processor();
    const env = makeEnv(store, loadConfig({}), transport, "test");
    await fill();
    try {
      const m = message(payment());
      await forwardOne(m, env);
      expect(posts).toHaveLength(0);
      expect(m.settled).toBe("retry");
      expect(env.metrics.get("forward_errors_total")).toBe(1);
    } finally {
      await drain();
      await store.close();
    }
  });

  it("records a payment the processor took while Redis filled up, so the books follow the processor", async () => {
    store = await createRedisStore({ url: redis.url, prefix: "oom2:" });
    const { posts, transport } = processor(fill);
    const env = makeEnv(store, loadConfig({}), transport, "test");
    try {
      const m = message(payment());
      await forwardOne(m, env);
      expect(posts).toHaveLength(1);
      expect(m.settled).toBe("ack");
      const s = await store.ledger.summary();
      expect(s.default.totalRequests + s.fallback.totalRequests).toBe(1);
      expect(s.default.totalCents + s.fallback.totalCents).toBe(1990);
    } finally {
      await drain();
      await store.close();
    }
  });

  it("still folds old ledger entries (compaction frees memory)", async () => {
    store = await createRedisStore({
      url: redis.url,
      prefix: "oom3:",
      retention: { idempotencyWindowMs: 60_000, ledgerRetentionMs: 1000 },
    });
    try {
      const t = Date.now() - 60_000;
      for (let i = 0; i < 10; i++)
        await store.ledger.record({
          correlationId: randomUUID(),
          processor: "default",
          requestedAt: t + i,
          amountCents: 5,
        });
      await fill();
      expect(await store.compact()).toMatchObject({ folded: 10, more: false });
      expect((await store.ledger.summary()).default).toEqual({ totalRequests: 10, totalCents: 50 });
    } finally {
      await drain();
      await store.close();
    }
  });
});
