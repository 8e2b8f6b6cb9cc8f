// One contest run: setup, load + checker + stages + monitor, teardown, score.
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import type { Args } from "./args";
import { type AppliedStage, backendSummary, type Check, Checker, runStages } from "./checker";
import { startEmulators } from "./emulators";
import { pool, send, splitUrl, timed } from "./http";
import { Latencies, perSecondPercentiles } from "./latency";
import { Monitor, type Sample } from "./monitor";
import { type AdminSummary, Processor } from "./processors";
import { startProgress } from "./progress";
import { type Plan, planOf } from "./scenarios";
import { type Counted, ceilingOf, percentile, type Score, scoreOf } from "./score";
import { Vus } from "./vus";

export interface RunResult {
  plan: Plan;
  score: Score;
  accepted: number;
  failed: number;
  timeouts: number;
  statuses: Record<string, number>;
  inconsistencies: number;
  checksWithDifference: number;
  checks: Check[];
  stages: AppliedStage[];
  p99RawMs: number;
  p50Ms: number;
  /** POST /payments alone, to tell the backend's latency from the admin/summary calls' */
  postP99Ms: number;
  requestsTimed: number;
  ceiling: number;
  teardown: {
    source: string;
    from: string;
    to: string;
    ok: boolean;
    processors: Record<string, AdminSummary & { ok: boolean }>;
  };
  series: {
    acceptedPerSecond: number[];
    failedPerSecond: number[];
    p50: (number | null)[];
    p99: (number | null)[];
    samples: Sample[];
  };
  runner: { cpuMeanPct: number; cpuMaxPct: number; cpuAtVus: number; loopP99MaxMs: number };
  wallS: number;
}

export async function runContest(a: Args): Promise<RunResult> {
  const plan = planOf(a.scenario, { maxVus: a.maxVus, durationScale: a.durationScale });
  const sc = plan.scenario;
  const lat = new Latencies();
  const urls = { default: a.defaultUrl, fallback: a.fallbackUrl };
  if (a.emulators === "start") {
    log(`starting emulators ${urls.default} (fee ${sc.fees.default}) and ${urls.fallback} (fee ${sc.fees.fallback})`);
    await startEmulators(urls, sc.fees);
  }
  const procs = {
    default: new Processor("default", urls.default, a.token, lat),
    fallback: new Processor("fallback", urls.fallback, a.token, lat),
  };
  const { origin, prefix } = splitUrl(a.target);
  const backendPool = pool(origin, 2);
  const monitorPool = new Pool(origin, { connections: 1 });
  try {
    const probe = await send(backendPool, { method: "GET", path: `${prefix}/payments-summary` });
    if (probe.status === 0)
      throw new Error(
        `could not reach the backend at ${a.target} (${probe.error}); start it (npm start) or pass --target.`,
      );

    // Setup, as the official script: tokens, purge both processors, purge the backend (failure ignored).
    for (const p of [procs.default, procs.fallback]) {
      const t = await p.setToken();
      if (t.status !== 204 && t.status !== 200)
        throw new Error(
          `setting the admin token on ${p.url} answered HTTP ${t.status}; is it a payment processor with token 123?`,
        );
      const r = await p.purge();
      if (r.status !== 200) throw new Error(`purging ${p.url} answered HTTP ${r.status} ${r.body.slice(0, 200)}`);
    }
    await timed(lat, backendPool, { method: "POST", path: `${prefix}/purge-payments` });

    log(
      `${sc.name}: ${(plan.durationMs / 1000).toFixed(1)} s, 1 -> ${plan.maxVus} VUs, ` +
        `amount ${sc.amount}, target ${a.target}`,
    );
    const vus = new Vus({ origin, prefix, amount: sc.amount, durationMs: plan.durationMs, maxVus: plan.maxVus }, lat);
    const backend = { d: backendPool, prefix };
    const checker = new Checker(plan, lat, backend, procs);
    const monitor = new Monitor(procs, { d: monitorPool, prefix }, () => vus.active);
    const t0 = performance.now();
    const stopProgress = startProgress(() => {
      const last = monitor.samples.at(-1);
      return {
        phase: sc.name,
        elapsedS: (performance.now() - t0) / 1000,
        totalS: plan.durationMs / 1000,
        vus: vus.active,
        accepted: vus.accepted,
        failed: vus.failed,
        inconsistencies: checker.total,
        p99: lat.live(0.99),
        counted:
          last && last.defaultTotal !== null && last.fallbackTotal !== null
            ? last.defaultTotal + last.fallbackTotal
            : null,
        cpuPct: last?.cpuPct ?? null,
      };
    });
    const monitoring = monitor.run(t0, plan.durationMs + 60_000);
    const [, , stages] = await Promise.all([vus.run(t0), checker.run(t0), runStages(plan, procs, t0)]);
    const wallS = (performance.now() - t0) / 1000;

    // Teardown right after the end, from the scenario's source.
    const to = new Date();
    const from = new Date(to.getTime() - plan.teardownWindowMs);
    const [iso1, iso2] = [from.toISOString(), to.toISOString()];
    const [d, f] = await Promise.all([procs.default.summary(iso1, iso2), procs.fallback.summary(iso1, iso2)]);
    let counted: { default: Counted; fallback: Counted };
    let teardownOk = d.ok && f.ok;
    if (sc.teardown.source === "processors") {
      counted = { default: d, fallback: f };
    } else {
      const b = await backendSummary(lat, backend, iso1, iso2);
      teardownOk &&= b.ok;
      counted = {
        default: { ...b.default, feePerTransaction: d.feePerTransaction },
        fallback: { ...b.fallback, feePerTransaction: f.feePerTransaction },
      };
    }
    monitor.stop();
    await monitoring;
    stopProgress();

    const sorted = lat.sorted();
    const p99RawMs = lat.exact(0.99);
    const score = scoreOf({
      accepted: vus.accepted,
      failed: vus.failed,
      default: counted.default,
      fallback: counted.fallback,
      p99ms: p99RawMs,
      inconsistencies: checker.total,
    });
    const seconds = Math.ceil(plan.durationMs / 1000);
    const peak = Math.max(1, Math.floor(plan.maxVus * 0.9));
    const cpu = monitor.cpuAt(peak);
    return {
      plan,
      score,
      accepted: vus.accepted,
      failed: vus.failed,
      timeouts: vus.timeouts,
      statuses: Object.fromEntries([...vus.statuses].map(([k, n]) => [String(k), n])),
      inconsistencies: checker.total,
      checksWithDifference: checker.checks.filter(
        (c) => c.backend.default !== c.processors.default || c.backend.fallback !== c.processors.fallback,
      ).length,
      checks: checker.checks,
      stages,
      p99RawMs,
      p50Ms: sorted.length ? lat.exact(0.5) : 0,
      requestsTimed: lat.count,
      postP99Ms: percentile(Float64Array.from(lat.perSecond.flat()).sort(), 0.99),
      ceiling: ceilingOf(vus.accepted, sc.amount, [sc.fees.default, sc.fees.fallback]),
      teardown: {
        source: sc.teardown.source,
        from: iso1,
        to: iso2,
        ok: teardownOk,
        processors: { default: d, fallback: f },
      },
      series: {
        acceptedPerSecond: fill(vus.acceptedPerSecond, seconds),
        failedPerSecond: fill(vus.failedPerSecond, seconds),
        ...perSecondPercentiles(lat.perSecond, seconds),
        samples: monitor.samples,
      },
      runner: {
        cpuMeanPct: cpu.mean,
        cpuMaxPct: cpu.max,
        cpuAtVus: peak,
        loopP99MaxMs: Math.max(0, ...monitor.samples.filter((s) => s.vus > 0).map((s) => s.loopP99Ms)),
      },
      wallS,
    };
  } finally {
    if (a.emulators === "running") {
      // Leave running processors healthy for whatever comes next (not part of the official test).
      await Promise.all(
        [procs.default, procs.fallback].map(async (p) => {
          await p.setDelay(0).catch(() => undefined);
          await p.setFailure(false).catch(() => undefined);
        }),
      );
    }
    await Promise.all([procs.default.close(), procs.fallback.close(), backendPool.close(), monitorPool.close()]);
  }
}

function fill(xs: number[], n: number): number[] {
  return Array.from({ length: Math.max(n, xs.length) }, (_, i) => xs[i] ?? 0);
}

export function log(msg: string): void {
  process.stderr.write(`contest: ${msg}\n`);
}
