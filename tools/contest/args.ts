// Command-line options of the contest runner.
import { parseArgs } from "node:util";
import { SCENARIOS, type Scenario } from "./scenarios";
import { scheduleByName } from "./schedule";

export const USAGE = `usage: npx tsx tools/contest/main.ts --scenario preview|final | --schedule SPEC [options]
  --schedule SPEC        preview, final, random:SEED (npm run sim's family) or a JSON schedule file
                         (npm run sim -- --schedule random:SEED --write-schedule FILE writes one)
  --engine auto|k6|built-in
                         who drives the load: k6 (K6 or k6 on PATH; auto picks it when present) or the
                         runner's own VUs (default auto); the output says which engine measured
  --max-vus N            peak virtual users (default: the scenario's, 550 / 603)
  --duration-scale X     run X times the scenario's length; stage times scale too (default 1)
  --target URL           the backend (default http://localhost:9999)
  --emulators start|running
                         start two processor emulators as child processes (default), or use running ones
  --default-url URL      default processor (default http://127.0.0.1:8001)
  --fallback-url URL     fallback processor (default http://127.0.0.1:8002)
  --token T              processors' admin token to set and use (default 123)
  --participant NAME     'participante' in the results (default rinha-payments)
  --out DIR              where results.json and report.html go (default results/<scenario>-<timestamp>/)
  --floor-file FILE      a floor.json to show next to p99 (default results/floor.json when it exists)
  --assert-clean         exit 1 unless inconsistencies, lag and failed POSTs are all 0
  --floor                measure the runner's own latency floor instead (bare responder, direct and via Caddy)
  --floor-seconds S      floor run length (default 20)
  --caddyfile FILE       Caddy config for the floor (default tools/contest/floor.Caddyfile)`;

export interface Args {
  scenario: Scenario;
  /** the --schedule given (a file path, random:SEED, preview or final), for the k6 engine */
  schedule?: string;
  engine: "auto" | "k6" | "built-in";
  maxVus?: number;
  durationScale: number;
  target: string;
  emulators: "start" | "running";
  defaultUrl: string;
  fallbackUrl: string;
  token: string;
  participant: string;
  out?: string;
  floorFile?: string;
  assertClean: boolean;
  floor: boolean;
  floorSeconds: number;
  caddyfile: string;
}

export function parse(argv: string[]): Args {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string" },
      schedule: { type: "string" },
      engine: { type: "string" },
      "max-vus": { type: "string" },
      "duration-scale": { type: "string" },
      target: { type: "string" },
      emulators: { type: "string" },
      "default-url": { type: "string" },
      "fallback-url": { type: "string" },
      token: { type: "string" },
      participant: { type: "string" },
      out: { type: "string" },
      "floor-file": { type: "string" },
      "assert-clean": { type: "boolean" },
      floor: { type: "boolean" },
      "floor-seconds": { type: "string" },
      caddyfile: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (v.help) throw new UsageError("");
  if (v.schedule !== undefined && v.scenario !== undefined)
    throw new UsageError("give --scenario or --schedule, not both");
  let scenario: Scenario | undefined;
  if (v.schedule !== undefined) {
    try {
      scenario = scheduleByName(v.schedule);
    } catch (e) {
      throw new UsageError(`--schedule: ${(e as Error).message}`);
    }
  } else scenario = SCENARIOS[v.scenario as "preview" | "final"];
  if (!scenario) throw new UsageError(`--scenario must be preview or final, got ${JSON.stringify(v.scenario)}`);
  const engine = v.engine ?? "auto";
  if (engine !== "auto" && engine !== "k6" && engine !== "built-in")
    throw new UsageError(`--engine must be auto, k6 or built-in, got ${engine}`);
  const emulators = v.emulators ?? "start";
  if (emulators !== "start" && emulators !== "running")
    throw new UsageError(`--emulators must be start or running, got ${emulators}`);
  return {
    scenario,
    schedule: v.schedule,
    engine,
    maxVus: v["max-vus"] === undefined ? undefined : positive("--max-vus", v["max-vus"], true),
    durationScale: v["duration-scale"] === undefined ? 1 : positive("--duration-scale", v["duration-scale"]),
    target: v.target ?? "http://localhost:9999",
    emulators,
    defaultUrl: v["default-url"] ?? "http://127.0.0.1:8001",
    fallbackUrl: v["fallback-url"] ?? "http://127.0.0.1:8002",
    token: v.token ?? "123",
    participant: v.participant ?? "rinha-payments",
    out: v.out,
    floorFile: v["floor-file"],
    assertClean: Boolean(v["assert-clean"]),
    floor: Boolean(v.floor),
    floorSeconds: v["floor-seconds"] === undefined ? 20 : positive("--floor-seconds", v["floor-seconds"]),
    caddyfile: v.caddyfile ?? "tools/contest/floor.Caddyfile",
  };
}

function positive(name: string, s: string, integer = false): number {
  const n = Number(s);
  if (!(n > 0) || (integer && !Number.isInteger(n)))
    throw new UsageError(`${name} must be a positive ${integer ? "integer" : "number"}, got ${s}`);
  return n;
}

export class UsageError extends Error {}
