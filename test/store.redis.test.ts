// The conformance suite against a real Redis (REDIS_URL, or a throwaway redis-server), plus the
// Redis-only crash cases: a consumer that dies without a word, and one that is merely slow.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore, type RedisStore } from "../adapters/stores/redis";
import { connect, type OwnedConn } from "../adapters/stores/redis/connect";
import { GROUP, keysFor } from "../adapters/stores/redis/keys";
import type { Consumer, PaymentJob, QueueMessage } from "../handlers/contract/types";
import { startRedis, type TestRedis } from "../tools/lib/redis-server";
import { job, testStore } from "./support/conformance/suite";

// Short enough that reclaiming a dead consumer's messages fits a test; the heartbeat keeps live ones.
const CLAIM_IDLE_MS = 500;
const RUN = `test:${process.pid}:${randomUUID().slice(0, 8)}:`;

let redis: TestRedis;
let raw: OwnedConn;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  raw = await connect(redis.url, "test");
}, 20_000);

afterAll(async () => {
  // On a shared REDIS_URL, leave nothing behind.
  if (raw && !redis.owned) {
    let cursor = "0";
    do {
      const [next, keys] = await raw.sendCommand<[string, string[]]>([
        "SCAN",
        cursor,
        "MATCH",
        `${RUN}*`,
        "COUNT",
        "1000",
      ]);
      if (keys.length) await raw.sendCommand(["DEL", ...keys]);
      cursor = next;
    } while (cursor !== "0");
  }
  await raw?.close();
  await redis?.stop();
});

const make = (prefix = `${RUN}${n++}:`) => createRedisStore({ url: redis.url, prefix, claimIdleMs: CLAIM_IDLE_MS });

testStore("redis", () => make(), {
  peer: (s) => make((s as RedisStore).prefix),
  retained: (retention) =>
    createRedisStore({ url: redis.url, prefix: `${RUN}${n++}:`, claimIdleMs: CLAIM_IDLE_MS, retention }),
  redeliveryMs: 10_000,
});

describe("redis adapter: crash cases", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("entries left pending by a consumer that died are reclaimed after claimIdleMs, attempts + 1", async () => {
    const prefix = `${RUN}${n++}:`;
    const k = keysFor(prefix);
    const s = await make(prefix);
    const body = job();
    await s.queue.send(body);
    // A "process" that reads the entry and dies: it never acks, never heartbeats, never comes back.
    const read = await raw.sendCommand<unknown[]>([
      "XREADGROUP",
      "GROUP",
      GROUP,
      "ghost",
      "COUNT",
      "1",
      "STREAMS",
      k.stream,
      ">",
    ]);
    expect(read).not.toBeNull();
    const ghostId = String((read as [[string, [[string]]]])[0][1][0][0]);
    const t = Date.now();
    const got: QueueMessage<PaymentJob>[] = [];
    const c = s.queue.consume(
      async (b) => {
        for (const m of b.messages) {
          got.push(m);
          m.ack();
        }
      },
      { batchSize: 5, maxInFlight: 5, pollMs: 50 },
    );
    try {
      while (got.length === 0 && Date.now() - t < 10_000) await sleep(20);
      expect(got).toHaveLength(1);
      expect(got[0]!.body).toEqual(body);
      expect(got[0]!.attempts).toBe(2);
      expect(got[0]!.id).toBe(ghostId); // same message id after the reclaim
      expect(Date.now() - t).toBeGreaterThanOrEqual(CLAIM_IDLE_MS - 50);
      // The ghost's late ack finds nothing; nothing is left anywhere.
      expect(await raw.sendCommand(["XACK", k.stream, GROUP, ghostId])).toBe(0);
      await sleep(100);
      expect(await s.queue.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
    } finally {
      await c.stop(100);
      await s.close();
    }
  }, 20_000);

  it("a live consumer holding a message far longer than claimIdleMs keeps it (heartbeat): delivered once", async () => {
    const prefix = `${RUN}${n++}:`;
    const a = await make(prefix);
    const b = await make(prefix);
    const deliveries: number[] = [];
    const handler = async (batch: { messages: readonly QueueMessage<PaymentJob>[] }) => {
      for (const m of batch.messages) {
        deliveries.push(m.attempts);
        await sleep(CLAIM_IDLE_MS * 4); // a processor answering slowly
        m.ack();
      }
    };
    const consumers: Consumer[] = [
      a.queue.consume(handler, { batchSize: 1, maxInFlight: 1, pollMs: 50 }),
      b.queue.consume(handler, { batchSize: 1, maxInFlight: 1, pollMs: 50 }),
    ];
    try {
      await a.queue.send(job());
      const t = Date.now();
      while (Date.now() - t < CLAIM_IDLE_MS * 6) await sleep(50);
      expect(deliveries).toEqual([1]);
      expect(await a.queue.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
    } finally {
      await Promise.all(consumers.map((c) => c.stop(100)));
      await Promise.all([a.close(), b.close()]);
    }
  }, 20_000);

  it("a retry whose process dies before the delay ends is delivered by another process", async () => {
    const prefix = `${RUN}${n++}:`;
    const a = await make(prefix);
    await a.queue.send(job());
    let retried = false;
    const ca = a.queue.consume(
      async (b) => {
        for (const m of b.messages) {
          m.retry({ delaySeconds: 0.3 });
          retried = true;
        }
      },
      { batchSize: 1, maxInFlight: 1, pollMs: 50 },
    );
    while (!retried) await sleep(10);
    await sleep(50);
    await ca.stop(100);
    await a.close();
    const b = await make(prefix);
    const got: number[] = [];
    const cb = b.queue.consume(
      async (bt) => {
        for (const m of bt.messages) {
          got.push(m.attempts);
          m.ack();
        }
      },
      { batchSize: 1, maxInFlight: 1, pollMs: 50 },
    );
    try {
      const t = Date.now();
      while (got.length === 0 && Date.now() - t < 10_000) await sleep(20);
      expect(got).toEqual([2]);
    } finally {
      await cb.stop(100);
      await b.close();
    }
  }, 20_000);

  it("connects over a unix socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rinha-redis-"));
    const sock = join(dir, "redis.sock");
    const server = await startRedis({ useEnv: false, args: ["--unixsocket", sock, "--unixsocketperm", "700"] });
    try {
      const s = await createRedisStore({ url: sock, prefix: "sock:" });
      try {
        expect(
          await s.ledger.record({
            correlationId: randomUUID(),
            processor: "fallback",
            requestedAt: 1000,
            amountCents: 5,
          }),
        ).toBe(true);
        expect((await s.ledger.summary()).fallback).toEqual({ totalRequests: 1, totalCents: 5 });
      } finally {
        await s.close();
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it("a missing Redis is a clear error, not a hang", async () => {
    await expect(createRedisStore({ url: "redis://127.0.0.1:1", prefix: "x:" })).rejects.toThrow(
      /cannot connect to Redis/,
    );
  }, 20_000);
});
