// `npm run soak -- --stack`: payments at a steady rate, open loop, through the real stack (tools/stack: Caddy,
// api1, api2, worker and Redis as docker-compose.yml runs them, under its CPU / memory limits and with its
// contest retention profile) to two processor emulators in this process (so the checks can read their rows).
// Every --sample-s it prints Redis used_memory and each service's memory (cgroup, page cache included) and
// anonymous peak; at the end the memory curve summarised and the fault suite's three checks, with the random
// windows inside the retention. Exits 1 on any difference, a POST not answered 2xx or a service that restarted.
//
//   npm run soak -- --stack [--minutes 30 | --payments 250000] [--rate 600] [--sample-s 15] [--windows 100]
import { join } from "node:path";
import { createClient } from "redis";
import { keysFor } from "../adapters/stores/redis/keys";
import { PROCESSORS } from "../handlers/contract/types";
import { positiveArg } from "../tools/lib/cli";
import { startProcessors } from "../tools/lib/faults/backend";
import { checkBooks } from "../tools/lib/faults/books";
import { Load } from "../tools/lib/faults/load";
import { freePort } from "../tools/lib/ports";
import { sleep, Teardown } from "../tools/lib/procs";
import { REPO_DIR } from "../tools/lib/repo";
import { loadCompose, MiB } from "../tools/stack/compose";
import { startStack } from "../tools/stack/stack";

const argv = process.argv;
const rate = positiveArg("rate", 600);
// --payments wins over --minutes; neither: 5 minutes.
const payments = argv.includes("--payments") ? positiveArg("payments", 250_000) : undefined;
const minutes = positiveArg("minutes", 5);
const sampleMs = positiveArg("sample-s", 15) * 1000;
const windows = positiveArg("windows", 100);
const t = new Teardown();
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => void t.run().finally(() => process.exit(130)));

/** api1's service as docker-compose.yml defines it. */
function compose() {
  const c = loadCompose([join(REPO_DIR, "docker-compose.yml")], process.env);
  return { api: c.services.find((s) => s.name === "api1") };
}

/** The retention the stack's services run with (compose sets both windows; the checks need the shorter). */
function retentionOfCompose(): number {
  const { api } = compose();
  const ms = Math.min(
    Number(api?.environment.LEDGER_RETENTION_MS ?? Number.NaN),
    Number(api?.environment.IDEMPOTENCY_WINDOW_MS ?? Number.NaN),
  );
  if (!(ms > 0)) throw new Error("docker-compose.yml: api1 needs LEDGER_RETENTION_MS and IDEMPOTENCY_WINDOW_MS");
  return ms;
}

const mb = (bytes: number | undefined) => (bytes === undefined ? "?" : (bytes / MiB).toFixed(1));

let code = 0;
try {
  const retentionMs = retentionOfCompose();
  // The contest's 5 s health window (the stack's worker polls at the contest's pace).
  const { def, fb } = await startProcessors(t, { healthWindowMs: 5000 });
  const stack = await startStack({
    withEmulators: false,
    port: await freePort(),
    processorPorts: { default: def.port, fallback: fb.port },
    fees: { default: def.fee, fallback: fb.fee },
    log: (m) => console.log(`soak: stack: ${m}`),
  });
  t.add(async () => {
    const r = await stack.stop();
    for (const p of r.problems) console.log(`soak: stack stop: ${p}`);
  });
  if (!stack.limitsApplied) console.log(`soak: WARNING: limits not applied (${stack.limitsReason})`);
  const redisService = stack.services.find((s) => s.kind === "redis");
  if (!redisService?.address.startsWith("unix:")) throw new Error(`redis address ${redisService?.address}`);
  const info = createClient({ socket: { path: redisService.address.slice(5), tls: false }, RESP: 2 });
  info.on("error", () => {});
  await info.connect();
  t.add(() => info.close());
  const usedMb = async () => {
    const text = String(await info.sendCommand(["INFO", "memory"]));
    return Number(/used_memory:(\d+)/.exec(text)?.[1] ?? 0) / MiB;
  };
  // The ledger's per-bucket totals (cents and folded-count trees): what coarsening keeps bounded.
  const k = keysFor(String(compose().api?.environment.REDIS_PREFIX ?? "rinha:"));
  const treeKeys = PROCESSORS.flatMap((p) => [k.ledgerCents(p), k.ledgerCounts(p)]);
  const treeFields = async () => {
    let n = 0;
    for (const key of treeKeys) n += Number(await info.sendCommand(["HLEN", key]));
    return n;
  };
  const load = new Load([stack.url]);
  t.add(() => load.close());

  const durationMs = payments === undefined ? minutes * 60_000 : (payments / rate) * 1000;
  console.log(
    `soak --stack: ${payments ?? `${minutes} min of`} payments at ${rate}/s (~${(durationMs / 1000).toFixed(0)} ` +
      `s), retention ${retentionMs} ms (docker-compose.yml), sample every ${sampleMs / 1000} s; ` +
      `limits ${stack.limitsApplied ? "applied" : "NOT applied"}`,
  );
  const t0 = Date.now();
  const done = () => (payments === undefined ? Date.now() - t0 >= durationMs : load.sent.size >= payments);
  const steady = load.steady(rate, done);
  const services = stack.services.filter((s) => s.kind !== "emulator");
  const curve: { at: number; redis: number; fields: number; mem: Record<string, number | undefined> }[] = [];
  while (!done()) {
    await sleep(Math.min(sampleMs, Math.max(100, durationMs - (Date.now() - t0))));
    const stats = stack.stats();
    const at = (Date.now() - t0) / 1000;
    const point = {
      at,
      redis: await usedMb(),
      fields: await treeFields(),
      mem: {} as Record<string, number | undefined>,
    };
    for (const s of services) point.mem[s.name] = stats[s.name]?.memoryBytes;
    curve.push(point);
    const failed = load.all().filter((s) => s.status !== undefined && (s.status < 200 || s.status >= 300)).length;
    console.log(
      `soak: t=${at.toFixed(0)}s sent=${load.sent.size} non-2xx=${failed} redis used_memory=` +
        `${point.redis.toFixed(1)}MB, ledger tree fields=${point.fields}; ` +
        `mem ${services.map((s) => `${s.name} ${mb(point.mem[s.name])}`).join(", ")}MB`,
    );
  }
  await steady;
  const loadEnd = Date.now();
  await load.settle();
  const { report, problems } = await checkBooks(
    { api: () => stack.url, def, fb, load },
    { windows, drainTimeoutMs: 180_000, windowsFrom: loadEnd - retentionMs + 10_000 },
  );
  const notAccepted = report.sent - report.accepted;
  if (notAccepted > 0) problems.push(`${notAccepted} POSTs not answered 2xx: ${JSON.stringify(load.outcomes())}`);
  const stats = stack.stats();
  for (const s of services) {
    if (s.restarts) problems.push(`${s.name} restarted ${s.restarts} times (last exit ${JSON.stringify(s.exit)})`);
    if (stats[s.name]?.oomKills) problems.push(`${s.name}: ${stats[s.name]?.oomKills} OOM kills`);
  }

  // Memory after the first retention period (plus a margin for the first expiries): flat means no trend.
  const after = curve.filter((p) => p.at * 1000 >= retentionMs + 30_000);
  const range = (xs: number[]) =>
    xs.length ? `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} MB` : "no samples";
  const half = Math.floor(after.length / 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const redisFirst = mean(after.slice(0, half).map((p) => p.redis));
  const redisLast = mean(after.slice(half).map((p) => p.redis));
  console.log(
    [
      `soak: memory after the first retention period (+30 s), ${after.length} samples:`,
      `  redis used_memory ${range(after.map((p) => p.redis))}; mean of the first half ${redisFirst.toFixed(1)} MB, ` +
        `of the second ${redisLast.toFixed(1)} MB; ledger tree fields ` +
        (after.length
          ? `${Math.min(...after.map((p) => p.fields))}-${Math.max(...after.map((p) => p.fields))}`
          : "no samples"),
      ...services.map((s) => {
        const st = stats[s.name];
        return (
          `  ${s.name.padEnd(7)} ${range(after.map((p) => (p.mem[s.name] ?? 0) / MiB))} (limit ` +
          `${mb(s.memoryBytes)} MB), anonymous peak ${mb(st?.peakRssBytes)} MB, cpu ` +
          `${st?.cpuSeconds?.toFixed(1) ?? "?"} s, throttled ${st?.throttledPeriods ?? "?"} periods`
        );
      }),
      `soak: POSTs ${report.sent}: ${JSON.stringify(load.outcomes())}; at default ${report.default}, at fallback ` +
        `${report.fallback}; landed but not accepted ${report.landedNotAccepted}; drained in ${report.drainMs} ms`,
      `soak: checks (whole run + ${report.windows} random windows inside the retention): ` +
        `${problems.length === 0 ? "all equal" : `${problems.length} DIFFERENCES`}`,
      ...problems.slice(0, 20).map((p) => `  - ${p}`),
      `soak: total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    ].join("\n"),
  );
  if (problems.length) code = 1;
} catch (err) {
  console.error(`soak: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  await t.run();
}
process.exit(code);
