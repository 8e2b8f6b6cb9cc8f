// The contest runner's --schedule and --engine options (tools/contest/args.ts, tools/contest/k6.ts).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "../tools/contest/args";
import { engineOf, findK6 } from "../tools/contest/k6";
import { randomSchedule, scheduleToJson } from "../tools/contest/schedule";

describe("--schedule", () => {
  it("takes random:SEED, a JSON file, or the official names; not together with --scenario", () => {
    expect(parse(["--schedule", "random:5"]).scenario).toEqual(randomSchedule(5));
    const file = join(mkdtempSync(join(tmpdir(), "sched-")), "s.json");
    writeFileSync(file, scheduleToJson(randomSchedule(9)));
    expect(parse(["--schedule", file]).scenario.stages).toEqual(randomSchedule(9).stages);
    expect(parse(["--schedule", "final"]).scenario.name).toBe("final");
    expect(() => parse(["--schedule", "random:x"])).toThrow(/random:SEED/);
    expect(() => parse(["--schedule", "random:1", "--scenario", "final"])).toThrow(/not both/);
  });
});

describe("--engine", () => {
  const cases: [string, string | undefined, number, string][] = [
    ["auto", "/bin/k6", 1, "k6"],
    ["auto", undefined, 1, "built-in"],
    ["auto", "/bin/k6", 0.5, "built-in"],
    ["built-in", "/bin/k6", 1, "built-in"],
    ["k6", "/bin/k6", 1, "k6"],
  ];
  it.each(cases)("%s with k6 %s, scale %s -> %s", (engine, k6, durationScale, want) => {
    expect(engineOf({ engine: engine as "auto", durationScale }, k6)).toBe(want);
  });
  it("asks for k6 when --engine k6 finds none", () => {
    expect(() => engineOf({ engine: "k6", durationScale: 1 }, undefined)).toThrow(/K6=/);
    expect(() => parse(["--scenario", "final", "--engine", "jmeter"])).toThrow(/auto, k6 or built-in/);
  });
  it("finds k6 from K6 or PATH, and nothing in an empty PATH", () => {
    expect(findK6({ K6: process.execPath })).toBe(process.execPath);
    expect(findK6({ PATH: "" })).toBeUndefined();
  });
});
