// A short fixed load through the stack, for comparing stack configurations (Caddy settings, transports, the
// resource split): starts the stack from a compose file, runs the contest runner's VU loop (each VU: POST
// /payments, sleep 1 s) with all VUs from the start, then prints latency percentiles and, per service, CPU use,
// CFS-throttled periods and peak memory from its cgroup.
//
//   npx tsx bench/probe.ts [--compose file] [--entry file] [--vus 500] [--seconds 20] [--no-limits]
//
// Without --entry it runs the real entry (dist/node.js) with the emulators; with --entry (e.g. a bare
// responder honouring PORT / SOCKET_PATH) it runs that instead and no emulators. Numbers from a shared machine
// are noisy: repeat and interleave variants before concluding anything.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Latencies } from "../tools/contest/latency";
import { Vus } from "../tools/contest/vus";
import { freePort } from "../tools/lib/ports";
import { MiB } from "../tools/stack/compose";
import { startStack } from "../tools/stack/stack";

const { values } = parseArgs({
  options: {
    compose: { type: "string" },
    entry: { type: "string" },
    vus: { type: "string", default: "500" },
    seconds: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    amount: { type: "string", default: "19.9" },
    "no-limits": { type: "boolean" },
  },
});
const vus = Number(values.vus);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);

const stack = await startStack({
  composeFile: values.compose,
  entry: values.entry,
  withEmulators: values.entry === undefined,
  port: await freePort(),
  processorPorts: { default: await freePort(), fallback: await freePort() },
  limits: !values["no-limits"],
  log: () => {},
});
try {
  const lat = new Latencies();
  const v = new Vus(
    {
      origin: stack.url,
      prefix: "",
      amount: Number(values.amount),
      durationMs: (warmup + seconds) * 1000,
      maxVus: vus,
      allAtOnce: true,
      warmupMs: warmup * 1000,
    },
    lat,
  );
  const before = stack.stats();
  const t0 = performance.now();
  await v.run(t0);
  const elapsed = (performance.now() - t0) / 1000;
  const after = stack.stats();
  const q = (p: number) => lat.exact(p).toFixed(2);
  const sorted = lat.sorted();
  console.log(
    `${values.compose ?? "docker-compose.yml"} entry=${values.entry ?? "dist/node.js"} vus=${vus} ${seconds}s ` +
      `limits=${stack.limitsApplied ? "on" : `off (${stack.limitsReason})`} ` +
      `load=${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  console.log(
    `  requests ${lat.count} failed ${v.failed}  p50 ${q(0.5)}  p90 ${q(0.9)}  p99 ${q(0.99)}  max ` +
      `${(sorted.at(-1) ?? 0).toFixed(2)} ms`,
  );
  for (const s of stack.services) {
    const a = after[s.name];
    const b = before[s.name];
    if (!a || !b) continue;
    const cpu = (((a.cpuSeconds ?? 0) - (b.cpuSeconds ?? 0)) / elapsed) * 100;
    console.log(
      `  ${s.name.padEnd(8)} cpu ${cpu.toFixed(1).padStart(5)}% of ${(s.cpus! * 100).toFixed(0)}%  ` +
        `throttled ${(a.throttledPeriods ?? 0) - (b.throttledPeriods ?? 0)} periods  ` +
        `peak ${((a.peakMemoryBytes ?? 0) / MiB).toFixed(1)} of ${(s.memoryBytes! / MiB).toFixed(0)} MB` +
        (a.oomKills ? `  OOM kills ${a.oomKills}` : ""),
    );
  }
} finally {
  const report = await stack.stop();
  for (const p of report.problems) console.log(`problem: ${p}`);
}
