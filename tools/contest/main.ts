// The contest runner: npx tsx tools/contest/main.ts --scenario preview|final [options] (see args.ts).
// Exit 0 when the run completed (whatever the score), 1 when --assert-clean found a problem,
// 2 when it could not run, 3 when the stage changes failed (the scenario was not reproduced).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Args, parse, USAGE, UsageError } from "./args";
import { stopChildren } from "./children";
import { type Floor, runFloor } from "./floor";
import { engineOf, findK6, runK6 } from "./k6";
import { reportHtml } from "./report-html";
import { officialOf } from "./results";
import { log, type RunResult, runContest } from "./run";

async function main(): Promise<number> {
  let a: Args;
  try {
    a = parse(process.argv.slice(2));
  } catch (e) {
    const msg = (e as Error).message;
    process.stderr.write(`${msg ? `${msg}\n` : ""}${USAGE}\n`);
    return e instanceof UsageError && !msg ? 0 : 2;
  }
  try {
    return a.floor ? await floorMain(a) : await contestMain(a);
  } catch (e) {
    process.stderr.write(`\ncontest: could not run: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await stopChildren();
  }
}

async function contestMain(a: Args): Promise<number> {
  const k6 = findK6();
  if (engineOf(a, k6) === "k6") return k6Main(a, k6!);
  log("engine: built-in (the runner's own VUs)");
  const floorPath = a.floorFile ?? (existsSync("results/floor.json") ? "results/floor.json" : undefined);
  const floor = floorPath ? (JSON.parse(readFileSync(floorPath, "utf8")) as Floor) : null;
  const r = await runContest(a);
  const official = officialOf({
    participant: a.participant,
    maxVus: r.plan.maxVus,
    accepted: r.accepted,
    failed: r.failed,
    inconsistencies: r.inconsistencies,
    score: r.score,
  });
  const out = outDir(a);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, "results.json"),
    `${JSON.stringify({ ...official, extra: { engine: "built-in", ...extraOf(a, r, floor, floorPath) } }, null, 2)}\n`,
  );
  writeFileSync(
    join(out, "report.html"),
    reportHtml(r, official, floor, `Rinha 2025 ${a.scenario.name} — ${a.participant}`),
  );
  printSummary(r, floor);
  log(`wrote ${join(out, "results.json")} and ${join(out, "report.html")}`);

  if (r.stages.some((s) => !s.ok)) {
    log("some stage changes were refused by the processors: this run did not reproduce the scenario");
    return 3;
  }
  if (a.assertClean) {
    const problems = [
      r.inconsistencies !== 0 || r.checksWithDifference !== 0
        ? `inconsistencies ${r.inconsistencies} (${r.checksWithDifference} checks differed)`
        : "",
      r.score.lag !== 0 ? `lag ${r.score.lag}` : "",
      r.failed !== 0 ? `failed POSTs ${r.failed}` : "",
      r.teardown.ok ? "" : "the teardown summaries failed",
    ].filter(Boolean);
    if (problems.length) {
      log(`--assert-clean: NOT clean: ${problems.join(", ")}`);
      return 1;
    }
    log("--assert-clean: clean (0 inconsistencies, lag 0, 0 failed POSTs)");
  }
  return 0;
}

function outDir(a: Args): string {
  return a.out ?? join("results", `${a.scenario.name.replace(/[^\w.-]+/g, "-")}-${stamp()}`);
}

/** The k6 engine: k6's own results file, its p99 and score, and the same --assert-clean checks. */
async function k6Main(a: Args, k6: string): Promise<number> {
  const out = outDir(a);
  mkdirSync(out, { recursive: true });
  const o = await runK6(a, k6, out);
  writeFileSync(join(out, "results.json"), `${JSON.stringify({ ...o, extra: { engine: "k6", k6 } }, null, 2)}\n`);
  const fails = o.pagamentos_solicitados.qtd_falha;
  const bad = o.multa.composicao.num_inconsistencias;
  log(
    `engine: k6; score ${o.total_liquido.toFixed(2)}, p99 ${o.p99.valor}, accepted ` +
      `${o.pagamentos_solicitados.qtd_sucesso}, failed ${fails}, lag ${o.lag.lag}, inconsistencies ${bad}`,
  );
  log(`wrote ${join(out, "results.json")}`);
  if (a.assertClean && (fails !== 0 || bad !== 0 || o.lag.lag !== 0)) {
    log("--assert-clean: NOT clean");
    return 1;
  }
  return 0;
}

function extraOf(a: Args, r: RunResult, floor: Floor | null, floorPath?: string) {
  return {
    runner: "tools/contest (rinha-payments)",
    scenario: a.scenario.name,
    mirrors: a.scenario.script,
    target: a.target,
    emulators: a.emulators,
    duration_s: r.plan.durationMs / 1000,
    duration_scale: a.durationScale,
    max_vus: r.plan.maxVus,
    amount: a.scenario.amount,
    fees: a.scenario.fees,
    wall_s: r.wallS,
    p99_raw_ms: r.p99RawMs,
    p50_ms: r.p50Ms,
    p99_posts_only_ms: r.postP99Ms,
    requests_timed: r.requestsTimed,
    floor: floor ? { file: floorPath, legs: floor.legs } : null,
    ceiling: r.ceiling,
    share_of_ceiling: r.ceiling ? r.score.score / r.ceiling : 0,
    liquid_by_processor: { default: r.score.default.total_liquido, fallback: r.score.fallback.total_liquido },
    posts: { accepted: r.accepted, failed: r.failed, timeouts: r.timeouts, statuses: r.statuses },
    consistency: {
      formula: a.scenario.check.formula,
      window_ms: [a.scenario.check.fromAgoMs, a.scenario.check.toAgoMs],
      total: r.inconsistencies,
      checks_with_difference: r.checksWithDifference,
      checks: r.checks,
    },
    teardown: r.teardown,
    stages: r.stages,
    runner_cost: r.runner,
    series: r.series,
  };
}

function printSummary(r: RunResult, floor: Floor | null): void {
  const s = r.score;
  const floorTxt = floor?.legs.length ? ` (floor ${floor.legs.map((l) => `${l.via} ${l.p99Ms}`).join(", ")} ms)` : "";
  const lines = [
    `score ${s.score.toFixed(2)} = liquid ${s.liquidPartial.toFixed(2)} x (1 + ${s.bonusPct}% - ${s.finePct}%); ` +
      `ceiling ${r.ceiling.toFixed(2)} (${r.ceiling ? ((100 * s.score) / r.ceiling).toFixed(1) : 0}%)`,
    `p99 ${s.p99} ms${floorTxt} over ${r.requestsTimed} requests (POSTs alone ${r.postP99Ms.toFixed(2)} ms); p50 ` +
      `${r.p50Ms.toFixed(3)} ms`,
    `accepted ${r.accepted}, failed ${r.failed} (timeouts ${r.timeouts}); counted ${s.counted} (default ` +
      `${s.default.num_pagamentos}, fallback ${s.fallback.num_pagamentos}); lag ` +
      `${s.lag}${s.disqualified ? " NEGATIVE: disqualified" : ""}`,
    `inconsistencies ${r.inconsistencies} over ${r.checks.length} checks (${r.checksWithDifference} differed)`,
    `runner CPU ${r.runner.cpuMeanPct.toFixed(0)}% mean / ${r.runner.cpuMaxPct.toFixed(0)}% max of one core at >= ` +
      `${r.runner.cpuAtVus} VUs; event-loop p99 max ${r.runner.loopP99MaxMs.toFixed(2)} ms`,
  ];
  for (const l of lines) log(l);
}

async function floorMain(a: Args): Promise<number> {
  const floor = await runFloor(a);
  const files = ["results/floor.json", ...(a.out ? [join(a.out, "floor.json")] : [])];
  for (const f of files) {
    mkdirSync(join(f, ".."), { recursive: true });
    writeFileSync(f, `${JSON.stringify(floor, null, 2)}\n`);
  }
  log(`wrote ${files.join(" and ")}`);
  return 0;
}

function stamp(): string {
  return new Date()
    .toISOString()
    .replace(/[:.]/g, "-")
    .replace(/-\d{3}Z$/, "Z");
}

process.exit(await main());
