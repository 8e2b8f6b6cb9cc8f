// Accept-path benchmark: accepted POST /payments per second and latency percentiles for ONE Node instance
// (ROLE=api, Redis adapter), measured by a client in this process.
//   npm run bench:accept -- [--rate 600] [--seconds 10] [--connections 100] [--max-seconds 5] [--entry dist/node.js]
//                            [--cpu-prof DIR]
// Phase 1 sends at a fixed rate (the contest peaks near 600/s), phase 2 finds the closed-loop maximum. Each
// phase prints the server's CPU time per accepted POST. --entry tools/stack/bare.mjs measures a bare
// responder the same way; --cpu-prof writes the server's V8 profile (open it in Chrome DevTools).
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { cpuSeconds } from "../tools/lib/procs";
import { startRedis } from "../tools/lib/redis-server";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "600" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "100" },
    "max-seconds": { type: "string", default: "5" },
    port: { type: "string", default: "19990" },
    entry: { type: "string", default: "dist/node.js" },
    "cpu-prof": { type: "string" },
  },
});
const rate = Number(args.rate),
  seconds = Number(args.seconds),
  connections = Number(args.connections);
const port = Number(args.port);

const redis = await startRedis({ useEnv: false });
const profile = args["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", args["cpu-prof"]] : [];
const child = spawn(process.execPath, [...profile, args.entry!], {
  env: {
    ...process.env,
    ROLE: "api",
    STORE: "redis",
    REDIS_URL: redis.url,
    REDIS_PREFIX: "bench:",
    PORT: String(port),
    HOST: "127.0.0.1",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
const stopAll = async () => {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited; // a --cpu-prof profile is written on exit
  await redis.stop();
};
const serverCpu = () => cpuSeconds(child.pid!);

try {
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const body = () => `{"correlationId":"${crypto.randomUUID()}","amount":19.90}`;
  const once = async (lat: number[], codes: Map<number, number>) => {
    const t0 = performance.now();
    const res = await pool.request({
      method: "POST",
      path: "/payments",
      headers: { "content-type": "application/json" },
      body: body(),
    });
    await res.body.dump();
    lat.push(performance.now() - t0);
    codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
  };

  // Warm-up: JIT, connections.
  await Promise.all(Array.from({ length: 2000 }, () => once([], new Map())));

  // Phase 1: fixed rate, open loop (a slow answer does not slow the sender down).
  {
    const lat: number[] = [],
      codes = new Map<number, number>(),
      inflight = new Set<Promise<void>>();
    const start = performance.now(),
      cpu0 = serverCpu();
    let sent = 0;
    while (performance.now() - start < seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      for (; sent < due; sent++) {
        const p = once(lat, codes).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inflight);
    report(
      `fixed rate ${rate}/s for ${seconds}s over ${connections} connections`,
      lat,
      codes,
      seconds,
      serverCpu() - cpu0,
    );
  }

  // Phase 2: closed loop, as fast as it answers.
  {
    const lat: number[] = [],
      codes = new Map<number, number>();
    const maxMs = Number(args["max-seconds"]) * 1000,
      start = performance.now(),
      cpu0 = serverCpu();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (performance.now() - start < maxMs) await once(lat, codes);
      }),
    );
    report(
      `closed loop, 64 concurrent, ${maxMs / 1000}s`,
      lat,
      codes,
      (performance.now() - start) / 1000,
      serverCpu() - cpu0,
    );
  }
  await pool.close();
} finally {
  await stopAll();
}

function report(title: string, lat: number[], codes: Map<number, number>, secs: number, cpuS: number) {
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]!.toFixed(2);
  const accepted = codes.get(202) ?? 0;
  console.log(
    `${title}\n  accepted ${accepted} (${(accepted / secs).toFixed(0)}/s), statuses ` +
      `${JSON.stringify(Object.fromEntries(codes))}\n` +
      `  latency ms: p50 ${q(0.5)}  p90 ${q(0.9)}  p99 ${q(0.99)}  p99.9 ${q(0.999)}  max ` +
      `${lat[lat.length - 1]!.toFixed(2)}\n` +
      `  server CPU ${cpuS.toFixed(2)} s = ${((cpuS * 1000) / Math.max(1, lat.length)).toFixed(3)} ms per POST`,
  );
}

async function waitFor(url: string) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 10 s; see the output above`);
}
