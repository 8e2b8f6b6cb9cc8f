// How much CPU the emulator costs. Runs it as a child process (so its CPU is measured apart from
// the load generator) and reads its utime+stime from /proc:
//   npx tsx bench/emulator.ts [--n 5000] [--concurrency 64] [--rate 600] [--seconds 5]
// Phase 1: n POSTs at delay 0, as fast as `concurrency` connections go (req/s, CPU ms per request).
// Phase 2: a paced `rate` POSTs/s for `seconds` (the emulator's CPU share at contest load).
// Linux only (reads /proc/<pid>/stat).

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { cpuSeconds } from "../tools/lib/procs";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "64" },
    rate: { type: "string", default: "600" },
    seconds: { type: "string", default: "5" },
  },
});
const N = Number(values.n);
const C = Number(values.concurrency);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const cpuMs = (pid: number) => Math.round(cpuSeconds(pid) * 1000);

const child = spawn(process.execPath, ["--import", "tsx", "tools/emulator/main.ts", "--port", "0", "--fee", "0.05"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    const m = /(http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.once("exit", (code) => reject(new Error(`emulator exited with ${code} before starting`)));
});
const pool = new Pool(url, { connections: C });

async function post(): Promise<number> {
  const r = await pool.request({
    path: "/payments",
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ correlationId: randomUUID(), amount: 19.9, requestedAt: new Date().toISOString() }),
  });
  await r.body.dump();
  return r.statusCode;
}

try {
  // Warm-up: JIT, connections.
  await Promise.all(Array.from({ length: 500 }, post));

  let sent = 0;
  let ok = 0;
  const cpu0 = cpuMs(child.pid!);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (sent < N) {
        sent++;
        if ((await post()) === 200) ok++;
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = cpuMs(child.pid!) - cpu0;
  console.log(
    `burst: ${N} POSTs, ${C} connections: ${Math.round((N / wall) * 1000)} req/s, ${ok} ok, ` +
      `emulator CPU ${cpu} ms (${((cpu / N) * 1000).toFixed(0)} µs/request, ` +
      `${Math.round((cpu / wall) * 100)}% of a core)`,
  );

  const total = RATE * SECONDS;
  const cpu1 = cpuMs(child.pid!);
  const t1 = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t1 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(post());
  }
  const statuses = await Promise.all(pending);
  const wall2 = performance.now() - t1;
  const cpu2 = cpuMs(child.pid!) - cpu1;
  console.log(
    `paced: ${total} POSTs at ${RATE}/s over ${(wall2 / 1000).toFixed(1)} s: ` +
      `${statuses.filter((s) => s === 200).length} ok, ` +
      `emulator CPU ${cpu2} ms = ${Math.round((cpu2 / wall2) * 100)}% of a core`,
  );
} finally {
  await pool.close();
  child.kill("SIGTERM");
}
