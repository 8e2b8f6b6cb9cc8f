// Benchmark: GET /payments-summary's store call over a big ledger. Fills a throwaway Redis with N payments
// (same scripts and layout as production, many per round trip), then times summary calls one at a time.
// Run: npx tsx bench/summary.ts [--payments 1000000] [--span-s 300] [--calls 2000]
// Uses its own redis-server (never a shared one) unless BENCH_REDIS_URL is set.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { createRedisStore } from "../adapters/stores/redis";
import { connect } from "../adapters/stores/redis/connect";
import type { LedgerEntry, ProcessorName } from "../handlers/contract/types";
import { startRedis } from "../tools/lib/redis-server";

const { values } = parseArgs({
  options: {
    payments: { type: "string", default: "1000000" },
    "span-s": { type: "string", default: "300" },
    calls: { type: "string", default: "2000" },
  },
});
const PAYMENTS = Number(values.payments);
const SPAN_MS = Number(values["span-s"]) * 1000;
const CALLS = Number(values.calls);
const START = Date.UTC(2025, 6, 15, 12, 0, 0, 0);
const END = START + SPAN_MS - 1;

const server = process.env.BENCH_REDIS_URL
  ? { url: process.env.BENCH_REDIS_URL, owned: false, stop: async () => {} }
  : await startRedis({ useEnv: false });
const store = await createRedisStore({ url: server.url, prefix: `bench:${randomUUID().slice(0, 8)}:` });

try {
  // Fill: amounts vary so a wrong sum shows; ~70% default like a good run.
  const want = { default: [0, 0], fallback: [0, 0] } as Record<ProcessorName, [number, number]>;
  const BATCH = 2000,
    IN_FLIGHT = 8;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < PAYMENTS) {
      const n = Math.min(BATCH, PAYMENTS - next);
      const first = next;
      next += n;
      const batch: LedgerEntry[] = [];
      for (let i = first; i < first + n; i++) {
        const processor: ProcessorName = i % 10 < 7 ? "default" : "fallback";
        const amountCents = 1990 + (i % 7) * 3;
        // Spread evenly over the span, in arrival order, as a load test would produce them.
        const requestedAt = START + Math.floor((i * SPAN_MS) / PAYMENTS);
        want[processor][0]++;
        want[processor][1] += amountCents;
        batch.push({ correlationId: randomUUID(), processor, requestedAt, amountCents });
      }
      const ok = await store.ledger.recordMany(batch);
      if (ok.some((x) => !x)) throw new Error("fill: a fresh correlationId was reported as a repeat");
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const fillS = (performance.now() - t0) / 1000;
  const raw = await connect(server.url, "bench");
  const mem = (await raw.sendCommand<string>(["INFO", "memory"])).match(/used_memory_human:(\S+)/)?.[1];
  await raw.close();
  console.log(
    `filled ${PAYMENTS.toLocaleString("en")} payments over ${SPAN_MS / 1000} s of requestedAt ` +
      `in ${fillS.toFixed(1)} s ` +
      `(${Math.round(PAYMENTS / fillS).toLocaleString("en")}/s); redis used_memory ${mem}`,
  );

  // Correctness check before timing: the whole-range total must be exact.
  const all = await store.ledger.summary();
  const exact =
    all.default.totalRequests === want.default[0] &&
    all.default.totalCents === want.default[1] &&
    all.fallback.totalRequests === want.fallback[0] &&
    all.fallback.totalCents === want.fallback[1];
  if (!exact) throw new Error(`summary() = ${JSON.stringify(all)} but the fill wrote ${JSON.stringify(want)}`);

  const rnd = (a: number, b: number) => a + Math.floor(Math.random() * (b - a));
  const cases: Array<[string, () => [number | undefined, number | undefined]]> = [
    [
      "auditor window [now-15s, now-2s]",
      () => {
        const now = rnd(START + 15_000, END);
        return [now - 15_000, now - 2_000];
      },
    ],
    ["whole range [start, end]", () => [START, END]],
    [
      "random window (any length)",
      () => {
        const a = rnd(START, END),
          b = rnd(START, END);
        return [Math.min(a, b), Math.max(a, b)];
      },
    ],
    ["open: from only", () => [rnd(START, END), undefined]],
    ["open: to only", () => [undefined, rnd(START, END)]],
    ["open: no bounds", () => [undefined, undefined]],
  ];
  console.log(`\n${CALLS} sequential calls per case (ms per call, round trip included; redis = mean ms inside Redis):`);
  console.log(
    `${"case".padEnd(36)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"mean".padStart(7)} ${"max".padStart(7)} ` +
      `${"redis".padStart(7)}`,
  );
  const stats = await connect(server.url, "bench");
  const redisUsPerCall = async () =>
    Number(
      (await stats.sendCommand<string>(["INFO", "commandstats"])).match(
        /cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/,
      )?.[1],
    );
  for (const [name, window] of cases) {
    for (let i = 0; i < 50; i++) await store.ledger.summary(...window()); // warm-up
    await stats.sendCommand(["CONFIG", "RESETSTAT"]);
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const [from, to] = window();
      const t = performance.now();
      await store.ledger.summary(from, to);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const server_ms = (await redisUsPerCall()) / 1000;
    console.log(
      `${name.padEnd(36)} ${q(0.5).toFixed(3).padStart(7)} ${q(0.99).toFixed(3).padStart(7)} ` +
        `${mean.toFixed(3).padStart(7)} ` +
        `${ms[ms.length - 1]!.toFixed(3).padStart(7)} ${server_ms.toFixed(3).padStart(7)}`,
    );
  }
  console.log(
    "(redis = mean time inside Redis per call, from INFO commandstats: the part that load does not inflate much)",
  );

  // The production write path for comparison: one record() per payment, 64 in flight, times near "now".
  const RECORDS = 20_000;
  await stats.sendCommand(["CONFIG", "RESETSTAT"]);
  const r0 = performance.now();
  let k = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (k < RECORDS) {
        const i = k++;
        await store.ledger.record({
          correlationId: randomUUID(),
          processor: i % 2 ? "default" : "fallback",
          requestedAt: END + 1 + i,
          amountCents: 2005,
        });
      }
    }),
  );
  const rS = (performance.now() - r0) / 1000;
  const usec = await redisUsPerCall();
  await stats.close();
  console.log(
    `\nrecord(): ${RECORDS.toLocaleString("en")} single-entry calls, 64 in flight: ` +
      `${Math.round(RECORDS / rS).toLocaleString("en")}/s; ` +
      `Redis time per call ${usec} us (INFO commandstats)`,
  );
} finally {
  await store.close();
  await server.stop();
}
