import { describe, expect, it } from "vitest";
import { emptyHealth, type ProcessorHealth } from "../handlers/contract/types";
import {
  assess,
  atCapacity,
  DEFAULT_ROUTER_PARAMS,
  type ProcessorSignals,
  patienceMs,
  type RouterParams,
  route,
} from "../handlers/policy";

const NOW = 1_000_000;
const params: RouterParams = { ...DEFAULT_ROUTER_PARAMS, fees: { default: 0.05, fallback: 0.15 } };

function sig(h: Partial<ProcessorHealth> = {}, s: Partial<Omit<ProcessorSignals, "health">> = {}): ProcessorSignals {
  return { health: { ...emptyHealth(), ...h }, oldestInFlightMs: 0, lastProbeAt: 0, ...s };
}
const polled = (failing: boolean, minResponseTime: number, ago = 1000) => ({
  failing,
  minResponseTime,
  polledAt: NOW - ago,
});
const erroring = { lastErrorAt: NOW - 100, errorStreak: 3, lastOkAt: NOW - 1000 };
const probing = { lastProbeAt: NOW - 100 };
/** A payment that has waited out its patience for the cheaper processor. */
const PATIENT = DEFAULT_ROUTER_PARAMS.feeHoldMs;

describe("route", () => {
  const cases: [string, ProcessorSignals, ProcessorSignals, number, string, boolean?][] = [
    ["nothing known yet: the cheaper one", sig(), sig(), 0, "default"],
    ["both healthy", sig(polled(false, 0)), sig(polled(false, 0)), 0, "default"],
    [
      "default slower but inside the audit margin (1000 ms): still the cheaper",
      sig(polled(false, 1000)),
      sig(polled(false, 0)),
      0,
      "default",
    ],
    ["default at 2000 ms (unsafe), fallback fine", sig(polled(false, 2000)), sig(polled(false, 0)), 0, "fallback"],
    [
      "default failing by poll, fallback fine: probe default first",
      sig(polled(true, 100)),
      sig(polled(false, 0)),
      0,
      "default",
      true,
    ],
    [
      "default failing, probed 100 ms ago: fallback (patience spent)",
      sig(polled(true, 100), probing),
      sig(polled(false, 0)),
      PATIENT,
      "fallback",
    ],
    [
      "default failing, last probe 2 s ago (maybe still waiting): probe again",
      sig(polled(true, 100), { lastProbeAt: NOW - 2000 }),
      sig(polled(false, 0)),
      0,
      "default",
      true,
    ],
    [
      "default failing, last probe 1 s ago: not yet (patience spent)",
      sig(polled(true, 100), { lastProbeAt: NOW - 1000 }),
      sig(polled(false, 0)),
      PATIENT,
      "fallback",
    ],
    [
      "default erroring (observed), probed recently: fallback (patience spent)",
      sig(erroring, probing),
      sig(polled(false, 0)),
      PATIENT,
      "fallback",
    ],
    ["default erroring (observed), probe due: probe it", sig(erroring), sig(polled(false, 0)), 0, "default", true],
    [
      "error older than the cooldown is forgotten",
      sig({ ...erroring, lastErrorAt: NOW - 5000, lastOkAt: NOW - 6000 }),
      sig(),
      0,
      "default",
    ],
    [
      "a success after the error clears it",
      sig({ ...erroring, lastOkAt: NOW - 50, lastLatencyMs: 10 }),
      sig(),
      0,
      "default",
    ],
    [
      "a success after a failing poll means it recovered",
      sig({ ...polled(true, 0, 2000), lastOkAt: NOW - 500, lastLatencyMs: 5 }),
      sig(),
      0,
      "default",
    ],
    ["stale failing poll is ignored", sig(polled(true, 0, 60_000)), sig(), 0, "default"],
    [
      "a request stuck for 1.5 s marks default slow",
      sig(polled(false, 100), { oldestInFlightMs: 1500 }),
      sig(polled(false, 0)),
      0,
      "fallback",
    ],
    [
      "final 270 s: known 103 ms, a request waiting 350 ms: the delay jumped, default slow",
      sig(polled(false, 103), { oldestInFlightMs: 350 }),
      sig(polled(false, 0)),
      0,
      "fallback",
    ],
    [
      "known 103 ms, oldest waiting 200 ms: within the margin (100 ms)",
      sig(polled(false, 103), { oldestInFlightMs: 200 }),
      sig(polled(false, 0)),
      0,
      "default",
    ],
    [
      "final 30 s: known 1000 ms, waiting 1100 ms: within the margin, still default",
      sig(polled(false, 1000), { oldestInFlightMs: 1100 }),
      sig(polled(false, 0)),
      0,
      "default",
    ],
    [
      "an observed 2 s latency is still remembered 6 s later (poll period ~6 s)",
      sig({ ...polled(false, 100, 8000), lastOkAt: NOW - 6000, lastLatencyMs: 2000 }),
      sig(polled(false, 0)),
      0,
      "fallback",
    ],
    [
      "observed latency newer than the poll wins",
      sig({ ...polled(false, 0, 4000), lastOkAt: NOW - 100, lastLatencyMs: 2000 }),
      sig(polled(false, 0)),
      0,
      "fallback",
    ],
    [
      "a poll newer than the observation wins",
      sig({ ...polled(false, 20, 100), lastOkAt: NOW - 2000, lastLatencyMs: 2000 }),
      sig(polled(false, 0)),
      0,
      "default",
    ],
    [
      "both failing, both probed recently: hold",
      sig(polled(true, 2000), probing),
      sig(polled(true, 1000), probing),
      0,
      "hold",
    ],
    [
      "both failing, fallback probe due: probe fallback (patience spent)",
      sig(polled(true, 2000), probing),
      sig(polled(true, 1000)),
      PATIENT,
      "fallback",
      true,
    ],
    [
      "preview 30-40 s: default failing at 2000 ms is never probed (it may recover mid-delay and land late)",
      sig(polled(true, 2000)),
      sig(polled(true, 1000), probing),
      0,
      "hold",
    ],
    [
      "final 120-150 s: default failing at 5000 ms, fallback ok: no probe, fallback (patience spent)",
      sig(polled(true, 5000)),
      sig(polled(false, 5)),
      PATIENT,
      "fallback",
    ],
    [
      "both slow and working: hold (a late insert would break the audit)",
      sig(polled(false, 2000)),
      sig(polled(false, 5000)),
      1000,
      "hold",
    ],
    [
      "both slow, waited past maxHold: the faster one",
      sig(polled(false, 5000)),
      sig(polled(false, 2000)),
      DEFAULT_ROUTER_PARAMS.maxHoldMs + 1000,
      "fallback",
    ],
    [
      "default slow, fallback failing: hold (probe fallback not due)",
      sig(polled(false, 2000)),
      sig(polled(true, 0), probing),
      0,
      "hold",
    ],
    [
      "final 90s: default 2000 failing, fallback 1000 ok (patience spent)",
      sig(polled(true, 2000)),
      sig(polled(false, 1000)),
      PATIENT,
      "fallback",
    ],
    ["final 150s: default 0 ok, fallback failing", sig(polled(false, 0)), sig(polled(true, 5)), 0, "default"],
    [
      "preview 20-30 s: default failing, probed, fallback ok, a new payment: waits for default",
      sig(polled(true, 100), probing),
      sig(polled(false, 0)),
      0,
      "hold",
    ],
    [
      "the same, the payment waited 19.9 s: still waits",
      sig(polled(true, 100), probing),
      sig(polled(false, 0)),
      PATIENT - 100,
      "hold",
    ],
    ["the same, patience spent: fallback", sig(polled(true, 100), probing), sig(polled(false, 0)), PATIENT, "fallback"],
    [
      "default erroring (observed), probed, a new payment: waits",
      sig(erroring, probing),
      sig(polled(false, 0)),
      0,
      "hold",
    ],
    [
      "default slow, not failing: no waiting, fallback at once",
      sig(polled(false, 2000)),
      sig(polled(false, 0)),
      0,
      "fallback",
    ],
  ];
  it.each(cases)("%s -> %s", (_name, d, f, waited, target, probe = false) => {
    const r = route({ default: d, fallback: f }, NOW, waited, params);
    expect(r.target).toBe(target);
    expect(r.probe).toBe(probe);
  });

  it("waits for nobody with feeHoldMs 0", () => {
    const r = route({ default: sig(polled(true, 100), probing), fallback: sig(polled(false, 0)) }, NOW, 0, {
      ...params,
      feeHoldMs: 0,
    });
    expect(r.target).toBe("fallback");
  });

  it("prefers whichever is cheaper when fees say so", () => {
    const r = route({ default: sig(), fallback: sig() }, NOW, 0, { ...params, fees: { default: 0.2, fallback: 0.1 } });
    expect(r.target).toBe("fallback");
  });
});

describe("assess", () => {
  it.each([
    [sig(polled(false, 1199)), "ok"],
    [sig(polled(false, 1200)), "slow"],
    [sig(polled(true, 0)), "failing"],
    [sig({}, { oldestInFlightMs: 5000 }), "slow"],
    [sig(erroring), "failing"],
  ] as const)("%# -> %s", (s, status) => {
    expect(assess(s, NOW, params).status).toBe(status);
  });
});

describe("patienceMs: the bet on the cheaper processor's recovery", () => {
  const preview = { default: 0.05, fallback: 0.15 };
  const final = { default: 0.07, fallback: 0.1 };
  it.each([
    ["no horizon: FEE_HOLD_MS alone", preview, 20_000, 0, 20_000],
    ["preview fees, 190 s horizon: gap 10% of 95% -> 20 s", preview, 20_000, 190_000, 20_000],
    ["final fees, 190 s horizon: gap 3% of 93% -> 6.1 s", final, 20_000, 190_000, 6129],
    ["equal fees: nothing to gain, no wait", { default: 0.1, fallback: 0.1 }, 20_000, 190_000, 0],
    ["fees the other way round: the gap counts the same", { default: 0.1, fallback: 0.07 }, 20_000, 190_000, 6129],
  ] as const)("%s", (_n, fees, feeHoldMs, holdHorizonMs, want) => {
    expect(patienceMs({ fees, feeHoldMs, holdHorizonMs })).toBe(want);
  });
});

// Situations the random schedule family (npm run sim -- --family 200) exposed.
describe("route in the family's situations", () => {
  const finalFees: RouterParams = { ...params, fees: { default: 0.07, fallback: 0.1 }, holdHorizonMs: 190_000 };
  const down = sig(polled(true, 100), probing);
  const up = sig(polled(false, 0));
  const cases: [string, ProcessorSignals, ProcessorSignals, number, RouterParams, string][] = [
    ["a failure that may outlast the run, final fees: hold a young payment", down, up, 1000, finalFees, "hold"],
    ["... but not past the final fees' patience (6.1 s): pay the dearer fee", down, up, 6200, finalFees, "fallback"],
    ["... the preview fees' gap is worth a longer bet", down, up, 6200, { ...finalFees, fees: params.fees }, "hold"],
    [
      "both slow (2 s and 3 s): hold, a late row risks a fine",
      sig(polled(false, 2000)),
      sig(polled(false, 3000)),
      1000,
      params,
      "hold",
    ],
    [
      "both slow for 60 s (two bad stages): still hold, the late rows would fine the whole run",
      sig(polled(false, 2000)),
      sig(polled(false, 3000)),
      60_000,
      params,
      "hold",
    ],
    [
      "both slow past MAX_HOLD_MS: the faster one",
      sig(polled(false, 3000)),
      sig(polled(false, 2000)),
      DEFAULT_ROUTER_PARAMS.maxHoldMs,
      params,
      "fallback",
    ],
    [
      "flapping: an error 100 ms ago after the last success -> failing, so the fallback once patience is spent",
      sig({ ...erroring, polledAt: NOW - 3000, minResponseTime: 10 }, probing),
      up,
      PATIENT,
      params,
      "fallback",
    ],
    [
      "flapping: a success after the last error -> the cheaper one again at once",
      sig({ lastErrorAt: NOW - 500, errorStreak: 0, lastOkAt: NOW - 100, lastLatencyMs: 10 }),
      up,
      PATIENT,
      params,
      "default",
    ],
  ];
  it.each(cases)("%s -> %s", (_name, d, f, waited, p, target) => {
    expect(route({ default: d, fallback: f }, NOW, waited, p).target).toBe(target);
  });
});

// A held backlog released at once queues at the processor (800 run, the rest wait a whole delay more), and
// the queued rows land late even at a safe delay (random:34: 1,191 ms, 9,000 held).
describe("route: a released backlog goes at the processor's capacity", () => {
  const at = (delay: number, inFlight: number) => sig(polled(false, delay), { inFlight });
  const cases: [string, ProcessorSignals, number, RouterParams, string][] = [
    ["1,191 ms, 799 of ours waiting there: one more", at(1191, 799), 0, params, "default"],
    ["1,191 ms, 800 waiting: a queued one would wait 2.4 s, hold", at(1191, 800), 0, params, "hold"],
    ["500 ms, 1,500 waiting: two rounds of 800 fit in the safe latency", at(500, 1500), 0, params, "default"],
    ["500 ms, 1,600 waiting: hold", at(500, 1600), 0, params, "hold"],
    ["the same with PROCESSOR_SLOTS 0: no limit", at(500, 1600), 0, { ...params, processorSlots: 0 }, "default"],
    ["a view that does not count: no limit", sig(polled(false, 1191)), 0, params, "default"],
  ];
  it.each(cases)("%s -> %s", (_name, d, waited, p, target) => {
    expect(route({ default: d, fallback: sig(polled(false, 0)) }, NOW, waited, p).target).toBe(target);
  });

  it.each([
    ["young: waits its turn at the cheaper one", "hold", 1000, sig(polled(false, 0))],
    ["past the patience: the dearer one, usable at once", "fallback", PATIENT, sig(polled(false, 0))],
    ["past the patience, the dearer one slow: waits", "hold", PATIENT, sig(polled(false, 2000))],
    ["past the patience, the dearer one failing: waits", "hold", PATIENT, sig(polled(true, 0))],
    ["past the patience, the dearer one full too: waits", "hold", PATIENT, at(1000, 800)],
  ] as const)("the cheaper one full, %s -> %s", (_name, target, waited, f) => {
    expect(route({ default: at(1000, 800), fallback: f }, NOW, waited, params).target).toBe(target);
  });

  it("counts the dearer one's capacity too", () => {
    const r = route({ default: sig(polled(true, 0), probing), fallback: at(1000, 800) }, NOW, PATIENT, params);
    expect(r).toMatchObject({ target: "hold", reason: "default failing, fallback ok, at capacity" });
  });

  it.each([
    [799, 1000, 800, false],
    [800, 1000, 800, true],
    [800, 1199, 800, true],
    [2399, 400, 800, false],
    [2400, 400, 800, true],
    [5000, 1000, 0, false],
  ])("atCapacity: %i waiting at %i ms, %i slots -> %s", (inFlight, delay, processorSlots, want) => {
    const s = sig(polled(false, delay), { inFlight });
    expect(atCapacity(s, assess(s, NOW, params), { ...params, processorSlots })).toBe(want);
  });
});

// Stages change both processors at once (the family's and the contest's schedules): when the cheaper one
// jumps, the dearer one's latency is from before the change too (random:34 at 149 s: 50 -> 5,000 ms and
// 100 -> 2,000 ms; 84 rows went late at the fallback before it was found overdue in turn).
describe("route: after a jump, one scout to the other processor", () => {
  const jumped = sig(polled(false, 0), { oldestInFlightMs: 400 }); // changed by NOW - 400
  const before = { ...polled(false, 0, 1000), lastOkAt: NOW - 900, lastLatencyMs: 1, latencySentAt: NOW - 901 };
  const cases: [string, ProcessorSignals, string, boolean][] = [
    ["what we know of it predates the change: this payment is its scout", sig(before), "fallback", true],
    ["a scout is under way: the others wait for it", sig(before, { lastScoutAt: NOW - 100 }), "hold", false],
    [
      "a scout gone 200 ms without an answer and not in flight (a 429): another one",
      sig(before, { lastScoutAt: NOW - 200 }),
      "fallback",
      true,
    ],
    [
      "a scout from before the change does not count",
      sig(before, { lastScoutAt: NOW - 500, latencySentAt: NOW - 901 }),
      "fallback",
      true,
    ],
    ["its scout answered: the fallback at once", sig(before, { latencySentAt: NOW - 300 }), "fallback", false],
    ["a poll after the change says it is fine: no scout", sig(polled(false, 0, 200)), "fallback", false],
    ["the scout is overdue too: both changed, hold", sig(before, { oldestInFlightMs: 300 }), "hold", false],
  ];
  it.each(cases)("%s -> %s", (_name, f, target, scout) => {
    const r = route({ default: jumped, fallback: f }, NOW, 0, params);
    expect(r.target).toBe(target);
    expect("scout" in r && r.scout === true).toBe(scout);
  });

  it("sends as before with scoutOnChange off", () => {
    const r = route({ default: jumped, fallback: sig(before) }, NOW, 0, { ...params, scoutOnChange: false });
    expect(r).toMatchObject({ target: "fallback" });
    expect("scout" in r && r.scout).toBeFalsy();
  });

  // A probe's success ends the failure and says nothing of the delay now (random:32 at 69 s: failing at
  // 540 ms, back at 3,280 ms).
  const back = { ...polled(true, 540, 3000), lastOkAt: NOW - 50, lastLatencyMs: 540 };
  const probed = { latencySentAt: NOW - 20_000, recoveredAt: NOW - 50 };
  it.each([
    ["back after a probe: this payment is its scout", sig(back, probed), "default", true],
    ["its scout under way: the others wait", sig(back, { ...probed, lastScoutAt: NOW - 20 }), "hold", false],
    ["its scout answered: the default at once", sig(back, { ...probed, latencySentAt: NOW - 30 }), "default", false],
    [
      "a poll since then (it says 3,280 ms): the fallback, no scout",
      sig({ ...back, failing: false, minResponseTime: 3280, polledAt: NOW - 10 }, probed),
      "fallback",
      false,
    ],
  ] as const)("%s -> %s", (_name, d, target, scout) => {
    const r = route({ default: d, fallback: sig(polled(false, 0)) }, NOW, 0, params);
    expect(r.target).toBe(target);
    expect("scout" in r && r.scout === true).toBe(scout);
  });

  it("assess says by when an overdue processor changed", () => {
    expect(assess(jumped, NOW, params)).toEqual({ status: "slow", latencyMs: 400, changedBy: NOW - 400 });
  });
});
