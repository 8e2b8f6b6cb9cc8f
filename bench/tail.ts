// The POST tail against its floor, measured with k6 (the contest's load generator): runs the official scenario
// on the floor stack (a bare responder behind the same Caddy and limits) and on ours, interleaved
// (floor, ours, floor, ours, ...), and prints per run k6's p99, p50, the worst second's p99, failed POSTs,
// inconsistencies, lag, the money share of the ceiling (without the bonus) and per service CPU / throttled
// periods / peak memory, then the medians and ours minus the floor. Writes everything to a JSON file.
//
//   npm run bench:tail -- [--scenario preview|final] [--pairs 3] [--out .stack/tail.json]
//                         [--compose docker-compose.yml] [--floor-entry tools/stack/bare.mjs] [--only ours|floor]
//                         [--variant NAME=COMPOSE_FILE ...] [--kill SERVICE@SECONDS] [--no-seconds]
//
// --variant adds a run of our entry with another compose file to every round (floor, ours, NAME, ...), to weigh
// a lever (a resource split, a Node flag, a setting) against ours and the floor in the same sitting.
//
// --kill api1@30 SIGKILLs that service of every run but the floor's that many seconds after k6 starts (the
// launcher restarts it, as compose's policy does) and lists each failed POST with its time from the kill, its
// status and k6's error code, and Caddy's error lines.
//
// --no-seconds skips k6's per-sample JSON output (p50 and the worst second are then not known): ~12 JSON lines
// per request cost k6 CPU on the same cores (measured on the floor: 6.55 / 5.70 ms with, 7.07 / 6.76 without).
//
// k6 comes from $K6 or PATH. Absolute numbers move 1-3 ms between sittings: compare only within one run of this.

import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { findK6 } from "../tools/contest/k6";
import { percentile } from "../tools/contest/score";
import { freePort } from "../tools/lib/ports";
import { REPO_DIR } from "../tools/lib/repo";
import { MiB } from "../tools/stack/compose";
import { startStack } from "../tools/stack/stack";

const SCENARIOS = {
  preview: { script: "tools/k6/rinha.js", amount: 19.9, fees: { default: 0.05, fallback: 0.15 } },
  final: { script: "tools/k6/rinha-final.js", amount: 20.05, fees: { default: 0.07, fallback: 0.1 } },
} as const;

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "preview" },
    pairs: { type: "string", default: "3" },
    out: { type: "string", default: ".stack/tail.json" },
    compose: { type: "string" },
    "floor-entry": { type: "string", default: "tools/stack/bare.mjs" },
    only: { type: "string" },
    variant: { type: "string", multiple: true, default: [] },
    kill: { type: "string" },
    "no-seconds": { type: "boolean", default: false },
  },
});
const scenarioName = values.scenario as keyof typeof SCENARIOS;
const scenario = SCENARIOS[scenarioName];
if (!scenario) fail(`--scenario must be preview or final, not ${values.scenario}`);
const pairs = Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 1) fail(`--pairs must be a positive integer, not ${values.pairs}`);
if (values.only && values.only !== "ours" && values.only !== "floor") fail("--only must be ours or floor");
const kill = killOf(values.kill);
if (kill && values["no-seconds"]) fail("--kill lists the failed POSTs from k6's samples: drop --no-seconds");
const k6 = k6OrExit();

/** "floor", "ours", or the name of a --variant. */
type Variant = string;
const extra = new Map<string, string>();
for (const v of values.variant ?? []) {
  const m = /^([\w.-]+)=(.+)$/.exec(v);
  if (!m || m[1] === "floor" || m[1] === "ours") fail(`--variant wants NAME=COMPOSE_FILE (a new name), not ${v}`);
  if (!existsSync(m[2]!)) fail(`--variant ${m[1]}: no such compose file ${m[2]}`);
  extra.set(m[1]!, m[2]!);
}
interface Run {
  variant: Variant;
  p99: number;
  p50: number;
  worstSecondP99: number;
  worstSecondAt: number;
  failed: number;
  accepted: number;
  inconsistencies: number;
  lag: number;
  moneyShare: number;
  machineCpu: number;
  otherCpu: number;
  services: Record<string, { cpu: number; throttled: number; peakMB: number; limitCpu?: number; limitMB?: number }>;
  /** With --kill: the failed POSTs (ms from the kill to when k6 sent it, status, k6 error code). */
  killed?: { service: string; atS: number; failedPosts: { ms: number; status: string; error?: string }[] };
  /** With --kill: Caddy's error lines of that run (its log level is ERROR). */
  caddyErrors?: string[];
}

function killOf(spec: string | undefined): { service: string; atS: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^([\w-]+)@(\d+(?:\.\d+)?)$/.exec(spec);
  if (!m) fail(`--kill wants SERVICE@SECONDS (e.g. api1@30), not ${spec}`);
  return { service: m[1]!, atS: Number(m[2]) };
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function k6OrExit(): string {
  const found = findK6();
  if (!found) {
    fail(
      "bench:tail needs k6 (v1.1.0, the contest's load generator): put it on PATH or set K6=/path/to/k6. " +
        "Releases: https://github.com/grafana/k6/releases",
    );
  }
  return found;
}

/** Busy jiffies (1/100 s) of the whole machine, all cores. */
function machineJiffies(): { busy: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: f.reduce((a, b) => a + b, 0) - idle };
}

/**
 * Durations of successful requests by the second they ended in, from k6's JSON output; and the failed POSTs to
 * the backend (when each was sent, ms since epoch: k6's sample time less its duration; status; k6's error code).
 */
async function perSecond(
  file: string,
  failedPosts: { at: number; status: string; error?: string }[] = [],
): Promise<Map<number, number[]>> {
  const seconds = new Map<number, number[]>();
  const lines = createInterface({ input: createReadStream(file) });
  for await (const line of lines) {
    if (!line.includes('"http_req_duration"') || !line.includes('"Point"')) continue;
    const p = JSON.parse(line) as { data: { time: string; value: number; tags?: Record<string, string> } };
    const tags = p.data.tags ?? {};
    if (tags.expected_response !== "true") {
      if (tags.method === "POST" && /\/payments$/.test(tags.url ?? "") && !tags.url?.includes("/admin"))
        failedPosts.push({
          at: Date.parse(p.data.time) - p.data.value,
          status: tags.status ?? "?",
          error: tags.error_code,
        });
      continue;
    }
    const s = Math.floor(Date.parse(p.data.time) / 1000);
    const list = seconds.get(s) ?? [];
    if (list.length === 0) seconds.set(s, list);
    list.push(p.data.value);
  }
  return seconds;
}

function runK6(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((ok) => {
    const child = spawn(k6, args, {
      cwd: REPO_DIR,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stdout.on("data", () => {});
    child.stderr.on("data", (d) => {
      err = (err + d).slice(-4000);
    });
    child.on("exit", (code) => {
      if (code !== 0) console.error(`k6 exited ${code}:\n${err}`);
      ok(code ?? 1);
    });
  });
}

async function runOnce(variant: Variant, index: number, dir: string): Promise<Run> {
  const processorPorts = { default: await freePort(), fallback: await freePort() };
  const stack = await startStack({
    composeFile: extra.get(variant) ?? values.compose,
    entry: variant === "floor" ? values["floor-entry"] : undefined,
    withEmulators: true,
    port: await freePort(),
    processorPorts,
    fees: scenario.fees,
    log: () => {},
  });
  const results = join(dir, `${variant}-${index}.json`);
  const points = join(dir, `${variant}-${index}.points.json`);
  try {
    const before = stack.stats();
    const m0 = machineJiffies();
    const t0 = performance.now();
    const victim = kill && variant !== "floor" ? stack.services.find((s) => s.name === kill.service) : undefined;
    if (kill && variant !== "floor" && !victim) throw new Error(`--kill: no service ${kill.service} in the stack`);
    let killedAt = 0;
    const killTimer = victim
      ? setTimeout(() => {
          killedAt = Date.now();
          process.kill(victim.pid, "SIGKILL");
        }, kill!.atS * 1000)
      : undefined;
    // Every k6 sample as JSON (~12 per request) costs k6 CPU on the same 2 cores; --no-seconds skips it.
    const out = values["no-seconds"] ? [] : ["--out", `json=${points}`];
    const code = await runK6(["run", "--quiet", "--no-color", ...out, scenario.script], {
      BASE_URL: stack.url,
      PP_DEFAULT_URL: `http://127.0.0.1:${processorPorts.default}`,
      PP_FALLBACK_URL: `http://127.0.0.1:${processorPorts.fallback}`,
      RESULTS_FILE: results,
    });
    clearTimeout(killTimer);
    const elapsed = (performance.now() - t0) / 1000;
    const m1 = machineJiffies();
    const after = stack.stats();
    if (code !== 0 || !existsSync(results)) throw new Error(`k6 failed (exit ${code}); see the message above`);
    const r = JSON.parse(readFileSync(results, "utf8"));
    const p99 = Number.parseFloat(r.p99.valor);
    const failedPosts: { at: number; status: string; error?: string }[] = [];
    const secs = values["no-seconds"] ? new Map<number, number[]>() : await perSecond(points, failedPosts);
    const all: number[] = [];
    let worst = 0;
    let worstAt = 0;
    const first = Math.min(...secs.keys());
    for (const [s, list] of secs) {
      list.sort((a, b) => a - b);
      all.push(...list);
      const q = percentile(list, 0.99);
      if (q > worst) [worst, worstAt] = [q, s - first];
    }
    all.sort((a, b) => a - b);
    rmSync(points, { force: true });
    const machineCpu = (m1.busy - m0.busy) / 100 / elapsed;
    const services: Run["services"] = {};
    let stackCpu = 0;
    for (const s of stack.services) {
      const a = after[s.name];
      const b = before[s.name];
      if (!a || !b || s.kind === "emulator") continue;
      const cpu = ((a.cpuSeconds ?? 0) - (b.cpuSeconds ?? 0)) / elapsed;
      stackCpu += cpu;
      services[s.name] = {
        cpu: round(cpu, 3),
        throttled: (a.throttledPeriods ?? 0) - (b.throttledPeriods ?? 0),
        peakMB: round((a.peakRssBytes ?? a.peakMemoryBytes ?? 0) / MiB, 1),
        limitCpu: s.cpus,
        limitMB: s.memoryBytes === undefined ? undefined : Math.round(s.memoryBytes / MiB),
      };
    }
    const accepted = r.pagamentos_solicitados.qtd_sucesso as number;
    const liquid = (r.total_bruto as number) - (r.total_taxas as number);
    const ceiling = accepted * scenario.amount * (1 - scenario.fees.default);
    return {
      variant,
      p99,
      p50: all.length > 0 ? round(percentile(all, 0.5), 2) : Number.NaN,
      worstSecondP99: secs.size > 0 ? round(worst, 2) : Number.NaN,
      worstSecondAt: worstAt,
      failed: r.pagamentos_solicitados.qtd_falha,
      accepted,
      inconsistencies: r.multa.composicao.num_inconsistencias,
      lag: r.lag.lag,
      moneyShare: ceiling > 0 ? round(liquid / ceiling, 4) : 0,
      machineCpu: round(machineCpu, 2),
      otherCpu: round(machineCpu - stackCpu, 2),
      services,
      killed: victim
        ? {
            service: victim.name,
            atS: kill!.atS,
            failedPosts: failedPosts.map((f) => ({ ms: f.at - killedAt, status: f.status, error: f.error })),
          }
        : undefined,
      caddyErrors: victim
        ? stack
            .logTail("caddy", 200)
            .split("\n")
            .filter((l) => l.includes('"error"'))
        : undefined,
    };
  } finally {
    await stack.stop();
  }
}

/** The median as k6 computes it (percentile at 0.5: the mean of the middle two of an even count). */
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

function round(x: number, places: number): number {
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

/** A figure, or "-" when the run did not measure it (--no-seconds). */
const known = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(2));

function describe(r: Run): string {
  const svc = Object.entries(r.services)
    .map(
      ([n, s]) => `${n} ${s.cpu.toFixed(2)}/${s.limitCpu ?? "-"} thr ${s.throttled} ${s.peakMB}/${s.limitMB ?? "-"}MB`,
    )
    .join(", ");
  return (
    `${r.variant.padEnd(6)} p99 ${r.p99.toFixed(2)} ms  p50 ${known(r.p50)}  worst second ${known(r.worstSecondP99)} ` +
    `ms (at ${r.worstSecondAt} s)  failed ${r.failed}/${r.accepted + r.failed}  incons ${r.inconsistencies}  lag ` +
    `${r.lag}  money ${(r.moneyShare * 100).toFixed(2)}%  machine ${r.machineCpu} cores (outside the stack ` +
    `${r.otherCpu})\n      ${svc}${describeKill(r)}`
  );
}

function describeKill(r: Run): string {
  if (!r.killed) return "";
  const failed = r.killed.failedPosts.map((f) => `${Math.round(f.ms)} ${f.status} ${f.error ?? ""}`.trim());
  const caddy = (r.caddyErrors ?? []).map((l) => `\n        ${l.slice(0, 400)}`);
  return (
    `\n      ${r.killed.service} SIGKILLed at ${r.killed.atS} s: ${failed.length} failed POSTs (sent ms after the ` +
    `kill, status, error): ${failed.join("; ")}\n      caddy error lines: ${caddy.length}${caddy.join("")}`
  );
}

const dir = join(REPO_DIR, ".stack", `tail-${process.pid}`);
mkdirSync(dir, { recursive: true });
const order: Variant[] = [...(values.only ? [values.only] : ["floor", "ours"]), ...extra.keys()];
const runs: Run[] = [];
console.log(`bench:tail ${scenarioName}, ${pairs} rounds of (${order.join(", ")}), k6 ${k6}`);
for (let i = 0; i < pairs; i++) {
  for (const variant of order) {
    const r = await runOnce(variant, i, dir);
    runs.push(r);
    console.log(`${i + 1}. ${describe(r)}`);
  }
}
const medians: Record<string, Record<string, number>> = {};
for (const v of order) {
  const rs = runs.filter((r) => r.variant === v);
  medians[v] = {
    p99: median(rs.map((r) => r.p99)),
    worstSecondP99: median(rs.map((r) => r.worstSecondP99)),
    moneyShare: median(rs.map((r) => r.moneyShare)),
  };
}
for (const [v, m] of Object.entries(medians)) {
  console.log(
    `median ${v}: p99 ${m.p99} ms, worst second ${known(m.worstSecondP99!)} ms, ` +
      `money ${(m.moneyShare! * 100).toFixed(2)}%`,
  );
}
const deltas: Record<string, number> = {};
if (medians.floor) {
  for (const v of order.filter((x) => x !== "floor")) {
    // Per round: this variant's p99 minus the floor's of the same round.
    const per = [];
    for (let i = 0; i < pairs; i++) {
      const round_ = runs.slice(i * order.length, (i + 1) * order.length);
      per.push(round(round_.find((r) => r.variant === v)!.p99 - round_.find((r) => r.variant === "floor")!.p99, 2));
    }
    deltas[v] = round(medians[v]!.p99! - medians.floor.p99!, 2);
    console.log(
      `${v} - floor: ${deltas[v]} ms between medians; per round ${per.join(", ")} (median ${median(per)} ms)`,
    );
  }
}
const out = values.out!;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ scenario: scenarioName, pairs, order, runs, medians, deltas }, null, 2)}\n`);
rmSync(dir, { recursive: true, force: true });
console.log(`wrote ${out}`);
