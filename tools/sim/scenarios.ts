// The stage schedules the simulator plays: the two official ones (taken from tools/contest/scenarios.ts,
// docs/contest.md) and small made-up ones for tests.
import type { ProcessorName } from "../../handlers/contract/types";
import { SCENARIOS, type Scenario } from "../contest/scenarios";
import { scheduleByName } from "../contest/schedule";

export interface ProcessorState {
  delayMs: number;
  failing: boolean;
}

export interface SimStage {
  atMs: number;
  default: ProcessorState;
  fallback: ProcessorState;
}

export interface SimScenario {
  name: string;
  durationMs: number;
  maxVus: number;
  amountCents: number;
  fees: Record<ProcessorName, number>;
  /** The auditor's window is [now - auditFromMs, now - auditOffsetMs]. */
  auditOffsetMs: number;
  auditFromMs: number;
  auditEveryMs: number;
  /** What the score counts at teardown: our ledger (preview) or the processors' rows (final). */
  countedFrom: "backend" | "processors";
  /** Stages in time order; before the first one both processors are at delay 0, not failing. */
  stages: SimStage[];
}

export const OFFICIAL: Record<"preview" | "final", SimScenario> = {
  preview: fromContest(SCENARIOS.preview),
  final: fromContest(SCENARIOS.final),
};

/** "preview", "final", "random:SEED" (tools/contest/schedule.ts) or a JSON schedule file. */
export function simSchedule(spec: string): SimScenario {
  return fromContest(scheduleByName(spec));
}

export function fromContest(s: Scenario): SimScenario {
  return {
    name: s.name,
    durationMs: s.durationS * 1000,
    maxVus: s.maxVus,
    amountCents: Math.round(s.amount * 100),
    fees: { ...s.fees },
    auditOffsetMs: s.check.toAgoMs,
    auditFromMs: s.check.fromAgoMs,
    auditEveryMs: s.check.everyMs,
    countedFrom: s.teardown.source,
    stages: s.stages.map((st) => ({
      atMs: st.at * 1000,
      default: { delayMs: st.defaultDelay, failing: st.defaultFailure },
      fallback: { delayMs: st.fallbackDelay, failing: st.fallbackFailure },
    })),
  };
}

/** A made-up schedule: `[atSeconds, defaultDelay, defaultFailing, fallbackDelay, fallbackFailing]` rows. */
export function customScenario(
  base: Partial<Omit<SimScenario, "stages">> & { name: string },
  rows: [number, number, boolean, number, boolean][],
): SimScenario {
  return {
    durationMs: 10_000,
    maxVus: 50,
    amountCents: 1990,
    fees: { default: 0.05, fallback: 0.15 },
    auditOffsetMs: 1500,
    auditFromMs: 15_000,
    auditEveryMs: 10_000,
    countedFrom: "processors",
    ...base,
    stages: rows.map(([at, dd, df, fd, ff]) => ({
      atMs: at * 1000,
      default: { delayMs: dd, failing: df },
      fallback: { delayMs: fd, failing: ff },
    })),
  };
}

/** The processor's configuration in force at time t. */
export function stateAt(sc: SimScenario, p: ProcessorName, t: number): ProcessorState {
  let st: ProcessorState = { delayMs: 0, failing: false };
  for (const s of sc.stages) {
    if (s.atMs > t) break;
    st = s[p];
  }
  return st;
}
