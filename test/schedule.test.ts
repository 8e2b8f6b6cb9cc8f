// The random schedule family (tools/contest/schedule.ts) and its file form, and the simulator's family report.
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../tools/contest/scenarios";
import { randomSchedule, scheduleByName, scheduleFromJson, scheduleToJson } from "../tools/contest/schedule";
import { policyByName } from "../tools/sim/policies";
import { customScenario, fromContest } from "../tools/sim/scenarios";
import { simulate, upperBound } from "../tools/sim/world";

describe("randomSchedule", () => {
  it("is the same schedule for the same seed, and another one for another seed", () => {
    expect(randomSchedule(42)).toEqual(randomSchedule(42));
    expect(randomSchedule(43)).not.toEqual(randomSchedule(42));
  });

  it("stays inside the family's limits", () => {
    let failing = 0,
      stages = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const s = randomSchedule(seed);
      expect(s.durationS).toBeGreaterThanOrEqual(60);
      expect(s.durationS).toBeLessThanOrEqual(300);
      expect([SCENARIOS.preview.fees, SCENARIOS.final.fees]).toContainEqual(s.fees);
      s.stages.slice(1).forEach((st, i) => {
        const len = st.at - s.stages[i]!.at;
        expect(len).toBeGreaterThanOrEqual(8);
        expect(len).toBeLessThanOrEqual(40);
        for (const d of [st.defaultDelay, st.fallbackDelay]) expect(d >= 0 && d <= 5000).toBe(true);
        failing += Number(st.defaultFailure) + Number(st.fallbackFailure);
        stages += 2;
      });
    }
    expect(failing / stages).toBeGreaterThan(0.2);
    expect(failing / stages).toBeLessThan(0.3);
  });

  it("survives the file form, and names resolve", () => {
    const s = randomSchedule(7);
    expect(scheduleFromJson(scheduleToJson(s))).toEqual(s);
    expect(scheduleByName("random:7")).toEqual(s);
    expect(scheduleByName("final")).toBe(SCENARIOS.final);
    expect(() => scheduleByName("nope")).toThrow(/random:SEED/);
    expect(() =>
      scheduleFromJson('{"durationS": 10, "maxVus": 5, "fees": {"default": 0.05, "fallback": 0.15}}'),
    ).toThrow(/stages/);
  });
});

describe("the oracle's bound", () => {
  it("counts nothing a processor could never take, and the cheaper fee where it can", () => {
    const sc = customScenario({ name: "late" }, [
      [0, 0, false, 0, false],
      [5, 0, true, 0, true],
    ]);
    // arrivals before 5 s get the default fee; after it nothing is reachable
    expect(upperBound(sc, [1000, 2000, 6000, 7000], 11_000, 1200)).toBeCloseTo(0.5, 9);
  });

  it("is at least what the router got on a random schedule", () => {
    const r = simulate({ scenario: fromContest(randomSchedule(3)), policy: policyByName("ours"), seed: 1 });
    expect(r.backlog.length).toBeGreaterThan(60);
    expect(r.expectedShare).toBeLessThanOrEqual(r.boundShare + 1e-9);
  });
});
