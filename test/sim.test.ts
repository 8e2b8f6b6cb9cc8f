// Behaviour of the offline routing simulator (tools/sim/): determinism, the books, the audit model.
import { describe, expect, it } from "vitest";
import { audit, exposure } from "../tools/sim/audit";
import { policyByName } from "../tools/sim/policies";
import { customScenario, OFFICIAL, stateAt } from "../tools/sim/scenarios";
import { ceilingOf, simulate } from "../tools/sim/world";

const ours = policyByName("ours");
const calm = customScenario({ name: "calm" }, [[0, 0, false, 0, false]]);

describe("simulate", () => {
  it("is deterministic for a seed", () => {
    const sc = customScenario({ name: "mixed" }, [
      [0, 0, false, 0, false],
      [3, 100, true, 20, false],
      [6, 1800, false, 0, false],
    ]);
    const a = simulate({ scenario: sc, policy: ours, seed: 7 });
    const b = simulate({ scenario: sc, policy: ours, seed: 7 });
    expect(b).toEqual(a);
    expect(a.accepted).toBeGreaterThan(0);
  });

  it("a calm schedule: everything on default, nothing lagging, nothing risky", () => {
    const r = simulate({ scenario: calm, policy: ours, seed: 1 });
    expect(r.processors.default.counted).toBe(r.accepted);
    expect(r.processors.fallback.counted).toBe(0);
    expect(r.lag).toBe(0);
    expect(r.audit.risky).toBe(0);
    expect(r.audit.pCaught).toBe(0);
    expect(r.liquidShare).toBeCloseTo(1, 9);
    expect(r.expectedShare).toBeCloseTo(1, 9);
  });

  it("a failing default sends payments to the fallback (without patience), and none is lost", () => {
    const sc = customScenario({ name: "default down" }, [[0, 50, true, 0, false]]);
    const r = simulate({ scenario: sc, policy: ours, seed: 1, params: { feeHoldMs: 0 } });
    expect(r.processors.default.counted).toBe(0);
    expect(r.processors.default.status500).toBeGreaterThan(0); // probes
    expect(r.processors.fallback.counted).toBe(r.accepted);
    expect(r.lag).toBe(0);
  });

  it("with patience, a default failing for 5 s gets every payment: they wait for it", () => {
    const sc = customScenario({ name: "blip", durationMs: 12_000 }, [
      [0, 0, false, 0, false],
      [2, 0, true, 0, false],
      [7, 0, false, 0, false],
    ]);
    const patient = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(patient.processors.fallback.counted).toBe(0);
    expect(patient.processors.default.counted).toBe(patient.accepted);
    expect(patient.holds).toBeGreaterThan(0);
    const hasty = simulate({ scenario: sc, policy: ours, seed: 1, params: { feeHoldMs: 0 } });
    expect(hasty.processors.fallback.counted).toBeGreaterThan(0);
  });

  it("patience ends: a payment waits feeHoldMs for a failing default, then goes to the fallback", () => {
    const sc = customScenario({ name: "default down", durationMs: 40_000 }, [[0, 50, true, 0, false]]);
    const r = simulate({ scenario: sc, policy: ours, seed: 1, params: { feeHoldMs: 5000 } });
    expect(r.processors.default.counted).toBe(0);
    expect(r.processors.fallback.counted).toBeGreaterThan(0);
    // Only the last 5 s of payments are still waiting when the run ends.
    expect(r.lag).toBeGreaterThan(0);
    expect(r.lag).toBeLessThan(r.accepted * 0.25);
  });

  it("default-only waits for a failing default and drains when it recovers", () => {
    const sc = customScenario({ name: "blip", durationMs: 12_000 }, [
      [0, 0, false, 0, false],
      [2, 0, true, 0, false],
      [5, 0, false, 0, false],
    ]);
    const r = simulate({ scenario: sc, policy: policyByName("default-only"), seed: 1 });
    expect(r.processors.fallback.counted).toBe(0);
    expect(r.processors.default.counted).toBe(r.accepted);
    expect(r.queueRetries).toBeGreaterThan(0);
  });

  it("both failing: payments are held, then all land once one recovers", () => {
    const sc = customScenario({ name: "both down", durationMs: 12_000 }, [
      [0, 0, false, 0, false],
      [2, 100, true, 100, true],
      [6, 0, false, 0, false],
    ]);
    const r = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(r.holds).toBeGreaterThan(0);
    expect(r.lag).toBe(0);
  });

  it("a slow default (3 s) is risky for the latency-blind policy and avoided by ours", () => {
    const sc = customScenario({ name: "slow default", auditOffsetMs: 2000 }, [[0, 3000, false, 0, false]]);
    const blind = simulate({ scenario: sc, policy: policyByName("latency-blind"), seed: 1 });
    const r = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(blind.audit.risky).toBeGreaterThan(r.audit.risky);
    expect(blind.audit.pCaught).toBeGreaterThan(0);
    expect(r.processors.fallback.counted).toBeGreaterThan(r.processors.default.counted);
  });

  it("the overdue rule (now in ours) reacts sooner to a default that suddenly slows to 2 s", () => {
    const sc = customScenario({ name: "jump", maxVus: 100, auditOffsetMs: 2000 }, [
      [0, 0, false, 0, false],
      [5, 2000, false, 0, false],
    ]);
    const without = simulate({ scenario: sc, policy: ours, seed: 1, params: { overdueMarginMs: 1e9 } });
    const r = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(without.audit.risky).toBeGreaterThan(0);
    expect(r.audit.risky).toBeLessThan(without.audit.risky);
  });

  it("releases a held backlog at the processor's capacity: no row queued there past the audit margin", () => {
    // both fail (safe delays) while a backlog builds, then the default works at 1,100 ms: 800 run at once,
    // and a queued request would wait 2.2 s (random:34 at 179 s)
    const sc = customScenario({ name: "release", maxVus: 600, durationMs: 20_000, auditOffsetMs: 1500 }, [
      [0, 0, false, 0, false],
      [1, 50, true, 50, true],
      [12, 1100, false, 50, true],
    ]);
    const unlimited = simulate({ scenario: sc, policy: ours, seed: 1, params: { processorSlots: 0 } });
    const r = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(unlimited.audit.risky).toBeGreaterThan(0);
    expect(r.audit.risky).toBe(0);
    expect(r.processors.default.counted).toBeGreaterThan(0); // the backlog did go
  });

  it("after a jump of both at once, the fallback gets one scout, not a known latency of payments", () => {
    const sc = customScenario({ name: "double jump", maxVus: 300, durationMs: 12_000, auditOffsetMs: 1500 }, [
      [0, 0, false, 0, false],
      [6, 2000, false, 3000, false],
    ]);
    const late = (r: ReturnType<typeof simulate>) => r.audit.spans.filter((s) => s.fromMs > 8500).length;
    const without = simulate({ scenario: sc, policy: ours, seed: 1, params: { scoutOnChange: false } });
    const r = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(without.processors.fallback.counted).toBeGreaterThan(1);
    expect(r.processors.fallback.counted).toBeLessThanOrEqual(1);
    expect(late(r)).toBeLessThanOrEqual(late(without));
  });

  it("never probes a failing processor whose delay is unsafe (it may recover mid-delay and land late)", () => {
    // default fails at 2 s delay, then recovers; fallback fine throughout
    const sc = customScenario({ name: "recover", maxVus: 100, auditOffsetMs: 1500 }, [
      [0, 0, false, 0, false],
      [3, 2000, true, 0, false],
      [8, 20, false, 0, false],
    ]);
    const r = simulate({ scenario: sc, policy: ours, seed: 1 });
    expect(r.audit.risky).toBe(0);
  });

  it("counts from the processors (final) or from our ledger (preview) at teardown", () => {
    // 5 s delay, run ends while the last payments are still inside the processor.
    const rows: [number, number, boolean, number, boolean][] = [
      [0, 0, false, 0, false],
      [7, 5000, false, 5000, false],
    ];
    const byProc = simulate({
      scenario: customScenario({ name: "p", countedFrom: "processors" }, rows),
      policy: policyByName("default-only"),
      seed: 1,
    });
    const byUs = simulate({
      scenario: customScenario({ name: "b", countedFrom: "backend" }, rows),
      policy: policyByName("default-only"),
      seed: 1,
    });
    expect(byProc.lag).toBeGreaterThan(0);
    expect(byUs.lag).toBeGreaterThanOrEqual(byProc.lag);
    expect(byProc.accepted).toBe(byUs.accepted);
  });

  it("the official preview ramp accepts about the number of payments docs/contest.md gives (16,750)", () => {
    const r = simulate({ scenario: OFFICIAL.preview, policy: ours, seed: 1 });
    expect(Math.abs(r.accepted - 16_750) / 16_750).toBeLessThan(0.01);
  });
});

describe("scenario table", () => {
  it("follows the stage table, and starts at delay 0 / not failing", () => {
    expect(stateAt(OFFICIAL.final, "default", 500)).toEqual({ delayMs: 0, failing: false });
    expect(stateAt(OFFICIAL.final, "default", 95_000)).toEqual({ delayMs: 2000, failing: true });
    expect(stateAt(OFFICIAL.final, "fallback", 150_000)).toEqual({ delayMs: 5, failing: true });
    expect(OFFICIAL.preview.auditOffsetMs).toBe(1500);
    expect(OFFICIAL.final.auditOffsetMs).toBe(2000);
  });
});

describe("ceiling", () => {
  it("is every accepted payment at the default fee, with and without the 20% bonus", () => {
    const c = ceilingOf(100, 2000, 0.05);
    expect(c.noBonus).toBeCloseTo(190_000, 6);
    expect(c.withBonus).toBeCloseTo(228_000, 6);
  });
});

describe("audit", () => {
  const o = { offsetMs: 1500, fromMs: 15_000, everyMs: 10_000, endMs: 60_000, skewMs: 5 };

  it("an insert within the offset, recorded at once, is never exposed", () => {
    expect(exposure({ r: 1000, insertAt: 2000, recordAt: 2002 }, o)).toBeNull();
  });

  it("a late insert is exposed from (insert - skew) to (record + skew)", () => {
    expect(exposure({ r: 1000, insertAt: 3100, recordAt: 3102 }, o)).toEqual([3095, 3107]);
  });

  it("an on-time insert recorded late is exposed once its requestedAt enters the window", () => {
    expect(exposure({ r: 1000, insertAt: 1100, recordAt: 9000 }, o)).toEqual([2500, 9005]);
  });

  it("P(fine) is the share of check phases that hit an exposure", () => {
    // 100 late rows 10 ms apart, each exposed 12 ms: the union is [9995, 10997) = 1002 ms of the 10 s cycle.
    const rows = Array.from({ length: 100 }, (_, i) => ({
      r: 8000 + 10 * i,
      insertAt: 10_000 + 10 * i,
      recordAt: 10_002 + 10 * i,
    }));
    const a = audit(rows, o);
    expect(a.risky).toBe(100);
    expect(a.exposedMs).toBe(1002);
    expect(a.pCaught).toBeCloseTo(0.1002, 6);
    expect(a.spans).toHaveLength(1);
  });
});
