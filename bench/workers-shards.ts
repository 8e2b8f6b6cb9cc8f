// Workers benchmark: the same closed-loop load against the Worker bundle in Miniflare (workerd) with 1, 4 and
// 16 Books shards. Per run: accepted POST /payments per second with p50/p99, and forwarded payments per second
// (from the first POST until the ledger counts every accepted payment: queue consumer, claim and record in
// Books, processor call).
//   npx tsx bench/workers-shards.ts [--shards 1,4,16] [--seconds 10] [--connections 50]
// Processors are two emulators in this process (no delay). Also prints workerd's CPU over the run (all threads,
// and its busiest thread: ~100% there means one core is the limit). Wrap it in `flock /tmp/heavy.lock`.
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startLocalWorker } from "../adapters/runtimes/workers/local";
import { buildWorker } from "../tools/build/build-worker.mjs";
import { startEmulator } from "../tools/emulator/server";
import { cpuSeconds, procStat } from "../tools/lib/procs";

const { values: args } = parseArgs({
  options: {
    shards: { type: "string", default: "1,4,16" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
  },
});
const shardCounts = args.shards!.split(",").map(Number);
const seconds = Number(args.seconds);
const connections = Number(args.connections);

/** The workerd processes Miniflare started for us (children of this process). */
function workerdPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd" && Number(procStat(pid)[1]) === process.pid
        );
      } catch {
        return false; // gone meanwhile
      }
    });
}

/** CPU seconds per thread of the workerd processes, by "pid/tid". */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of workerdPids()) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const f = procStat(Number(tid)); // /proc/<tid>/stat answers for a thread too
        out.set(`${pid}/${tid}`, (Number(f[11]) + Number(f[12])) / 100);
      } catch {}
    }
  }
  return out;
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function runOnce(scriptPath: string, shards: number) {
  const def = await startEmulator({ fee: 0.05, maxConcurrent: 2000, maxQueued: 5000 });
  const fb = await startEmulator({ fee: 0.15, maxConcurrent: 2000, maxQueued: 5000 });
  const persistDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/rinha-bench-worker-") : undefined;
  const vars = {
    PROCESSOR_DEFAULT_URL: def.url,
    PROCESSOR_FALLBACK_URL: fb.url,
    BOOKS_SHARDS: String(shards),
    WARMUP_REQUESTS: "0",
  };
  const w = await startLocalWorker(vars, { scriptPath, persistDir });
  const pool = new Pool(w.url, { connections });
  try {
    const latencies: number[] = [];
    let accepted = 0;
    let refused = 0;
    const cpu0 = workerdPids().reduce((a, pid) => a + cpuSeconds(pid), 0);
    const threads0 = threadCpu();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    const client = async () => {
      while (performance.now() < end) {
        const body = JSON.stringify({ correlationId: randomUUID(), amount: 19.9 });
        const s = performance.now();
        const res = await pool.request({
          method: "POST",
          path: "/payments",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.body.dump();
        latencies.push(performance.now() - s);
        if (res.statusCode === 202) accepted++;
        else refused++;
      }
    };
    await Promise.all(Array.from({ length: connections }, client));
    const postSeconds = (performance.now() - t0) / 1000;
    // Forwarding: until the summary counts every accepted payment (or 120 s).
    let counted = 0;
    while (counted < accepted && performance.now() - t0 < (seconds + 120) * 1000) {
      const res = await pool.request({ method: "GET", path: "/payments-summary" });
      const s = (await res.body.json()) as Record<string, { totalRequests: number }>;
      counted = s.default!.totalRequests + s.fallback!.totalRequests;
      if (counted < accepted) await new Promise((r) => setTimeout(r, 100));
    }
    const forwardSeconds = (performance.now() - t0) / 1000;
    // How busy workerd was: all its threads, and its busiest thread (a share near 100% is one core's worth).
    const cpu = workerdPids().reduce((a, pid) => a + cpuSeconds(pid), 0) - cpu0;
    let busiest = 0;
    for (const [k, v] of threadCpu()) busiest = Math.max(busiest, v - (threads0.get(k) ?? 0));
    latencies.sort((a, b) => a - b);
    return {
      shards,
      accepted,
      refused,
      postPerSec: accepted / postSeconds,
      p50: pct(latencies, 0.5),
      p99: pct(latencies, 0.99),
      counted,
      forwardedPerSec: counted / forwardSeconds,
      cpuShare: cpu / forwardSeconds,
      busiestThreadShare: busiest / forwardSeconds,
    };
  } finally {
    await pool.close();
    await w.close();
    await Promise.all([def.close(), fb.close()]);
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  }
}

const scriptPath = await buildWorker({ outfile: `${mkdtempSync("/tmp/rinha-bench-")}/worker.js` });
console.log(`workers-shards: ${connections} connections, ${seconds} s of POSTs per run, Miniflare (one workerd)`);
console.log(
  "| shards | accepted POST/s | POST p50 ms | POST p99 ms | forwarded payments/s | accepted | refused | counted | " +
    "workerd CPU | busiest thread |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const shards of shardCounts) {
  const r = await runOnce(scriptPath, shards);
  console.log(
    `| ${r.shards} | ${r.postPerSec.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ` +
      `${r.forwardedPerSec.toFixed(0)} | ${r.accepted} | ${r.refused} | ${r.counted} | ` +
      `${(100 * r.cpuShare).toFixed(0)}% | ${(100 * r.busiestThreadShare).toFixed(0)}% |`,
  );
}
