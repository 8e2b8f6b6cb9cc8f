// The coarsening rule every store applies to its old totals (handlers/contract/coarsen.ts).
import { describe, expect, it } from "vitest";
import { COARSE_LEVELS, coarseCuts, groupAt, nextCuts, oldEdge } from "../handlers/contract/coarsen";

const B = 100;
const HOUR = 3_600_000;
const zeros = new Array(COARSE_LEVELS).fill(0);

describe("coarseCuts", () => {
  // A horizon on 2026-12-02 (a bucket boundary) and the contest profile's 2 minutes / the 24 h default.
  const h = 1_796_000_000_000;
  const hb = h / B;

  it.each([
    ["no detail window: never coarser", h, undefined, zeros],
    ["Infinity: never coarser", h, Infinity, zeros],
    ["no horizon yet", -Infinity, HOUR, zeros],
    ["a horizon before any bucket", -1, HOUR, zeros],
  ])("%s", (_, horizon, detail, want) => {
    expect(coarseCuts(horizon, detail)).toEqual(want);
  });

  it.each([
    [120_000, 1],
    [120_000, 2],
    [120_000, 3],
    [24 * HOUR, 1],
    [24 * HOUR, 2],
    [1000, 5],
  ])("detail %i ms, level %i: starts detail x 16^(k-1) before the horizon, on a whole group", (detail, k) => {
    const cut = coarseCuts(h, detail)[k - 1]!;
    const group = 16 ** k;
    expect(cut % group).toBe(0);
    const start = hb - (detail / B) * 16 ** (k - 1);
    expect(cut).toBeLessThanOrEqual(start);
    expect(cut).toBeGreaterThan(start - group);
  });

  it("every cut is a whole group, >= 0 and none above the one before it", () => {
    for (const detail of [1000, 120_000, HOUR, 24 * HOUR, 365 * 24 * HOUR]) {
      const cuts = coarseCuts(h, detail);
      cuts.forEach((c, i) => {
        expect(c % 16 ** (i + 1)).toBe(0);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(i === 0 ? hb : cuts[i - 1]!);
      });
    }
  });

  it("a detail window longer than all history coarsens nothing", () => {
    expect(coarseCuts(h, 1e15)).toEqual(zeros);
  });
});

describe("nextCuts", () => {
  const c = (...xs: number[]) => [...xs, ...zeros].slice(0, COARSE_LEVELS);

  it.each([
    ["from nothing, takes what is wanted", c(), c(512, 256), c(512, 256)],
    ["never moves back", c(1024, 512), c(512, 256), c(1024, 512)],
    ["moves forward", c(512, 256), c(528, 256), c(528, 256)],
    // A coarser level never reaches past the finer one it relies on: level 2 stops at level 1's cut.
    ["clamped to the finer cut, on a whole group", c(16), c(16, 4096), c(16, 0)],
    ["clamped, keeping what it held", c(272, 256), c(272, 4096), c(272, 256)],
  ])("%s", (_, held, wanted, want) => {
    expect(nextCuts(held, wanted)).toEqual(want);
  });
});

describe("groupAt and oldEdge", () => {
  const cuts = [...[4096, 512], ...zeros].slice(0, COARSE_LEVELS); // 1.6 s groups below 409.6 s, 25.6 s below 51.2 s

  it.each([
    [5000, 1],
    [4096, 1],
    [4095, 16],
    [512, 16],
    [511, 256],
    [0, 256],
  ])("bucket %i sits in a group of %i", (bucket, g) => {
    expect(groupAt(bucket, cuts)).toBe(g);
  });

  it.each([
    ["a bucket above every cut: its own end", 500_050, 500_099],
    ["in 1.6 s groups: the group's end", 100_050, 100_799],
    ["at a group's start", 102_400, 103_999],
    ["in 25.6 s groups", 30_000, 51_199],
  ])("%s", (_, t, want) => {
    expect(oldEdge(t, cuts)).toBe(want);
  });

  it("with no cuts, an edge moves to its 100 ms bucket's end", () => {
    expect(oldEdge(30_050, zeros)).toBe(30_099);
    expect(oldEdge(30_000, zeros)).toBe(30_099);
  });
});
