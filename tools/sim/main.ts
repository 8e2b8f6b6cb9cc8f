// Offline simulator of the two official stage schedules, to compare routing policies.
//   npx tsx tools/sim/main.ts [--scenario preview|final|both] [--policy NAME[,NAME...]|all] [--seed N] [--seeds K]
//                             [--unsafe MS] [--probe MS] [--cooldown MS] [--max-hold MS] [--fee-hold MS] [--poll-ms MS]
//                             [--sweep] [--timeline] [--json]
//   npx tsx tools/sim/main.ts --family N [--first S] [--policy NAME] [--quiet]   random:S..S+N-1 + the official two
//   npx tsx tools/sim/main.ts --schedule random:SEED|FILE.json [--write-schedule FILE.json]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { RouterParams } from "../../handlers/policy";
import { scheduleByName, scheduleToJson } from "../contest/schedule";
import { familyMembers, familySummaryText, familyTable, runFamily } from "./family";
import { oursOverdue, POLICIES, type Policy, policyByName } from "./policies";
import { comparison, header, table, timelineText } from "./report";
import { fromContest, OFFICIAL, type SimScenario } from "./scenarios";
import { type Model, type SimResult, simulate } from "./world";

const USAGE =
  "usage: npx tsx tools/sim/main.ts [--scenario preview|final|both] [--policy NAME[,NAME...]|all]\n" +
  "  [--seed N] [--seeds K] [--unsafe MS] [--probe MS] [--cooldown MS] [--max-hold MS] [--fee-hold MS]\n" +
  "  [--horizon MS] [--overdue MS] [--slots N] [--scout 0|1] [--poll-ms MS] [--sweep] [--timeline] [--json]\n" +
  "  --family N [--first S] [--quiet]: the official two and random:S..S+N-1, one policy (default ours)\n" +
  "  --schedule preview|final|random:SEED|FILE.json [--write-schedule FILE.json]\n" +
  `policies: ${POLICIES.map((p) => p.name).join(", ")}, ours+overdueN (margin N ms), <policy>+patientNs`;

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "both" },
    policy: { type: "string", default: "all" },
    seed: { type: "string", default: "1" },
    seeds: { type: "string" },
    unsafe: { type: "string" },
    probe: { type: "string" },
    cooldown: { type: "string" },
    "max-hold": { type: "string" },
    "fee-hold": { type: "string" },
    horizon: { type: "string" },
    overdue: { type: "string" },
    slots: { type: "string" },
    scout: { type: "string" },
    "poll-ms": { type: "string" },
    sweep: { type: "boolean", default: false },
    timeline: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    family: { type: "string" },
    first: { type: "string", default: "1" },
    quiet: { type: "boolean", default: false },
    schedule: { type: "string" },
    "write-schedule": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} ${v}: expected a number >= 0\n${USAGE}`);
  return n;
}

type Params = Partial<Omit<RouterParams, "fees">>;
if (values["write-schedule"]) {
  const spec = values.schedule ?? "random:1";
  writeFileSync(values["write-schedule"], scheduleToJson(scheduleByName(spec)));
  console.log(`wrote ${spec} to ${values["write-schedule"]} (replay: npm run contest -- --schedule FILE)`);
  process.exit(0);
}
const scenarios: SimScenario[] = values.schedule
  ? values.schedule.split(",").map((x) => fromContest(scheduleByName(x.trim())))
  : values.scenario === "both"
    ? [OFFICIAL.preview, OFFICIAL.final]
    : values.scenario === "preview" || values.scenario === "final"
      ? [OFFICIAL[values.scenario]]
      : (() => {
          throw new Error(`--scenario ${values.scenario}: expected preview, final or both\n${USAGE}`);
        })();
const policies: Policy[] =
  values.policy === "all" ? POLICIES : values.policy!.split(",").map((n) => policyByName(n.trim()));
const seed0 = num("seed", values.seed) ?? 1;
const nSeeds = num("seeds", values.seeds) ?? (values.sweep ? 3 : 1);
const seeds = Array.from({ length: Math.max(1, nSeeds) }, (_, i) => seed0 + i);
const overrides: Params = {};
const set = (k: Exclude<keyof Params, "scoutOnChange">, v: number | undefined) => {
  if (v !== undefined) overrides[k] = v;
};
if (values.scout !== undefined) overrides.scoutOnChange = num("scout", values.scout) !== 0;
set("unsafeLatencyMs", num("unsafe", values.unsafe));
set("probeIntervalMs", num("probe", values.probe));
set("errorCooldownMs", num("cooldown", values.cooldown));
set("maxHoldMs", num("max-hold", values["max-hold"]));
set("feeHoldMs", num("fee-hold", values["fee-hold"]));
set("holdHorizonMs", num("horizon", values.horizon));
set("overdueMarginMs", num("overdue", values.overdue));
set("processorSlots", num("slots", values.slots));

const pollMs = num("poll-ms", values["poll-ms"]);
const model: Partial<Model> = pollMs === undefined ? {} : { pollEveryMs: pollMs };

const all: SimResult[] = [];
const run = (scenario: SimScenario, policy: Policy, params: Params) =>
  seeds.map((seed) => {
    const r = simulate({ scenario, policy, seed, params, model });
    all.push(r);
    return r;
  });
const mean = (rs: SimResult[], f: (r: SimResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)}%`;

if (values.family !== undefined) {
  const n = num("family", values.family) ?? 200;
  const policy = values.policy === "all" ? policyByName("ours") : policies[0]!;
  const members = familyMembers(n, num("first", values.first) ?? 1);
  const s = runFamily(members, policy, { seed: seed0, params: overrides, model }, (r) => {
    if (!values.quiet && !values.json) console.log(familyTable([r]).split("\n")[1]);
  });
  if (values.json) console.log(JSON.stringify(s.rows.map((r) => ({ ...r, result: { ...r.result, timeline: [] } }))));
  else console.log(`\n${familyTable(s.rows)}\n\n${familySummaryText(s, policy.name)}`);
  process.exit(0);
}

if (!values.sweep) {
  for (const sc of scenarios) {
    const bySeed: SimResult[][] = [];
    for (const seed of seeds) {
      const results = policies.map((policy) => simulate({ scenario: sc, policy, seed, params: overrides, model }));
      all.push(...results);
      bySeed.push(results);
      if (values.json) continue;
      console.log(`\n${header(results[0]!)}\n${comparison(results)}`);
      if (values.timeline)
        for (const r of results) console.log(`\n${r.scenario} / ${r.policy}, per second:\n${timelineText(r)}`);
    }
    if (seeds.length > 1 && !values.json) {
      const rows = [["policy", "E[score]/ceil mean", "min", "max", "P(fine) mean", "fallback mean", "lag max"]];
      policies.forEach((p, i) => {
        const rs = bySeed.map((b) => b[i]!);
        const e = rs.map((r) => r.expectedShare);
        rows.push([
          p.name,
          pct(mean(rs, (r) => r.expectedShare)),
          pct(Math.min(...e)),
          pct(Math.max(...e)),
          pct(
            mean(rs, (r) => r.audit.pCaught),
            1,
          ),
          String(Math.round(mean(rs, (r) => r.processors.fallback.counted))),
          String(Math.max(...rs.map((r) => r.lag))),
        ]);
      });
      console.log(`\n${sc.name}, seeds ${seeds.join(",")}:\n${table(rows)}`);
    }
  }
} else {
  // One knob at a time around the defaults; each cell is the mean over the seeds.
  const swept = values.policy === "all" ? [policyByName("ours"), policyByName("proposed")] : policies;
  type Knob = { title: string; values: number[]; apply: (p: Policy, v: number) => [Policy, Params] };
  const param = (key: keyof Params, vals: number[]): Knob => ({
    title: key,
    values: vals,
    apply: (p, v) => [p, { ...overrides, [key]: v }],
  });
  const knobs: Knob[] = [
    param("unsafeLatencyMs", [300, 500, 800, 1000, 1100, 1200, 1500, 2000, 3000]),
    param("probeIntervalMs", [100, 500, 1000, 2000, 5000]),
    param("errorCooldownMs", [250, 1000, 2000, 4000]),
    param("maxHoldMs", [2000, 30_000]),
    param("staleLatencyMs", [1000, 3000, 5000, 7000, 12_000]),
  ];
  for (const policy of swept) {
    const ks = [...knobs];
    if (policy.name.startsWith("ours+overdue") || policy.name === "proposed") {
      // The margin is the policy itself: rebuild it per value (keeping its forwarding model).
      ks.push({
        title: "overdue margin (ms)",
        values: [50, 100, 250, 500, 1000],
        apply: (p, v) => [{ ...oursOverdue(v), name: `${p.name}@${v}`, model: p.model, params: p.params }, overrides],
      });
    }
    for (const k of ks) {
      const head = [
        `${policy.name}: ${k.title}`,
        ...scenarios.flatMap((sc) => [`${sc.name} E/ceil`, "P(fine)", "fallback", "lag"]),
        "mean E/ceil",
      ];
      const rows: string[][] = [head];
      for (const v of k.values) {
        const [p, params] = k.apply(policy, v);
        const per = scenarios.map((sc) => run(sc, p, params));
        const cells = per.flatMap((rs) => [
          pct(mean(rs, (r) => r.expectedShare)),
          pct(
            mean(rs, (r) => r.audit.pCaught),
            1,
          ),
          String(Math.round(mean(rs, (r) => r.processors.fallback.counted))),
          String(Math.round(mean(rs, (r) => r.lag))),
        ]);
        rows.push([String(v), ...cells, pct(mean(per.flat(), (r) => r.expectedShare))]);
      }
      if (!values.json) console.log(`\n${table(rows)}   (seeds ${seeds.join(",")})`);
    }
  }
}

if (values.json)
  console.log(
    JSON.stringify(
      all.map(({ timeline: _t, ...r }) => r),
      (_k, v) => (v === Number.POSITIVE_INFINITY ? "Infinity" : v),
      2,
    ),
  );
