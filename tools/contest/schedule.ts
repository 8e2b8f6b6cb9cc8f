// Stage schedules beyond the two official ones: a seeded random family (the processors' "surprises" are
// not known in advance, so the router is judged on many schedules) and a JSON file form shared by the
// simulator, the contest runner and the k6 scripts (SCHEDULE_FILE), so a bad schedule can be replayed.
import { readFileSync } from "node:fs";
import { Rng } from "../lib/rng";
import { SCENARIOS, type Scenario, type Stage } from "./scenarios";

/** Delays the official schedules use; a third of the random stages pick any delay in 0..5,000 ms instead. */
const DELAY_MENU = [0, 5, 10, 20, 50, 100, 103, 500, 1000, 2000, 5000];
const FAILING_SHARE = 0.25;

/**
 * A random schedule: a run of 60-300 s, stages of 8-40 s, each processor's delay anywhere in 0..5,000 ms and
 * failing in about a quarter of the stages, one of the two official rule sets (fees, audit, teardown).
 * The same seed gives the same schedule on any machine.
 */
export function randomSchedule(seed: number): Scenario {
  const rng = new Rng(seed);
  const rules = SCENARIOS[rng.pick(["preview", "final"] as const)];
  const durationS = rng.int(60, 300);
  const delay = () => (rng.chance(1 / 3) ? rng.int(0, 5000) : rng.pick(DELAY_MENU));
  const stages: Stage[] = [{ at: 1, defaultDelay: 0, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false }];
  for (let at = 1 + rng.int(8, 40); at < durationS; at += rng.int(8, 40))
    stages.push({
      at,
      defaultDelay: delay(),
      defaultFailure: rng.chance(FAILING_SHARE),
      fallbackDelay: delay(),
      fallbackFailure: rng.chance(FAILING_SHARE),
    });
  return {
    ...rules,
    name: `random:${seed}`,
    durationS,
    maxVus: rng.int(500, 603),
    fees: { ...rules.fees },
    check: { ...rules.check },
    teardown: { ...rules.teardown, windowS: Math.max(rules.teardown.windowS, durationS + 10) },
    stages,
  };
}

/** "preview", "final", "random:SEED" or the path of a JSON schedule file. */
export function scheduleByName(spec: string): Scenario {
  if (spec === "preview" || spec === "final") return SCENARIOS[spec];
  const m = /^random:(\d+)$/.exec(spec);
  if (m) return randomSchedule(Number(m[1]));
  if (spec.endsWith(".json")) return scheduleFromJson(readFileSync(spec, "utf8"), spec);
  throw new Error(`schedule ${JSON.stringify(spec)}: expected preview, final, random:SEED or a .json file`);
}

/** The file form: the Scenario fields, stages as {at, defaultDelay, defaultFailure, fallbackDelay, ...}. */
export function scheduleToJson(s: Scenario): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

export function scheduleFromJson(text: string, where = "schedule"): Scenario {
  const o = JSON.parse(text) as Partial<Scenario>;
  const bad = (what: string) => new Error(`${where}: ${what} (write one with: npm run sim -- --write-schedule)`);
  const base = SCENARIOS[o.teardown?.source === "backend" ? "preview" : "final"];
  if (!(Number(o.durationS) > 0)) throw bad("durationS must be a positive number of seconds");
  if (!(Number.isInteger(o.maxVus) && o.maxVus! > 0)) throw bad("maxVus must be a positive integer");
  if (!o.fees || !(o.fees.default >= 0 && o.fees.fallback >= 0)) throw bad("fees.default and fees.fallback needed");
  if (!Array.isArray(o.stages) || o.stages.length === 0) throw bad("stages must be a non-empty list");
  let last = -1;
  for (const st of o.stages) {
    const ok = st.at > last && st.defaultDelay >= 0 && st.fallbackDelay >= 0 && typeof st.defaultFailure === "boolean";
    if (!ok || typeof st.fallbackFailure !== "boolean")
      throw bad(`stage ${JSON.stringify(st)}: needs increasing at, delays >= 0 and boolean failures`);
    last = st.at;
  }
  return {
    ...base,
    ...o,
    name: o.name ?? where,
    script: o.script ?? base.script,
    check: { ...base.check, ...o.check },
    teardown: { ...base.teardown, ...o.teardown },
  } as Scenario;
}
