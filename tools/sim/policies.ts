// Routing policies the simulator compares. "ours" is the real router (handlers/policy.ts); the others are
// simple variants with the same signature, each removing one ingredient to show what it is worth.
import type { ProcessorName } from "../../handlers/contract/types";
import {
  assess,
  DEFAULT_ROUTER_PARAMS,
  type Decision,
  type ProcessorSignals,
  type RouterParams,
  route,
} from "../../handlers/policy";
import type { Model } from "./world";

/** What the simulator hands a policy: the real signals, plus what a candidate policy may want to know. */
export interface SimSignals extends ProcessorSignals {
  /** probes sent and not answered yet */
  probesInFlight: number;
}

export type RouteFn = (
  signals: Record<ProcessorName, SimSignals>,
  now: number,
  waitedMs: number,
  params: RouterParams,
) => Decision;

export interface Policy {
  name: string;
  what: string;
  route: RouteFn;
  /** Parameter changes this policy makes (on top of DEFAULT_ROUTER_PARAMS and the scenario's fees). */
  params?: Partial<Omit<RouterParams, "fees">>;
  /** Forwarding changes this policy needs (see Model), e.g. what a probe's answer reports. */
  model?: Partial<Model>;
}

type Signals = Record<ProcessorName, SimSignals>;
const mapSignals = (s: Signals, f: (x: SimSignals) => SimSignals): Signals => ({
  default: f(s.default),
  fallback: f(s.fallback),
});

/** What the poll alone says: no observations of our own payments, no in-flight age. */
const pollOnly = (x: SimSignals): SimSignals => ({
  ...x,
  health: { ...x.health, lastOkAt: 0, lastErrorAt: 0, errorStreak: 0, lastLatencyMs: 0 },
  oldestInFlightMs: 0,
});

/**
 * Candidate change: a request already overdue (older than the latency we know plus a margin) means the
 * processor just got slower, by an amount we cannot know yet; treat it as unsafe at once instead of
 * waiting for its age to reach unsafeLatencyMs.
 */
export function overdue(marginMs: number): (x: SimSignals, now: number, p: Omit<RouterParams, "fees">) => SimSignals {
  return (x, now, p) => {
    const known = assess({ ...x, oldestInFlightMs: 0 }, now, p).latencyMs;
    if (x.oldestInFlightMs <= known + marginMs) return x;
    return { ...x, oldestInFlightMs: Math.max(x.oldestInFlightMs, p.unsafeLatencyMs) };
  };
}

export function oursOverdue(marginMs: number): Policy {
  const f = overdue(marginMs);
  return {
    name: `ours+overdue${marginMs}`,
    what: `ours, plus: a request overdue by ${marginMs} ms over the known latency marks the processor unsafe`,
    route: (s, now, w, p) =>
      route(
        mapSignals(s, (x) => f(x, now, p)),
        now,
        w,
        p,
      ),
  };
}

/**
 * Candidate change (patience): while the cheaper processor is failing, a payment younger than `waitMs`
 * waits for it (probing it) instead of paying the dearer fee. Wins when failures are shorter than the
 * patience; costs lag if the run ends while payments wait.
 */
export function patient(base: Policy, waitMs: number): Policy {
  return {
    ...base,
    name: `${base.name}+patient${waitMs / 1000}s`,
    what: `${base.name}, but a payment waits up to ${waitMs} ms for the cheaper processor while it fails`,
    route: (s, now, w, p) => {
      const d = base.route(s, now, w, p);
      const cheap: ProcessorName = p.fees.default <= p.fees.fallback ? "default" : "fallback";
      if (d.target === "hold" || d.target === cheap || w >= waitMs) return d;
      if (assess(s[cheap], now, p).status !== "failing") return d;
      return { target: "hold", probe: false, reason: `waiting for ${cheap}` };
    },
  };
}

/**
 * Candidate change (probe guard): a failing processor whose known delay is unsafe gets one probe at a time.
 * Each probe there takes that whole delay, and if the processor recovers meanwhile the probe is stored
 * late: a row the auditor can catch. Fast failing processors keep spaced probes (quick recovery).
 */
export function probeGuard(base: Policy): Policy {
  return {
    ...base,
    name: `${base.name}+probe-guard`,
    what: `${base.name}, probing a failing processor whose known delay is unsafe one probe at a time`,
    route: (s, now, w, p) =>
      base.route(
        mapSignals(s, (x) => {
          if (x.probesInFlight === 0 || assess(x, now, p).latencyMs < p.unsafeLatencyMs) return x;
          return { ...x, lastProbeAt: now }; // not due while one is under way
        }),
        now,
        w,
        p,
      ),
  };
}

export const POLICIES: Policy[] = [
  { name: "ours", what: "handlers/policy.ts route() with DEFAULT_ROUTER_PARAMS", route },
  {
    name: "default-only",
    what: "always the default processor; 500s are retried (4 hops, then queue backoff)",
    route: () => ({ target: "default", probe: false, reason: "default only" }),
  },
  {
    name: "poll-only",
    what: "route() fed only the health poll (no observations, no in-flight age)",
    route: (s, now, w, p) => route(mapSignals(s, pollOnly), now, w, p),
  },
  {
    name: "no-probe",
    what: "route() that never probes a failing processor (waits for the poll or the error cooldown)",
    route: (s, now, w, p) =>
      route(
        mapSignals(s, (x) => ({ ...x, lastProbeAt: now })),
        now,
        w,
        p,
      ),
  },
  {
    name: "latency-blind",
    what: "route() with unsafeLatencyMs = infinity: only failures move traffic",
    route,
    params: { unsafeLatencyMs: Number.POSITIVE_INFINITY },
  },
  oursOverdue(150),
  {
    name: "ours+probe-latency",
    what: "ours, but a successful probe reports its latency (forward.ts before db746ad)",
    route,
    model: { probeLatency: "observe" },
  },
  {
    ...oursOverdue(150),
    name: "proposed",
    what:
      "what docs/routing.md recommends: ours+overdue150, staleLatencyMs 7000 (longer than the 6 s poll period), " +
      "probeIntervalMs 2000",
    params: { staleLatencyMs: 7000, probeIntervalMs: 2000 },
  },
];
POLICIES.splice(POLICIES.length - 1, 0, probeGuard(POLICIES[0]!));

export function policyByName(name: string): Policy {
  const pat = /^(.+)\+patient(\d+(?:\.\d+)?)s$/.exec(name);
  if (pat) return patient(policyByName(pat[1]!), Number(pat[2]) * 1000);
  const g = /^(.+)\+probe-guard$/.exec(name);
  if (g) return probeGuard(policyByName(g[1]!));
  const m = /^ours\+overdue(\d+)$/.exec(name);
  if (m) return oursOverdue(Number(m[1]));
  const p = POLICIES.find((x) => x.name === name);
  if (!p)
    throw new Error(
      `unknown policy "${name}"; known: ${POLICIES.map((x) => x.name).join(", ")}, ours+overdueN, <policy>+patientNs`,
    );
  return p;
}

export function paramsFor(
  policy: Policy,
  fees: Record<ProcessorName, number>,
  overrides: Partial<Omit<RouterParams, "fees">> = {},
): RouterParams {
  return { ...DEFAULT_ROUTER_PARAMS, ...policy.params, ...overrides, fees };
}
