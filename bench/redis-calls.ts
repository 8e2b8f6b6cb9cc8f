// How long one worker script holds Redis, by the number of entries in the call: RECORD (ledger records),
// COMPACT (retention folding) and COARSEN (old totals merged, in steps of one group), from Redis's own
// SLOWLOG (microseconds of execution), on a throwaway redis-server without CPU limits. Every POST's XADD
// waits behind a running script, which is why the worker sends its batches in calls of REDIS_ENTRIES_PER_CALL
// entries (adapters/stores/redis/chunks.ts).
//
//   npm run bench:redis-calls
import { createClient } from "redis";
import { createRedisStore } from "../adapters/stores/redis";
import { COARSEN } from "../adapters/stores/redis/scripts";
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
// Coarsening a backlog: one payment per 100 ms for 20 minutes, folded, then its tree's lower levels dropped
// (detail 1 s) in calls of REDIS_ENTRIES_PER_CALL / 4 = 8 steps, as the tick does it.
const coarse = await createRedisStore({
  url: redis.url,
  prefix: "coarse:",
  retention: { ledgerRetentionMs: 1000, idempotencyWindowMs: 120_000, ledgerDetailMs: 1000 },
});
const start = Date.now() - 21 * 60_000;
const run: LedgerEntry[] = [];
for (let i = 0; i < 12_000; i++)
  run.push({ correlationId: `k-${i}`, processor: "default", requestedAt: start + i * 100, amountCents: 1990 });
await coarse.ledger.recordMany(run);
const coarsenUs: number[] = [];
for (let more = true; more; ) {
  await c.sendCommand(["SLOWLOG", "RESET"]);
  more = (await coarse.compact()).more;
  const log = (await c.sendCommand(["SLOWLOG", "GET", "20"])) as [number, number, number, string[]][];
  for (const e of log) if (String(e[3][1]) === COARSEN.sha) coarsenUs.push(Number(e[2]));
}
coarsenUs.sort((a, b) => a - b);
console.log(
  `COARSEN     8 steps: ${coarsenUs.length} calls for 20 min of 100 ms buckets; min ${coarsenUs[0]} us, median ` +
    `${coarsenUs[coarsenUs.length >> 1]} us, max ${coarsenUs[coarsenUs.length - 1]} us`,
);
await coarse.close();
await store.close();
await c.close();
await redis.stop();
