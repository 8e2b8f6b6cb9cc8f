import { DEFAULT_ROUTER_PARAMS, type RouterParams } from "./contract/config";
import type { ProcessorHealth, ProcessorName } from "./contract/types";

export { DEFAULT_ROUTER_PARAMS, type RouterParams };

/** Everything the router may know about one processor at a moment. */
export interface ProcessorSignals {
  health: ProcessorHealth;
  /** Age of the oldest regular (not probe) payment request still waiting on it (ms; 0 = none in flight). */
  oldestInFlightMs: number;
  /** Requests of ours waiting on it now, probes included (absent: unknown, no limit applies). */
  inFlight?: number;
  /** When the last probe (a payment sent to learn whether a failing processor recovered) went out. */
  lastProbeAt: number;
  /** Send time of the request whose latency we learned last (absent or 0: none). */
  latencySentAt?: number;
  /**
   * When the success that ended its last error streak came back (absent or 0: never). It says the processor
   * works again, not how slow it is now (a probe's latency is the delay it had while failing): only a poll
   * or the latency of a request sent since then is current.
   */
  recoveredAt?: number;
  /** When the last scout (see route()) was decided. */
  lastScoutAt?: number;
}

export type Decision =
  | { target: ProcessorName; probe: boolean; scout?: boolean; reason: string }
  | { target: "hold"; probe: false; reason: string };

export type Status = "ok" | "slow" | "failing";

export interface Assessment {
  status: Status;
  latencyMs: number;
  /** Overdue (the delay just jumped): when its oldest waiting request went out, i.e. by when it changed. */
  changedBy?: number;
}

/** What one processor looks like now: usable, too slow for the audit window, or failing. */
export function assess(s: ProcessorSignals, now: number, p: Omit<RouterParams, "fees">): Assessment {
  const h = s.health;
  const pollFresh = h.polledAt > 0 && now - h.polledAt <= p.staleHealthMs;
  // The newer of the two sources wins: a success after a "failing" poll means it recovered, and vice versa.
  const failingByPoll = pollFresh && h.failing && h.polledAt >= h.lastOkAt;
  const failingByErrors = h.errorStreak > 0 && h.lastErrorAt >= h.lastOkAt && now - h.lastErrorAt < p.errorCooldownMs;
  const observedFresh = h.lastOkAt > 0 && now - h.lastOkAt <= p.staleLatencyMs;
  let latencyMs = 0;
  if (pollFresh && (!observedFresh || h.polledAt >= h.lastOkAt)) latencyMs = h.minResponseTime;
  else if (observedFresh) latencyMs = h.lastLatencyMs;
  // A request already waiting longer than that is the most current evidence of all; one waiting well
  // past it means the delay jumped to something we do not know yet.
  const overdue = s.oldestInFlightMs > latencyMs + p.overdueMarginMs;
  latencyMs = Math.max(latencyMs, s.oldestInFlightMs);
  if (failingByPoll || failingByErrors) return { status: "failing", latencyMs };
  if (overdue) return { status: "slow", latencyMs, changedBy: now - s.oldestInFlightMs };
  return { status: latencyMs >= p.unsafeLatencyMs ? "slow" : "ok", latencyMs };
}

/**
 * Whether `p` already has as many of our requests as it can serve within the safe latency. A processor runs
 * `processorSlots` requests at once and queues the rest; a queued request waits a whole delay more, so a
 * released backlog sent at once makes rows land late even at a safe delay. It may take slots x
 * floor(unsafe / latency) (at least slots); beyond that a payment waits its turn here instead.
 */
export function atCapacity(
  s: ProcessorSignals,
  a: Assessment,
  p: Pick<RouterParams, "processorSlots" | "unsafeLatencyMs">,
): boolean {
  if (!(p.processorSlots > 0) || s.inFlight === undefined) return false;
  const rounds = Math.max(1, Math.floor(p.unsafeLatencyMs / Math.max(1, a.latencyMs)));
  return s.inFlight >= p.processorSlots * rounds;
}

/**
 * How long a payment may wait for the failing cheaper processor. Holding is a bet that it recovers before
 * the run ends (unknown): it saves the fee gap if it wins and loses the whole payment if it does not, so
 * the patience is at most the horizon times gap / (1 - cheaper fee), the break-even chance of the end.
 */
export function patienceMs(p: Pick<RouterParams, "fees" | "feeHoldMs" | "holdHorizonMs">): number {
  const cheap = Math.min(p.fees.default, p.fees.fallback);
  const gap = Math.abs(p.fees.default - p.fees.fallback);
  if (p.holdHorizonMs <= 0) return p.feeHoldMs;
  return Math.min(p.feeHoldMs, Math.round((p.holdHorizonMs * gap) / Math.max(1e-9, 1 - cheap)));
}

/**
 * Chooses where a payment goes now. Aim: the contest score, i.e. the lowest fee whenever the audit stays
 * exact. Order of preference: the cheaper usable processor; a probe of it while it fails, and holding a
 * young payment for it (feeHoldMs); the other usable one; a probe of a failing one (a failing processor
 * whose delay is safe: even if it recovers while the probe waits, the row is recorded within the audit
 * margin); after maxHoldMs, the faster of two slow ones; otherwise hold (the payment waits in the queue,
 * nothing is lost).
 */
export function route(
  signals: Record<ProcessorName, ProcessorSignals>,
  now: number,
  waitedMs: number,
  params: RouterParams,
): Decision {
  const order: ProcessorName[] =
    params.fees.default <= params.fees.fallback ? ["default", "fallback"] : ["fallback", "default"];
  const [cheap, dear] = order as [ProcessorName, ProcessorName];
  const a = { [cheap]: assess(signals[cheap], now, params), [dear]: assess(signals[dear], now, params) } as Record<
    ProcessorName,
    Assessment
  >;

  // A failing processor stores nothing only while it keeps failing: the failure is read when its delay
  // ends, so a probe into a slow failing processor lands late if the failure stops meanwhile, and the
  // auditor checks right after such stage changes. Only processors whose delay is safe are probed; slow
  // ones are rediscovered by the health poll.
  const probeDue = (p: ProcessorName) =>
    a[p].status === "failing" &&
    a[p].latencyMs < params.unsafeLatencyMs &&
    now - signals[p].lastProbeAt >= params.probeIntervalMs;

  const full = (p: ProcessorName) => atCapacity(signals[p], a[p], params);
  // What we know of a processor's latency may predate a change: stages change both processors at once, so
  // one found overdue dates the other's latency too, and a probe's success (a recovery) carries none. Then
  // it gets one scout payment (its answer, or its being overdue, is the evidence) and the rest wait for it,
  // instead of a whole known latency of payments that may all land late.
  const changedBy = Math.max(a[cheap].changedBy ?? 0, a[dear].changedBy ?? 0);
  const since = (p: ProcessorName) => Math.max(changedBy, signals[p].recoveredAt ?? 0);
  const unconfirmed = (p: ProcessorName) =>
    params.scoutOnChange &&
    since(p) > 0 &&
    Math.max(signals[p].latencySentAt ?? 0, signals[p].health.polledAt) < since(p);
  const use = (p: ProcessorName, reason: string): Decision => {
    if (full(p)) return { target: "hold", probe: false, reason: `${reason}, at capacity` };
    if (!unconfirmed(p)) return { target: p, probe: false, reason };
    // Under way while it could still answer in time; later it is overdue (then p is slow, not here) or it
    // ended without telling us (a 429, a timeout): then another one.
    const scoutAt = signals[p].lastScoutAt ?? 0;
    if (scoutAt >= since(p) && now - scoutAt <= a[p].latencyMs + params.overdueMarginMs)
      return { target: "hold", probe: false, reason: `${reason}, waiting for its scout` };
    return { target: p, probe: false, scout: true, reason: `${reason}, scout after a change` };
  };
  if (a[cheap].status === "ok") {
    const d = use(cheap, `${cheap} ok`);
    // Full, the cheaper one is a queue, and waiting in it is the same bet as waiting for its recovery: a
    // payment past the patience pays the dearer fee instead, if that one is usable at once (random:9: a
    // backlog held through a failure met the default back at 1,000 ms, 800 at a time, with the fallback idle).
    const queued = d.target === "hold" && full(cheap) && waitedMs >= patienceMs(params);
    if (!queued || a[dear].status !== "ok") return d;
    const other = use(dear, `${cheap} at capacity, ${dear} ok`);
    return other.target === "hold" ? d : other;
  }
  // The cheaper one is down: learn quickly when it is back, one payment at a time.
  if (probeDue(cheap)) return { target: cheap, probe: true, reason: `probe ${cheap}` };
  if (a[cheap].status === "failing" && waitedMs < patienceMs(params))
    return { target: "hold", probe: false, reason: `waiting for ${cheap}` };
  if (a[dear].status === "ok") return use(dear, `${cheap} ${a[cheap].status}, ${dear} ok`);
  if (probeDue(dear)) return { target: dear, probe: true, reason: `probe ${dear}` };
  if (waitedMs >= params.maxHoldMs) {
    const slow = order.filter((p) => a[p].status === "slow").sort((x, y) => a[x].latencyMs - a[y].latencyMs);
    if (slow[0]) return { target: slow[0], probe: false, reason: `held ${waitedMs} ms, ${slow[0]} slow but working` };
  }
  return { target: "hold", probe: false, reason: `${cheap} ${a[cheap].status}, ${dear} ${a[dear].status}` };
}
