// The simulated world: the load test's virtual users, our API + queue + one forwarding worker (the same
// decisions as handlers/forward.ts, with a policy in place of route()), the two processors following a
// stage schedule, the health tick, and the books at teardown.
import {
  applyObservation,
  emptyHealth,
  PROCESSORS,
  type ProcessorHealth,
  type ProcessorName,
} from "../../handlers/contract/types";
import { backoffSeconds, classify, definitelyNotStored, type Outcome } from "../../handlers/outcome";
import { assess, type RouterParams } from "../../handlers/policy";
import { vuStartMs } from "../contest/scenarios";
import { makeRng, type Random } from "../lib/rng";
import { type AuditResult, audit } from "./audit";
import { Clock } from "./clock";
import { type Policy, paramsFor, type SimSignals } from "./policies";
import { type ProcessorState, type SimScenario, stateAt } from "./scenarios";

/** How the world behaves apart from the schedule. Defaults mirror handlers/contract/config.ts and the runtime. */
export interface Model {
  /** one-way network time between our worker and a processor: netMs + [0, netJitterMs) */
  netMs: number;
  netJitterMs: number;
  /** a VU's POST /payments round trip */
  postMs: number;
  /** one store round trip (enqueue, record) */
  storeMs: number;
  /** MAX_IN_FLIGHT: payments handed to the worker at once (held ones included) */
  maxInFlight: number;
  /** HOLD_WAIT_MS: how long a held payment waits in the worker before going back to the queue */
  holdWaitMs: number;
  /** HealthView refreshMs: held payments are re-routed at least this often */
  refreshMs: number;
  /** forward.ts MAX_HOPS */
  maxHops: number;
  /** PAY_TIMEOUT_MS */
  payTimeoutMs: number;
  /** GET /payments/{id} round trip (not under the processor's delay) */
  lookupMs: number;
  retry: { baseMs: number; maxMs: number };
  /** Health polls per processor: the tick runs every TICK_MS (1 s) and the lock lasts 5.1 s, so one poll every 6 s. */
  pollEveryMs: number;
  /** When the first poll happens (ms after the start); seeded random in [0, pollEveryMs) when undefined. */
  pollPhaseMs?: number;
  /** processor admission: running + queued, then 429 */
  procSlots: number;
  procQueue: number;
  /** teardown reads the books this long after the last VU may start an iteration (it sleeps 1 s) */
  teardownAfterMs: number;
  /** see AuditOptions.skewMs */
  checkSkewMs: number;
  /**
   * What a successful probe tells the view: only "it works again" (forward.ts since db746ad: its latency is
   * the delay in force when it was SENT, before the recovery), or also its latency ("observe", as before).
   */
  probeLatency: "observe" | "ignore";
}

export const DEFAULT_MODEL: Model = {
  netMs: 1,
  netJitterMs: 2,
  postMs: 1,
  storeMs: 1,
  maxInFlight: 1500,
  holdWaitMs: 1000,
  refreshMs: 200,
  maxHops: 4,
  payTimeoutMs: 8000,
  lookupMs: 3,
  retry: { baseMs: 50, maxMs: 2000 },
  pollEveryMs: 6000,
  procSlots: 800,
  procQueue: 500,
  teardownAfterMs: 1000,
  checkSkewMs: 5,
  probeLatency: "ignore",
};

export interface SimOptions {
  scenario: SimScenario;
  policy: Policy;
  seed?: number;
  /** router parameter changes on top of the policy's */
  params?: Partial<Omit<RouterParams, "fees">>;
  model?: Partial<Model>;
}

export interface ProcessorStats {
  /** rows counted at teardown (by the scenario's source) */
  counted: number;
  sends: number;
  probes: number;
  status500: number;
  status429: number;
  timeouts: number;
  /** most requests at the processor at once (running + queued) */
  maxBusy: number;
}

export interface SimResult {
  scenario: string;
  policy: string;
  seed: number;
  params: RouterParams;
  accepted: number;
  counted: number;
  lag: number;
  processors: Record<ProcessorName, ProcessorStats>;
  paidCents: number;
  feesCents: number;
  liquidCents: number;
  /** every accepted payment at the default fee */
  ceilingNoBonusCents: number;
  /** the same with the 20% p99 bonus: the score a perfect run gets */
  ceilingCents: number;
  /** liquid / ceilingNoBonus */
  liquidShare: number;
  audit: AuditResult;
  /** liquid * (1 + 20% - 35% * pCaught) / ceiling: the expected score share, bonus assumed at 20% */
  expectedShare: number;
  /** payments still not recorded by us at teardown, and the longest wait (receive -> our record) */
  unrecordedAtEnd: number;
  maxWaitMs: number;
  p99WaitMs: number;
  maxHandedOut: number;
  holds: number;
  queueRetries: number;
  /** per second: payments accepted and not yet recorded by us (held, queued or in flight) at its end */
  backlog: number[];
  /** the expected share of an oracle that knows the schedule (upperBound()) */
  boundShare: number;
  /** per second of the run: what happened (sends, stores, failures by processor; holds) */
  timeline: Second[];
}

export interface Second {
  sendsD: number;
  sendsF: number;
  storedD: number;
  storedF: number;
  e500D: number;
  e500F: number;
  e429: number;
  holds: number;
  /** payments handed out to the worker at the end of the second */
  handedOut: number;
}

/** The time base handed to the router (its "0 = never" sentinels must not meet a real t = 0). */
const EPOCH = 1_000_000;
const P99 = 0.99;

interface Job {
  cid: number;
  receivedAt: number;
  attempts: number;
  /** the attempt registry's claim (this simulator has one job per correlationId) */
  claim: ProcessorName | null;
  row: Row | null;
}

interface Row {
  cid: number;
  p: ProcessorName;
  r: number;
  insertAt: number;
  recordAt: number;
  job: Job;
}

interface Delivery {
  job: Job;
  inDoubt: boolean;
  heldSince: number;
  hops: number;
}

interface Req {
  d: Delivery;
  p: ProcessorName;
  r: number;
  probe: boolean;
  token: number;
  state: "net" | "queued" | "running" | "done";
  answered: boolean;
}

class Processor {
  running = 0;
  queue: Req[] = [];
  qHead = 0;
  qLive = 0;
  rows = new Map<number, Row>();
  stats: ProcessorStats = { counted: 0, sends: 0, probes: 0, status500: 0, status429: 0, timeouts: 0, maxBusy: 0 };
  constructor(readonly name: ProcessorName) {}
  busy() {
    return this.running + this.qLive;
  }
}

/**
 * Our worker's HealthView (handlers/health-view.ts), reduced to what routing reads: the shared health, the
 * regular requests in flight (probes never count; a success evicts the older ones still waiting), and the
 * probe slot, reserved at decision time.
 */
class View {
  health: Record<ProcessorName, ProcessorHealth> = { default: emptyHealth(), fallback: emptyHealth() };
  inFlight: Record<ProcessorName, Map<number, number>> = { default: new Map(), fallback: new Map() };
  lastProbeAt: Record<ProcessorName, number> = { default: 0, fallback: 0 };
  lastScoutAt: Record<ProcessorName, number> = { default: 0, fallback: 0 };
  recoveredAt: Record<ProcessorName, number> = { default: 0, fallback: 0 };
  /** every request still waiting, probes included (HealthView's `waiting`) */
  waiting: Record<ProcessorName, number> = { default: 0, fallback: 0 };
  latencySentAt: Record<ProcessorName, number> = { default: 0, fallback: 0 };
  private seq = 0;

  /** Probes under way: not a signal of the real view, offered to candidate policies (see policies.ts). */
  probing: Record<ProcessorName, number> = { default: 0, fallback: 0 };

  signals(now: number): Record<ProcessorName, SimSignals> {
    const s = (p: ProcessorName): SimSignals => {
      const oldest = this.inFlight[p].values().next();
      return {
        health: this.health[p],
        oldestInFlightMs: oldest.done ? 0 : now - oldest.value,
        inFlight: this.waiting[p],
        lastProbeAt: this.lastProbeAt[p],
        latencySentAt: this.latencySentAt[p],
        lastScoutAt: this.lastScoutAt[p],
        recoveredAt: this.recoveredAt[p],
        probesInFlight: this.probing[p],
      };
    };
    return { default: s("default"), fallback: s("fallback") };
  }

  markProbe(p: ProcessorName, now: number) {
    this.lastProbeAt[p] = now;
  }

  markScout(p: ProcessorName, now: number) {
    this.lastScoutAt[p] = now;
  }

  begin(p: ProcessorName, probe: boolean, now: number): number {
    const token = ++this.seq;
    this.waiting[p]++;
    if (!probe) this.inFlight[p].set(token, now);
    else this.probing[p]++;
    return token;
  }

  end(p: ProcessorName, token: number, ok: boolean, probe: boolean) {
    if (probe) this.probing[p]--;
    this.waiting[p]--;
    const m = this.inFlight[p];
    const sentAt = m.get(token);
    m.delete(token);
    if (!ok || sentAt === undefined) return;
    for (const [t, start] of m) {
      if (start > sentAt) break;
      m.delete(t);
    }
  }

  /** Returns whether this success ends an error streak (HealthView wakes held payments then). */
  observe(p: ProcessorName, at: number, ok: boolean, latencyMs: number | undefined, sentAt: number): boolean {
    if (ok && latencyMs !== undefined) {
      if (sentAt < this.latencySentAt[p]) latencyMs = undefined;
      else this.latencySentAt[p] = sentAt;
    }
    const before = this.health[p];
    this.health[p] = applyObservation(before, { at, ok, latencyMs });
    const recovered = ok && before.errorStreak > 0;
    if (recovered) this.recoveredAt[p] = Math.max(this.recoveredAt[p], at);
    return recovered;
  }

  poll(p: ProcessorName, failing: boolean, minResponseTime: number, at: number) {
    this.health[p] = { ...this.health[p], failing, minResponseTime, polledAt: at };
  }
}

export function ceilingOf(
  accepted: number,
  amountCents: number,
  feeDefault: number,
): { noBonus: number; withBonus: number } {
  const noBonus = accepted * amountCents * (1 - feeDefault);
  return { noBonus, withBonus: noBonus * 1.2 };
}

export function simulate(o: SimOptions): SimResult {
  const sc = o.scenario;
  const seed = o.seed ?? 1;
  const m: Model = { ...DEFAULT_MODEL, ...o.policy.model, ...o.model };
  const params = paramsFor(o.policy, sc.fees, o.params);
  const rng: Random = makeRng(seed);
  const clock = new Clock();
  const view = new View();
  const proc: Record<ProcessorName, Processor> = {
    default: new Processor("default"),
    fallback: new Processor("fallback"),
  };
  const teardownAt = sc.durationMs + m.teardownAfterMs;
  const net = () => m.netMs + Math.floor(rng() * m.netJitterMs);
  const rt = (t: number) => t + EPOCH;

  const jobs: Job[] = [];
  const rows: Row[] = [];
  let accepted = 0,
    handedOut = 0,
    maxHandedOut = 0,
    holds = 0,
    queueRetries = 0;
  const timeline: Second[] = [];
  const sec = (): Second => {
    const i = Math.floor(clock.now / 1000);
    while (timeline.length <= i)
      timeline.push({ sendsD: 0, sendsF: 0, storedD: 0, storedF: 0, e500D: 0, e500F: 0, e429: 0, holds: 0, handedOut });
    const s = timeline[i]!;
    s.handedOut = handedOut;
    return s;
  };

  // ---- the queue and the worker's intake (MAX_IN_FLIGHT handed out at once)
  const ready: Job[] = [];
  let readyHead = 0;
  const enqueue = (job: Job) => {
    ready.push(job);
    pump();
  };
  const pump = () => {
    while (handedOut < m.maxInFlight && readyHead < ready.length) {
      const job = ready[readyHead++]!;
      handedOut++;
      maxHandedOut = Math.max(maxHandedOut, handedOut);
      job.attempts++;
      step({ job, inDoubt: job.claim !== null, heldSince: clock.now, hops: 0 });
    }
    if (readyHead > 4096 && readyHead * 2 > ready.length) {
      ready.splice(0, readyHead);
      readyHead = 0;
    }
  };
  const settle = () => {
    handedOut--;
    pump();
  };
  const retryLater = (d: Delivery) => {
    queueRetries++;
    const ms = Math.round(backoffSeconds(d.job.attempts, m.retry, rng()) * 1000);
    settle();
    clock.after(ms, () => enqueue(d.job));
  };

  // ---- HealthView.next(): held payments wake on the next refresh or when a processor recovers
  let waiters: (() => void)[] = [];
  let wakePending = false;
  const wakeAll = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const waitNext = (f: () => void) => {
    waiters.push(f);
    if (!wakePending) {
      wakePending = true;
      clock.after(m.refreshMs, () => {
        wakePending = false;
        wakeAll();
      });
    }
  };

  // ---- forward.ts forwardOne(), one loop turn per call
  const holdOrRetry = (d: Delivery) => {
    if (clock.now - d.heldSince < m.holdWaitMs) waitNext(() => step(d));
    else retryLater(d);
  };
  function step(d: Delivery): void {
    if (d.hops >= m.maxHops) {
      retryLater(d);
      return;
    }
    const now = clock.now;
    const job = d.job;
    let target: ProcessorName;
    let probe = false;
    if (job.claim) {
      target = job.claim;
      if (assess(view.signals(rt(now))[target], rt(now), params).status === "failing") {
        holdOrRetry(d);
        return;
      }
    } else {
      const dec = o.policy.route(view.signals(rt(now)), rt(now), now - job.receivedAt, params);
      if (dec.target === "hold") {
        holds++;
        sec().holds++;
        holdOrRetry(d);
        return;
      }
      target = dec.target;
      probe = dec.probe;
      if (probe) view.markProbe(target, rt(now));
      if (dec.scout) view.markScout(target, rt(now));
      job.claim = target;
    }
    d.hops++;
    send(d, target, probe);
  }

  function send(d: Delivery, p: ProcessorName, probe: boolean) {
    const pr = proc[p];
    pr.stats.sends++;
    if (probe) pr.stats.probes++;
    if (p === "default") sec().sendsD++;
    else sec().sendsF++;
    const req: Req = {
      d,
      p,
      r: clock.now,
      probe,
      token: view.begin(p, probe, rt(clock.now)),
      state: "net",
      answered: false,
    };
    clock.after(net(), () => arrive(pr, req));
  }

  /** The client's timeout, armed only when the answer may come after it (saves an event per request). */
  function armTimeout(pr: Processor, req: Req) {
    clock.at(req.r + m.payTimeoutMs, () => {
      if (req.answered) return;
      req.answered = true;
      pr.stats.timeouts++;
      if (req.state === "queued") {
        req.state = "done";
        pr.qLive--;
      } // the processor drops a queued request whose client left
      answered(req, "in-doubt");
    });
  }

  // ---- the processor: 800 running + 500 queued (FIFO), then 429; delay, then failure, then insert
  function arrive(pr: Processor, req: Req) {
    if (pr.running < m.procSlots) start(pr, req);
    else if (pr.qLive < m.procQueue) {
      req.state = "queued";
      pr.queue.push(req);
      pr.qLive++;
      armTimeout(pr, req);
    } else {
      pr.stats.status429++;
      sec().e429++;
      return reply(req, 429);
    }
    pr.stats.maxBusy = Math.max(pr.stats.maxBusy, pr.busy());
  }
  function start(pr: Processor, req: Req) {
    const wasQueued = req.state === "queued";
    req.state = "running";
    pr.running++;
    const delay = stateAt(sc, pr.name, clock.now).delayMs;
    if (!wasQueued && clock.now + delay + m.netMs + m.netJitterMs >= req.r + m.payTimeoutMs) armTimeout(pr, req);
    clock.after(delay, () => finishAtProcessor(pr, req));
  }
  function finishAtProcessor(pr: Processor, req: Req) {
    pr.running--;
    req.state = "done";
    let status: number;
    if (stateAt(sc, pr.name, clock.now).failing) {
      status = 500;
      pr.stats.status500++;
      if (pr.name === "default") sec().e500D++;
      else sec().e500F++;
    } else if (pr.rows.has(req.d.job.cid)) status = 422;
    else {
      const row: Row = {
        cid: req.d.job.cid,
        p: pr.name,
        r: req.r,
        insertAt: clock.now,
        recordAt: Number.POSITIVE_INFINITY,
        job: req.d.job,
      };
      pr.rows.set(row.cid, row);
      rows.push(row);
      if (pr.name === "default") sec().storedD++;
      else sec().storedF++;
      status = 200;
    }
    while (pr.qHead < pr.queue.length && pr.running < m.procSlots) {
      const next = pr.queue[pr.qHead++]!;
      if (next.state !== "queued") continue;
      pr.qLive--;
      start(pr, next);
    }
    if (pr.qHead > 4096 && pr.qHead * 2 > pr.queue.length) {
      pr.queue.splice(0, pr.qHead);
      pr.qHead = 0;
    }
    reply(req, status);
  }
  function reply(req: Req, status: number) {
    clock.after(net(), () => {
      if (req.answered) return;
      req.answered = true;
      answered(req, classify({ status }));
    });
  }

  // ---- our side of the answer: forward.ts send() + the loop's reaction
  const record = (row: Row, at: number) => {
    if (at < row.recordAt) row.recordAt = at;
    row.job.row = row;
  };
  function answered(req: Req, outcome: Outcome) {
    const { d, p } = req;
    const now = clock.now;
    const ok = outcome === "stored" || outcome === "duplicate";
    view.end(p, req.token, ok, req.probe);
    let recovered = false;
    if (ok)
      recovered = view.observe(
        p,
        rt(now),
        true,
        req.probe && m.probeLatency === "ignore" ? undefined : now - req.r,
        rt(req.r),
      );
    else if (outcome === "rejected" || outcome === "in-doubt") view.observe(p, rt(now), false, undefined, rt(req.r));
    if (recovered) wakeAll();

    switch (outcome) {
      case "stored":
        record(proc[p].rows.get(d.job.cid)!, now + m.storeMs);
        return clock.after(m.storeMs, settle);
      case "duplicate":
        // recordExisting(): read the row the processor kept and record it with its requestedAt.
        return clock.after(m.lookupMs, () => {
          const row = proc[p].rows.get(d.job.cid);
          if (row) {
            record(row, clock.now + m.storeMs);
            clock.after(m.storeMs, settle);
            return;
          }
          d.inDoubt = true;
          step(d);
        });
      case "in-doubt":
        d.inDoubt = true;
        return step(d);
      default:
        if (definitelyNotStored(outcome, d.inDoubt)) d.job.claim = null;
        if (outcome === "malformed") return retryLater(d);
        if (outcome === "busy") return waitNext(() => step(d));
        return step(d);
    }
  }

  // ---- the load test's virtual users: POST, then sleep 1 s, while the ramp lasts
  const iterate = (t: number) => {
    if (t >= sc.durationMs) return;
    const done = t + m.postMs + Math.floor(rng() * 2);
    clock.at(done, () => {
      accepted++;
      const job: Job = { cid: jobs.length, receivedAt: done, attempts: 0, claim: null, row: null };
      jobs.push(job);
      clock.after(m.storeMs, () => enqueue(job));
      iterate(done + 1000);
    });
  };
  for (let i = 0; i < sc.maxVus; i++) {
    const t0 = vuStartMs(i, sc.maxVus, sc.durationMs);
    clock.at(t0, () => iterate(t0));
  }

  // ---- the health tick: one poll per processor per window, seen by the worker at once
  const phase = m.pollPhaseMs ?? Math.floor(rng() * m.pollEveryMs);
  for (let t = phase; t <= teardownAt; t += m.pollEveryMs) {
    for (const p of PROCESSORS) {
      clock.at(t, () => {
        const st = stateAt(sc, p, clock.now);
        const at = clock.now + 2 * m.netMs;
        clock.at(at, () => view.poll(p, st.failing, st.delayMs, rt(at)));
      });
    }
  }

  clock.run(teardownAt);

  // ---- the books at teardown
  const counted = (row: Row) => (sc.countedFrom === "backend" ? row.recordAt : row.insertAt) <= teardownAt;
  let paidCents = 0,
    feesCents = 0;
  for (const row of rows) {
    if (!counted(row)) continue;
    proc[row.p].stats.counted++;
    paidCents += sc.amountCents;
    feesCents += sc.amountCents * sc.fees[row.p];
  }
  const countedN = proc.default.stats.counted + proc.fallback.stats.counted;
  const liquidCents = paidCents - feesCents;
  const ceil = ceilingOf(accepted, sc.amountCents, sc.fees.default);
  const au = audit(rows, {
    offsetMs: sc.auditOffsetMs,
    fromMs: sc.auditFromMs,
    everyMs: sc.auditEveryMs,
    endMs: sc.durationMs,
    skewMs: m.checkSkewMs,
  });
  const waits = jobs
    .filter((j) => j.row && j.row.recordAt <= teardownAt)
    .map((j) => j.row!.recordAt - j.receivedAt)
    .sort((a, b) => a - b);

  const backlog = new Array<number>(Math.ceil(teardownAt / 1000) + 1).fill(0);
  for (const j of jobs) {
    backlog[Math.floor(j.receivedAt / 1000)]!++;
    const rec = j.row ? j.row.recordAt : Number.POSITIVE_INFINITY;
    if (rec < teardownAt) backlog[Math.floor(rec / 1000)]!--;
  }
  for (let i = 1; i < backlog.length; i++) backlog[i]! += backlog[i - 1]!;
  // The audit's own margin, not our UNSAFE_LATENCY_MS: the bound must not move with the policy it judges.
  const bound = upperBound(
    sc,
    jobs.map((j) => j.receivedAt),
    teardownAt,
    sc.auditOffsetMs,
  );

  return {
    scenario: sc.name,
    policy: o.policy.name,
    seed,
    params,
    accepted,
    counted: countedN,
    lag: accepted - countedN,
    processors: { default: proc.default.stats, fallback: proc.fallback.stats },
    paidCents,
    feesCents,
    liquidCents,
    ceilingNoBonusCents: ceil.noBonus,
    ceilingCents: ceil.withBonus,
    liquidShare: ceil.noBonus > 0 ? liquidCents / ceil.noBonus : 0,
    audit: au,
    expectedShare: ceil.withBonus > 0 ? (liquidCents * (1.2 - 0.35 * au.pCaught)) / ceil.withBonus : 0,
    unrecordedAtEnd: jobs.filter((j) => !j.row || j.row.recordAt > teardownAt).length,
    maxWaitMs: waits.length ? waits[waits.length - 1]! : 0,
    p99WaitMs: waits.length ? waits[Math.min(waits.length - 1, Math.floor(P99 * waits.length))]! : 0,
    maxHandedOut,
    holds,
    queueRetries,
    backlog,
    boundShare: bound,
    timeline,
  };
}

/**
 * The expected share (units of SimResult.expectedShare) of an oracle that knows the schedule: each payment
 * goes, at the best moment between its arrival and the end, to the cheapest processor then working and
 * stored before teardown. Two oracles, the better one counts: one that uses only delays under the audit
 * margin and `safeMs` (never fined), and one that also uses slower working processors and so is fined for
 * sure (35%). No capacity limits, no probes: a yardstick, not a proof (a policy may beat it by luck).
 */
export function upperBound(sc: SimScenario, arrivals: number[], teardownAt: number, safeMs: number): number {
  const safe = (st: ProcessorState) => !st.failing && st.delayMs < Math.min(sc.auditOffsetMs, safeMs);
  const cuts = [0, ...sc.stages.map((s) => s.atMs)].filter((t) => t < sc.durationMs);
  // the best fee reachable from stage k on (a suffix minimum), for one notion of usable
  const reach = (usable: (st: ProcessorState) => boolean) => {
    const feeAt = cuts.map((t) => {
      let best = Number.POSITIVE_INFINITY;
      for (const p of ["default", "fallback"] as const) {
        const st = stateAt(sc, p, t);
        if (usable(st) && t + st.delayMs <= teardownAt) best = Math.min(best, sc.fees[p]);
      }
      return best;
    });
    for (let k = feeAt.length - 2; k >= 0; k--) feeAt[k] = Math.min(feeAt[k]!, feeAt[k + 1]!);
    let liquid = 0,
      k = 0;
    for (const t of [...arrivals].sort((a, b) => a - b)) {
      while (k + 1 < cuts.length && cuts[k + 1]! <= t) k++;
      if (Number.isFinite(feeAt[k]!)) liquid += sc.amountCents * (1 - feeAt[k]!);
    }
    return liquid;
  };
  const ceil0 = arrivals.length * sc.amountCents * (1 - sc.fees.default);
  if (ceil0 === 0) return 0;
  const careful = reach(safe) / ceil0;
  const bold = reach((st) => !st.failing);
  return Math.max(careful, bold > reach(safe) ? ((bold / ceil0) * (1.2 - 0.35)) / 1.2 : careful);
}
