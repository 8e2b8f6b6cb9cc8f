// The two official scenarios (docs/contest.md "The two official scenarios"). Times in seconds.

export interface Stage {
  at: number;
  defaultDelay: number;
  defaultFailure: boolean;
  fallbackDelay: number;
  fallbackFailure: boolean;
}

export interface Scenario {
  name: string;
  script: string; // the official k6 file it mirrors
  durationS: number;
  maxVus: number;
  amount: number;
  fees: { default: number; fallback: number };
  /** consistency window: [now - fromAgoMs, now - toAgoMs] */
  check: { fromAgoMs: number; toAgoMs: number; formula: "signed" | "absolute"; everyMs: number };
  /** where counted money and lag come from at the end, and how far back it looks */
  teardown: { source: "backend" | "processors"; windowS: number };
  stages: Stage[];
}

const s = (
  at: number,
  defaultDelay: number,
  defaultFailure: boolean,
  fallbackDelay: number,
  fallbackFailure: boolean,
): Stage => ({ at, defaultDelay, defaultFailure, fallbackDelay, fallbackFailure });

export const SCENARIOS: Record<"preview" | "final", Scenario> = {
  preview: {
    name: "preview",
    script: "rinha.js",
    durationS: 60,
    maxVus: 550,
    amount: 19.9,
    fees: { default: 0.05, fallback: 0.15 },
    check: { fromAgoMs: 15_000, toAgoMs: 1_500, formula: "signed", everyMs: 10_000 },
    teardown: { source: "backend", windowS: 70 },
    stages: [
      s(1, 0, false, 0, false),
      s(10, 100, false, 0, false),
      s(20, 100, true, 0, false),
      s(30, 2000, true, 1000, true),
      s(40, 20, false, 20, false),
      s(50, 0, false, 5000, false),
    ],
  },
  final: {
    name: "final",
    script: "rinha-final.js",
    durationS: 300,
    maxVus: 603,
    amount: 20.05,
    fees: { default: 0.07, fallback: 0.1 },
    check: { fromAgoMs: 15_000, toAgoMs: 2_000, formula: "absolute", everyMs: 10_000 },
    teardown: { source: "processors", windowS: 360 },
    stages: [
      s(1, 0, false, 0, false),
      s(30, 1000, false, 0, false),
      s(60, 500, false, 0, false),
      s(90, 2000, true, 1000, false),
      s(120, 5000, true, 5, false),
      s(150, 0, false, 5, true),
      s(180, 100, false, 5, false),
      s(210, 50, false, 0, false),
      s(240, 103, false, 10, false),
      s(270, 2000, false, 0, false),
    ],
  },
};

/** The run plan after --max-vus / --duration-scale. */
export interface Plan {
  scenario: Scenario;
  durationMs: number;
  maxVus: number;
  stageAtMs: number[];
  teardownWindowMs: number;
}

export function planOf(scenario: Scenario, opts: { maxVus?: number; durationScale?: number }): Plan {
  const k = opts.durationScale ?? 1;
  if (!(k > 0)) throw new Error(`--duration-scale must be > 0, got ${k}`);
  const durationMs = Math.round(scenario.durationS * 1000 * k);
  return {
    scenario,
    durationMs,
    maxVus: opts.maxVus ?? scenario.maxVus,
    // Stage times scale with the run; the checker's windows and period do not (they measure the backend).
    stageAtMs: scenario.stages.map((st) => Math.round(st.at * 1000 * k)),
    // The teardown window must still cover the whole run when it is stretched.
    teardownWindowMs: Math.max(scenario.teardown.windowS * 1000, durationMs + 10_000),
  };
}

/** k6 ramping-vus from 1 to max over the run: VU i (0-based) starts at i/(max-1) of the duration. */
export function vuStartMs(i: number, max: number, durationMs: number): number {
  return max <= 1 ? 0 : Math.floor((i / (max - 1)) * durationMs);
}
