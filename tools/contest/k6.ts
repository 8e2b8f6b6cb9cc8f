// The k6 engine: the same schedule played by k6 (tools/k6, SCHEDULE_FILE) instead of the runner's own VUs,
// for a p99 measured by the contest's own tool. The runner starts the emulators with the schedule's fees.
import { accessSync, constants, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Args } from "./args";
import { spawnCmd } from "./children";
import { startEmulators } from "./emulators";
import type { Official } from "./results";
import { log } from "./run";
import { scheduleToJson } from "./schedule";

/** K6 (a path) when set, else k6 on PATH; undefined when neither is there. */
export function findK6(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.K6 ? [env.K6] : (env.PATH ?? "").split(delimiter).map((d) => join(d, "k6"));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Which engine measures this run: built-in, or k6 when asked (an error if absent) or when auto finds it. */
export function engineOf(a: Pick<Args, "engine" | "durationScale">, k6: string | undefined): "k6" | "built-in" {
  if (a.engine === "k6" && !k6) throw new Error("--engine k6: no k6 found; set K6=/path/to/k6 or put k6 on PATH");
  // k6 plays the schedule as it is: a stretched or shrunk run stays with the built-in engine
  return a.engine === "k6" || (a.engine === "auto" && k6 && a.durationScale === 1) ? "k6" : "built-in";
}

/** Plays the schedule with k6 and returns its results file (the official shape). */
export async function runK6(a: Args, k6: string, out: string): Promise<Official> {
  if (a.durationScale !== 1) throw new Error("--duration-scale is built-in only; k6 plays the schedule as it is");
  const sc = a.scenario;
  if (a.emulators === "start") await startEmulators({ default: a.defaultUrl, fallback: a.fallbackUrl }, sc.fees);
  const schedule = join(out, "schedule.json");
  const results = join(out, "k6-results.json");
  writeFileSync(schedule, scheduleToJson(sc));
  const script = sc.teardown.source === "backend" ? "tools/k6/rinha.js" : "tools/k6/rinha-final.js";
  log(`engine: k6 (${k6}) playing ${sc.name} with ${script}, SCHEDULE_FILE=${schedule}`);
  const child = spawnCmd("k6", k6, ["run", "--quiet", script], {
    SCHEDULE_FILE: schedule,
    BASE_URL: a.target,
    PP_DEFAULT_URL: a.defaultUrl,
    PP_FALLBACK_URL: a.fallbackUrl,
    TOKEN: a.token,
    MAX_REQUESTS: String(a.maxVus ?? sc.maxVus),
    PARTICIPANT: a.participant,
    RESULTS_FILE: results,
  });
  const end = await child.exited;
  if (end.code !== 0) throw new Error(`k6 ended with ${end.code ?? end.signal}:\n${child.output()}`);
  return JSON.parse(readFileSync(results, "utf8")) as Official;
}
