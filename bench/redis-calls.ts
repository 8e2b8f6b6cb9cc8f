// How long one worker script holds Redis, by the number of entries in the call: RECORD (ledger records) and
// COMPACT (retention folding), from Redis's own SLOWLOG (microseconds of execution), on a throwaway
// redis-server without CPU limits. Every POST's XADD waits behind a running script, which is why the worker
// sends its batches in calls of REDIS_ENTRIES_PER_CALL entries (adapters/stores/redis/chunks.ts).
//
//   npm run bench:redis-calls
import { createClient } from "redis";
import { createRedisStore } from "../adapters/stores/redis";
import type { LedgerEntry } from "../handlers/contract/types";
import { startRedis } from "../tools/lib/redis-server";

const redis = await startRedis({ useEnv: false });
const c = createClient({ url: redis.url, RESP: 2 });
await c.connect();
await c.sendCommand(["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
await c.sendCommand(["CONFIG", "SET", "slowlog-max-len", "1000"]);
// A large entriesPerCall so that recordMany / compact(limit) send exactly the size asked for.
const store = await createRedisStore({
  url: redis.url,
  prefix: "calls:",
  entriesPerCall: 100_000,
  retention: { ledgerRetentionMs: 1000, idempotencyWindowMs: 120_000 },
});

/** Microseconds of the last EVALSHA in the slowlog. */
async function lastScriptUs(): Promise<number> {
  const log = (await c.sendCommand(["SLOWLOG", "GET", "20"])) as [number, number, number, string[]][];
  const e = log.find((x) => String(x[3][0]).toUpperCase().startsWith("EVAL"));
  return Number(e?.[2] ?? Number.NaN);
}

let id = 0;
const base = Date.now() - 60_000;
const entries = (n: number): LedgerEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    correlationId: `c-${id++}`,
    processor: i % 5 === 0 ? "fallback" : "default",
    requestedAt: base + ((id * 7) % 60_000),
    amountCents: 1990,
  }));

for (const n of [1, 10, 32, 100, 200, 500, 1000]) {
  const us: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    await c.sendCommand(["SLOWLOG", "RESET"]);
    await store.ledger.recordMany(entries(n));
    us.push(await lastScriptUs());
  }
  us.sort((a, b) => a - b);
  console.log(`RECORD  ${String(n).padStart(5)} entries: median ${us[2]} us (${(us[2]! / n).toFixed(1)} us/entry)`);
}
const ledger = store.ledger as unknown as { compact(limit: number): Promise<{ folded: number }> };
for (const limit of [32, 100, 500, 2000]) {
  await c.sendCommand(["SLOWLOG", "RESET"]);
  const r = await ledger.compact(limit);
  console.log(`COMPACT ${String(limit).padStart(5)} entries: ${await lastScriptUs()} us (folded ${r.folded})`);
}
await store.close();
await c.close();
await redis.stop();
