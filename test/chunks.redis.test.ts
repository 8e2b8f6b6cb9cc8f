// The worker's batched writes leave as small calls, one after another (adapters/stores/redis/chunks.ts): a
// backlog recorded, settled or folded at once never becomes one long script that every POST's XADD waits on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENTRIES_PER_CALL, inSequence } from "../adapters/stores/redis/chunks";
import { connect, type OwnedConn, type RedisConn } from "../adapters/stores/redis/connect";
import { FlushClock } from "../adapters/stores/redis/flush-clock";
import { keysFor } from "../adapters/stores/redis/keys";
import { RedisLedger } from "../adapters/stores/redis/ledger";
import { COMPACT, RECORD } from "../adapters/stores/redis/scripts";
import type { LedgerEntry } from "../handlers/contract/types";
import { startRedis, type TestRedis } from "../tools/lib/redis-server";

describe("inSequence", () => {
  it("calls one slice at a time, in order, each after the previous one settled", async () => {
    const seen: string[] = [];
    let running = 0;
    await inSequence(
      [1, 2, 3, 4, 5, 6, 7],
      3,
      async (slice) => {
        running++;
        expect(running).toBe(1);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        return slice.reduce((a, b) => a + b, 0);
      },
      (slice, sum) => seen.push(`${slice.join("+")}=${sum}`),
    );
    expect(seen).toEqual(["1+2+3=6", "4+5+6=15", "7=7"]);
  });

  it("makes no call for nothing", async () => {
    let calls = 0;
    await inSequence([], 3, async () => calls++);
    expect(calls).toBe(0);
  });
});

describe("the Redis ledger's calls", () => {
  let redis: TestRedis;
  let conn: OwnedConn;
  /** Entries per RECORD / COMPACT call, in the order they reached Redis. */
  const calls: { script: string; entries: number }[] = [];
  let counting: RedisConn;

  beforeAll(async () => {
    redis = await startRedis();
    conn = await connect(redis.url, "test");
    counting = {
      sendCommand(args) {
        const sha = args[0] === "EVALSHA" ? args[1] : undefined;
        const keys = Number(args[2]);
        const rest = args.length - 3 - keys - 3; // after the layout (bucket, fan-out, levels)
        if (sha === RECORD.sha) calls.push({ script: "record", entries: rest / 4 });
        if (sha === COMPACT.sha) calls.push({ script: "compact", entries: 0 });
        return conn.sendCommand(args);
      },
    };
  });
  afterAll(async () => {
    await conn?.close();
    await redis?.stop();
  });

  const entries = (n: number, at: number): LedgerEntry[] =>
    Array.from({ length: n }, (_, i) => ({
      correlationId: `chunk-${at}-${i}`,
      processor: i % 3 === 0 ? "fallback" : "default",
      requestedAt: at + i,
      amountCents: 1990,
    }));

  it("records a burst of 100 as calls of at most ENTRIES_PER_CALL, every entry recorded once", async () => {
    const ledger = new RedisLedger(counting, keysFor(`chunks-${Date.now()}:`), new FlushClock(5));
    calls.length = 0;
    const burst = entries(100, Date.now() - 10_000);
    const added = await Promise.all(burst.map((e) => ledger.record(e)));
    expect(added.every((a) => a === true)).toBe(true);
    const records = calls.filter((c) => c.script === "record");
    expect(records.map((c) => c.entries)).toEqual([32, 32, 32, 4]);
    expect(ENTRIES_PER_CALL).toBe(32);
    const s = await ledger.summary();
    expect(s.default.totalRequests + s.fallback.totalRequests).toBe(100);
    expect(await Promise.all(burst.slice(0, 5).map((e) => ledger.record(e)))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("folds old entries a slice per call, and says there is more until none is left", async () => {
    const ledger = new RedisLedger(counting, keysFor(`chunks-c-${Date.now()}:`), new FlushClock(5), 1000);
    await ledger.recordMany(entries(70, Date.now() - 60_000));
    calls.length = 0;
    const folded: number[] = [];
    for (let more = true; more; ) {
      const c = await ledger.compact();
      folded.push(c.folded);
      more = c.more;
    }
    expect(folded).toEqual([32, 32, 6]);
    expect(calls.filter((c) => c.script === "compact")).toHaveLength(3);
    const s = await ledger.summary();
    expect(s.default.totalRequests + s.fallback.totalRequests).toBe(70); // folded totals stay exact
  });
});
