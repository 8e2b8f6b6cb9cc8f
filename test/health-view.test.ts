import { describe, expect, it } from "vitest";
import { createMemoryHealth } from "../adapters/stores/memory/health";
import { emptyHealth } from "../handlers/contract/types";
import { HealthView, mergeHealth } from "../handlers/health-view";

function view() {
  let now = 1_000_000;
  const v = new HealthView(createMemoryHealth(), { refreshMs: 200, okWriteMs: 250, now: () => now });
  return {
    v,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("HealthView in-flight evidence", () => {
  it("the oldest request still waiting gives the latency floor", () => {
    const { v, advance } = view();
    v.begin("default", false);
    advance(700);
    v.begin("default", false);
    advance(600);
    expect(v.signals().default.oldestInFlightMs).toBe(1300);
    expect(v.signals().fallback.oldestInFlightMs).toBe(0);
  });

  it("a later request answered normally retires older waiting ones as evidence", () => {
    const { v, advance } = view();
    const slow = v.begin("default", false); // caught in the delay the processor had before
    advance(300);
    const quick = v.begin("default", false); // the processor is fast now: this one comes back at once
    advance(20);
    v.end("default", quick, true);
    advance(1500);
    expect(v.signals().default.oldestInFlightMs).toBe(0);
    v.end("default", slow, true);
  });

  it("probes are spaced but are not latency evidence", () => {
    const { v, advance } = view();
    v.markProbe("default");
    v.begin("default", true);
    advance(1500);
    expect(v.signals().default).toMatchObject({ oldestInFlightMs: 0, lastProbeAt: 1_000_000 });
  });

  it("counts every request still waiting, probes included, for the processor's capacity", () => {
    const { v, advance } = view();
    const a = v.begin("default", false);
    v.begin("default", false);
    v.begin("default", true);
    advance(10);
    v.end("default", a, true); // retires the older evidence, not the requests still waiting
    expect(v.signals().default.inFlight).toBe(2);
    expect(v.signals().fallback.inFlight).toBe(0);
  });

  it("keeps what a scout after a change needs: last latency's send time, recovery, scout slot", async () => {
    const { v, advance } = view();
    await v.observe("default", { at: 1_000_010, ok: true, latencyMs: 10 }, 1_000_000);
    await v.observe("default", { at: 1_000_100, ok: false });
    advance(500);
    await v.observe("default", { at: 1_000_500, ok: true }, 1_000_200); // a probe's success: no latency
    v.markScout("default");
    expect(v.signals().default).toMatchObject({
      latencySentAt: 1_000_000,
      recoveredAt: 1_000_500,
      lastScoutAt: 1_000_500,
    });
  });

  it("a failure does not retire anything", () => {
    const { v, advance } = view();
    v.begin("default", false);
    advance(100);
    const failed = v.begin("default", false);
    advance(100);
    v.end("default", failed, false);
    expect(v.signals().default.oldestInFlightMs).toBe(200);
  });
});

describe("HealthView observations", () => {
  it("a slow answer that arrives after a quick one from a later request does not set the latency", async () => {
    const { v } = view();
    await v.observe("default", { at: 1_000_050, ok: true, latencyMs: 20 }, 1_000_030); // sent after the recovery
    await v.observe("default", { at: 1_000_100, ok: true, latencyMs: 2000 }, 998_100); // sent before it
    expect(v.snapshot().default).toMatchObject({ lastLatencyMs: 20, lastOkAt: 1_000_100 });
    await v.observe("default", { at: 1_000_200, ok: true, latencyMs: 35 }, 1_000_165);
    expect(v.snapshot().default.lastLatencyMs).toBe(35);
  });
});

describe("mergeHealth", () => {
  const base = emptyHealth();
  it("takes polls from the shared state and the newer observation side", () => {
    const mine = { ...base, lastOkAt: 50, lastLatencyMs: 7, failing: true, polledAt: 1 };
    const shared = { ...base, lastErrorAt: 40, errorStreak: 2, failing: false, minResponseTime: 20, polledAt: 30 };
    expect(mergeHealth(mine, shared)).toEqual({
      failing: false,
      minResponseTime: 20,
      polledAt: 30,
      lastOkAt: 50,
      lastErrorAt: 40,
      errorStreak: 0,
      lastLatencyMs: 7,
    });
    const newerShared = { ...shared, lastErrorAt: 60, errorStreak: 3 };
    expect(mergeHealth(mine, newerShared)).toMatchObject({ lastOkAt: 50, lastErrorAt: 60, errorStreak: 3 });
  });
});
