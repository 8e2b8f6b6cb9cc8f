// The consistency checker VU and the stage scheduler, both as in the official scripts.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { timed } from "./http";
import type { Latencies } from "./latency";
import type { Processor } from "./processors";
import type { Plan, Stage } from "./scenarios";
import { type BackendSummary, inconsistencyFinal, inconsistencyPreview } from "./score";

const ZERO_BACKEND: BackendSummary = {
  default: { totalRequests: 0, totalAmount: 0 },
  fallback: { totalRequests: 0, totalAmount: 0 },
};

export interface Backend {
  d: Dispatcher;
  prefix: string;
}

/** GET /payments-summary (timed); zeros when it failed, like the official script. */
export async function backendSummary(
  lat: Latencies,
  b: Backend,
  from: string,
  to: string,
): Promise<BackendSummary & { ok: boolean; status: number }> {
  const r = await timed(lat, b.d, { method: "GET", path: `${b.prefix}/payments-summary?from=${from}&to=${to}` });
  if (r.status !== 200) return { ...ZERO_BACKEND, ok: false, status: r.status };
  try {
    return { ...(JSON.parse(r.body) as BackendSummary), ok: true, status: 200 };
  } catch {
    return { ...ZERO_BACKEND, ok: false, status: r.status };
  }
}

export interface Check {
  atS: number;
  from: string;
  to: string;
  value: number;
  backend: { default: number; fallback: number };
  processors: { default: number; fallback: number };
  backendOk: boolean;
}

export class Checker {
  total = 0;
  readonly checks: Check[] = [];

  constructor(
    private plan: Plan,
    private lat: Latencies,
    private backend: Backend,
    private procs: { default: Processor; fallback: Processor },
  ) {}

  /** Like k6's constant-vus checker: check, sleep ~10 s, until the run's end. */
  async run(t0: number): Promise<void> {
    while (performance.now() - t0 < this.plan.durationMs) {
      await this.once(t0);
      // k6 would let this last sleep run past the end (gracefulStop). In the official 60/300 s
      // runs that overshoot is a few ms per check; in a scaled run it could be up to 10 s, which
      // would hand the backend extra drain time before the teardown, so it is cut at the end.
      const left = this.plan.durationMs - (performance.now() - t0);
      if (left <= 0) break;
      await sleep(Math.min(this.plan.scenario.check.everyMs, left));
    }
  }

  async once(t0: number): Promise<Check> {
    const c = this.plan.scenario.check;
    const now = Date.now();
    const from = new Date(now - c.fromAgoMs).toISOString();
    const to = new Date(now - c.toAgoMs).toISOString();
    const [d, f, b] = await Promise.all([
      this.procs.default.summary(from, to),
      this.procs.fallback.summary(from, to),
      backendSummary(this.lat, this.backend, from, to),
    ]);
    const value = c.formula === "absolute" ? inconsistencyFinal(b, d, f) : inconsistencyPreview(b, d, f);
    this.total += value;
    const check: Check = {
      atS: (performance.now() - t0) / 1000,
      from,
      to,
      value,
      backend: { default: b.default.totalRequests, fallback: b.fallback.totalRequests },
      processors: { default: d.totalRequests, fallback: f.totalRequests },
      backendOk: b.ok,
    };
    this.checks.push(check);
    return check;
  }
}

export interface AppliedStage extends Stage {
  appliedAtS: number;
  ok: boolean;
}

/** Applies each stage at its (scaled) second through the admin endpoints, in the official order. */
export async function runStages(
  plan: Plan,
  procs: { default: Processor; fallback: Processor },
  t0: number,
): Promise<AppliedStage[]> {
  const applied: AppliedStage[] = [];
  for (const [i, st] of plan.scenario.stages.entries()) {
    const at = plan.stageAtMs[i]!;
    if (at >= plan.durationMs) break;
    const wait = at - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    const appliedAtS = (performance.now() - t0) / 1000;
    const rs = [
      await procs.default.setDelay(st.defaultDelay),
      await procs.fallback.setDelay(st.fallbackDelay),
      await procs.default.setFailure(st.defaultFailure),
      await procs.fallback.setFailure(st.fallbackFailure),
    ];
    applied.push({ ...st, appliedAtS, ok: rs.every((r) => r.status === 200) });
  }
  return applied;
}
