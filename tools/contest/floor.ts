// --floor: the runner's own latency floor. The same VU loop, at the scenario's peak VUs from the
// start, against a bare responder (a separate process): directly, then through Caddy when it is
// installed. Every p99 of a real run should be read next to these.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Args } from "./args";
import { spawnCmd, waitReady } from "./children";
import { pool, send } from "./http";
import { Latencies } from "./latency";
import { log } from "./run";
import { Vus } from "./vus";

export interface FloorLeg {
  via: "direct" | "caddy";
  url: string;
  vus: number;
  seconds: number;
  requests: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  runnerCpuPct: number;
}
export interface Floor {
  timestamp: string;
  scenario: string;
  legs: FloorLeg[];
  skipped?: string;
}

const PORTS = { caddy: 9990, upstreams: [9991, 9992] };
// All VUs connect within the first second; those first rounds (connects, JIT) are not the floor.
const WARMUP_S = 3;

export async function runFloor(a: Args): Promise<Floor> {
  const vus = a.maxVus ?? a.scenario.maxVus;
  for (const p of [PORTS.caddy, ...PORTS.upstreams]) await refuseBusy(`http://127.0.0.1:${p}`);
  const responder = spawnCmd("responder", process.execPath, ["tools/stack/bare.mjs", ...PORTS.upstreams.map(String)]);
  const direct = `http://127.0.0.1:${PORTS.upstreams[0]}`;
  await waitReady(responder, direct, "/payments-summary", (s) => s === 200);
  const floor: Floor = { timestamp: new Date().toISOString(), scenario: a.scenario.name, legs: [] };
  floor.legs.push(await leg("direct", direct, vus, a));

  const caddy = which("caddy");
  if (!caddy) floor.skipped = "caddy is not on PATH: no Caddy leg";
  else if (!existsSync(a.caddyfile)) floor.skipped = `no Caddy config at ${a.caddyfile}: no Caddy leg`;
  else {
    const upstreams = PORTS.upstreams.map((p) => `127.0.0.1:${p}`).join(" ");
    const c = spawnCmd("caddy", caddy, ["run", "--config", a.caddyfile, "--adapter", "caddyfile"], {
      FLOOR_PORT: String(PORTS.caddy),
      FLOOR_UPSTREAMS: upstreams,
    });
    const via = `http://127.0.0.1:${PORTS.caddy}`;
    await waitReady(c, via, "/payments-summary", (s) => s === 200);
    floor.legs.push(await leg("caddy", via, vus, a));
  }
  if (floor.skipped) log(floor.skipped);
  return floor;
}

async function leg(via: FloorLeg["via"], url: string, maxVus: number, a: Args): Promise<FloorLeg> {
  log(`floor ${via}: ${maxVus} VUs for ${WARMUP_S} s warm-up + ${a.floorSeconds} s against ${url}`);
  const lat = new Latencies();
  const v = new Vus(
    {
      origin: url,
      prefix: "",
      amount: a.scenario.amount,
      durationMs: (WARMUP_S + a.floorSeconds) * 1000,
      maxVus,
      allAtOnce: true,
      warmupMs: WARMUP_S * 1000,
    },
    lat,
  );
  const t0 = performance.now();
  let cpu0 = process.cpuUsage();
  let t1 = t0;
  setTimeout(() => {
    cpu0 = process.cpuUsage();
    t1 = performance.now();
  }, WARMUP_S * 1000);
  await v.run(t0);
  const c = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t1) / 1000;
  const sorted = lat.sorted();
  const out: FloorLeg = {
    via,
    url,
    vus: maxVus,
    seconds: round(seconds),
    requests: lat.count,
    failed: v.failed,
    p50Ms: round(lat.exact(0.5)),
    p99Ms: round(lat.exact(0.99)),
    maxMs: round(sorted.at(-1) ?? 0),
    runnerCpuPct: round(((c.user + c.system) / 1e6 / seconds) * 100),
  };
  log(
    `floor ${via}: ${out.requests} requests, p50 ${out.p50Ms} ms, p99 ${out.p99Ms} ms, max ${out.maxMs} ms, failed ` +
      `${out.failed}, runner CPU ${out.runnerCpuPct}% of a core`,
  );
  return out;
}

async function refuseBusy(url: string): Promise<void> {
  const p = pool(url, 1);
  const r = await send(p, { method: "GET", path: "/", timeoutMs: 300 });
  await p.close();
  if (r.status !== 0)
    throw new Error(`${url} is already in use (HTTP ${r.status}); the floor needs ports 9990-9992 free.`);
}

function which(cmd: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
