// The schedule family: the router run over many random stage schedules plus the two official ones, with
// the share of the ceiling, the oracle's bound, the lag at the end, P(fine) and the held backlog over time.
import type { RouterParams } from "../../handlers/policy";
import type { Policy } from "./policies";
import { table } from "./report";
import { OFFICIAL, type SimScenario, simSchedule } from "./scenarios";
import { type Model, type SimResult, simulate } from "./world";

export interface FamilyRow {
  name: string;
  durationS: number;
  fees: string;
  result: SimResult;
  /** expected share / min(1, the oracle's share): how close to the best any policy could do */
  vsBound: number;
}

export interface FamilySummary {
  rows: FamilyRow[];
  meanShare: number;
  worstShare: number;
  worstVsBound: number;
  worst: string;
  meanPFine: number;
  maxPFine: number;
  meanLag: number;
  maxLag: number;
  /** mean of min(1, the oracle's share), and of share / that bound */
  meanBound: number;
  meanVsBound: number;
  /** schedules within the goals: P(fine) <= 1%, share >= 93% of the bound */
  fineOk: number;
  boundOk: number;
}

/** The official schedules as named members, then random:first .. random:first+n-1. */
export function familyMembers(n: number, first = 1): SimScenario[] {
  return [OFFICIAL.preview, OFFICIAL.final, ...Array.from({ length: n }, (_, i) => simSchedule(`random:${first + i}`))];
}

export function runFamily(
  members: SimScenario[],
  policy: Policy,
  opts: { seed?: number; params?: Partial<Omit<RouterParams, "fees">>; model?: Partial<Model> } = {},
  onRow?: (r: FamilyRow) => void,
): FamilySummary {
  const rows = members.map((scenario) => {
    const result = simulate({ scenario, policy, seed: opts.seed ?? 1, params: opts.params, model: opts.model });
    const row: FamilyRow = {
      name: scenario.name,
      durationS: scenario.durationMs / 1000,
      fees: `${Math.round(scenario.fees.default * 100)}/${Math.round(scenario.fees.fallback * 100)}%`,
      result,
      vsBound: result.expectedShare / Math.min(1, result.boundShare || 1),
    };
    onRow?.(row);
    return row;
  });
  const random = rows.filter((r) => r.name.startsWith("random:"));
  const judged = random.length ? random : rows;
  const worstRow = judged.reduce((a, r) => (r.vsBound < a.vsBound ? r : a));
  const mean = (f: (r: FamilyRow) => number) => judged.reduce((a, r) => a + f(r), 0) / judged.length;
  return {
    rows,
    meanShare: mean((r) => r.result.expectedShare),
    worstShare: Math.min(...judged.map((r) => r.result.expectedShare)),
    worstVsBound: worstRow.vsBound,
    worst: worstRow.name,
    meanPFine: mean((r) => r.result.audit.pCaught),
    maxPFine: Math.max(...judged.map((r) => r.result.audit.pCaught)),
    meanLag: mean((r) => r.result.lag),
    maxLag: Math.max(...judged.map((r) => r.result.lag)),
    meanBound: mean((r) => Math.min(1, r.result.boundShare || 1)),
    meanVsBound: mean((r) => r.vsBound),
    fineOk: judged.filter((r) => r.result.audit.pCaught <= 0.01).length,
    boundOk: judged.filter((r) => r.vsBound >= 0.93).length,
  };
}

const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)}%`;

/** The backlog every tenth of the run, in payments: where the router held a bet it could lose at the end. */
export function backlogSketch(r: SimResult, points = 10): string {
  const b = r.backlog;
  return Array.from(
    { length: points },
    (_, i) => b[Math.min(b.length - 1, Math.round(((i + 1) * b.length) / points) - 1)],
  )
    .map((x) => String(x ?? 0))
    .join(" ");
}

export function familyTable(rows: FamilyRow[]): string {
  const head = ["schedule", "s", "fees", "E/ceil", "bound", "vs bound", "P(fine)", "lag", "max backlog", "backlog/10"];
  return table([
    head,
    ...rows.map((r) => [
      r.name,
      String(r.durationS),
      r.fees,
      pct(r.result.expectedShare),
      pct(r.result.boundShare),
      pct(r.vsBound),
      pct(r.result.audit.pCaught, 1),
      String(r.result.lag),
      String(Math.max(...r.result.backlog)),
      backlogSketch(r.result),
    ]),
  ]);
}

export function familySummaryText(s: FamilySummary, policy: string): string {
  const n = s.rows.filter((r) => r.name.startsWith("random:")).length;
  return [
    `${policy} over ${n} random schedules: mean E/ceil ${pct(s.meanShare)}, worst ${pct(s.worstShare)}, ` +
      `worst vs bound ${pct(s.worstVsBound)} (${s.worst}), P(fine) mean ${pct(s.meanPFine, 2)} max ` +
      `${pct(s.maxPFine, 1)}, lag mean ${Math.round(s.meanLag)} max ${s.maxLag}`,
    `  mean bound ${pct(s.meanBound)}, mean vs bound ${pct(s.meanVsBound)}, P(fine) <= 1% in ${s.fineOk} of ${n}, ` +
      `>= 93% of the bound in ${s.boundOk} of ${n}`,
    ...s.rows
      .filter((r) => !r.name.startsWith("random:"))
      .map((r) => `${r.name}: E/ceil ${pct(r.result.expectedShare)}, P(fine) ${pct(r.result.audit.pCaught, 1)}`),
  ].join("\n");
}
