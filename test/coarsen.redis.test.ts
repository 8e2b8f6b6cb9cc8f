// The Redis ledger's old totals stay bounded: COARSEN drops the tree's lower levels under old buckets
// (handlers/contract/coarsen.ts), in calls of a bounded number of steps, skipping runs without payments.
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type OwnedConn } from "../adapters/stores/redis/connect";
import { FlushClock } from "../adapters/stores/redis/flush-clock";
import { keysFor } from "../adapters/stores/redis/keys";
import { RedisLedger } from "../adapters/stores/redis/ledger";
import { coarseCuts } from "../handlers/contract/coarsen";
import { LEDGER_BUCKET_MS as B, type LedgerEntry } from "../handlers/contract/types";
import { startRedis, type TestRedis } from "../tools/lib/redis-server";

let redis: TestRedis;
let conn: OwnedConn;
beforeAll(async () => {
  redis = await startRedis();
  conn = await connect(redis.url, "test");
});
afterAll(async () => {
  await conn?.close();
  await redis?.stop();
});

const hlen = async (key: string) => Number(await conn.sendCommand(["HLEN", key]));

it("a payment per 100 ms for 20 minutes, folded and coarsened: under 200 tree fields left, totals exact", async () => {
  const k = keysFor(`coarsen-${Date.now()}:`);
  const ledger = new RedisLedger(conn, k, new FlushClock(5), 1000, 1000);
  // On whole 409.6 s groups, the coarsest these 20 minutes get (cut 4, 6553.6 s groups, starts 1 s x 16^3 =
  // 68 min past the horizon), so the windows below stay exact after coarsening.
  const g = 4096 * B;
  const end = Math.floor((Date.now() - 60_000) / g) * g;
  const start = end - 3 * g;
  const entries: LedgerEntry[] = [];
  for (let t = start; t < end; t += B)
    entries.push({ correlationId: `c-${t}`, processor: "default", requestedAt: t + 7, amountCents: 1 + (t % 997) });
  await ledger.recordMany(entries);
  const windows: [number | undefined, number | undefined][] = [
    [undefined, undefined],
    [start, undefined],
    [undefined, end - 1],
    [start - 3_600_000, end + 3_600_000],
  ];
  const before = await Promise.all(windows.map(([f, t]) => ledger.summary(f, t)));
  const fields = await hlen(k.ledgerCents("default"));
  expect(fields).toBeGreaterThan(entries.length); // one per bucket, plus the upper levels

  let calls = 0;
  for (let more = true; more; calls++) more = (await ledger.compact()).more;
  // 12,288 entries in calls of 32 to fold, then the coarsening's steps, also in calls of 32.
  expect(calls).toBeLessThan(entries.length / 32 + 200);

  const after = await Promise.all(windows.map(([f, t]) => ledger.summary(f, t)));
  expect(after).toEqual(before);
  expect(after[0]!.default.totalRequests).toBe(entries.length);
  // Groups of 16^k buckets below each cut: none of the run is within 1 s + 1.6 s of the horizon, so
  // at most the upper levels' nodes and one partial group per level remain.
  const cuts = coarseCuts(Math.floor((Date.now() - 1000) / B) * B, 1000);
  expect(cuts[0]!).toBeGreaterThan(end / B);
  for (const key of [k.ledgerCents("default"), k.ledgerCounts("default")]) {
    const left = await hlen(key);
    expect(left, key).toBeLessThan(200);
  }
  // A whole 409.6 s group inside the run stays exact.
  const mid = start + g;
  const inGroup = entries.filter((e) => e.requestedAt >= mid && e.requestedAt < mid + g);
  expect((await ledger.summary(mid, mid + g - 1)).default).toEqual({
    totalRequests: inGroup.length,
    totalCents: inGroup.reduce((a, e) => a + e.amountCents, 0),
  });
}, 60_000);
