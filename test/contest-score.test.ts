// The contest runner's pure scoring math (tools/contest/score.ts, money.ts, scenarios.ts).
import { describe, expect, it } from "vitest";
import { dec, mul, round, toNumber } from "../tools/contest/money";
import { parseQueueDepth } from "../tools/contest/monitor";
import { planOf, SCENARIOS, vuStartMs } from "../tools/contest/scenarios";
import {
  bonusPercent,
  ceilingOf,
  finePercent,
  inconsistencyFinal,
  inconsistencyPreview,
  lagOf,
  percentile,
  round2,
  scoreOf,
} from "../tools/contest/score";

describe("bonusPercent: max(round2((11 - p99) * 0.02), 0), half-up", () => {
  it.each([
    [0, 22],
    [0.5, 21],
    [0.74, 21],
    [0.75, 21],
    [0.76, 20],
    [1.24, 20],
    [1.25, 20],
    [1.26, 19],
    [1.74, 19],
    [1.75, 19],
    [1.76, 18],
    [2.25, 18],
    [2.26, 17],
    [2.55, 17],
    [3.99, 14],
    [9.6, 3],
    [10.75, 1],
    [10.76, 0],
    [11, 0],
    [12, 0],
    [1500, 0],
  ])("p99 %s ms -> %s percent", (p99, pct) => {
    expect(bonusPercent(p99)).toBe(pct);
  });

  it("rounds an unrounded p99 to 2 decimals first (1.2549 -> 1.25 -> 20%, 1.255 -> 1.26 -> 19%)", () => {
    expect(bonusPercent(1.2549)).toBe(20);
    expect(bonusPercent(1.255)).toBe(19);
  });
});

describe("round2 is half-up on the decimal form, not on the binary float", () => {
  it.each([
    [1.005, 1.01],
    [1.255, 1.26],
    [2.675, 2.68],
    [1.2549999, 1.25],
    [0.125, 0.13],
    [9.6, 9.6],
    [3.994999, 3.99],
    [1e-7, 0],
  ])("%s -> %s", (x, want) => {
    expect(round2(x)).toBe(want);
  });
});

describe("fine and lag", () => {
  it.each([
    [0, 0],
    [1, 35],
    [126, 35],
    [-3, 0],
  ])("inconsistencies %s -> fine %s percent", (n, pct) => {
    expect(finePercent(n)).toBe(pct);
  });
  it.each([
    [100, 100, 0],
    [100, 90, 10],
    [100, 101, -1],
  ])("accepted %s, counted %s -> lag %s", (a, c, lag) => {
    expect(lagOf(a, c)).toBe(lag);
  });
});

describe("consistency formulas", () => {
  const b = (d: number, f: number) => ({
    default: { totalRequests: d, totalAmount: 0 },
    fallback: { totalRequests: f, totalAmount: 0 },
  });
  const p = (n: number) => ({ totalRequests: n, totalAmount: 0 });
  it.each([
    // backend d/f, processors d/f, final (absolute), preview (signed)
    [10, 5, 10, 5, 0, 0],
    [11, 5, 10, 5, 1, 1],
    [9, 5, 10, 5, 1, -1],
    [11, 4, 10, 5, 2, 0], // one payment counted under the wrong processor: preview misses it
    [0, 0, 10, 5, 15, -15],
  ])("backend %s/%s vs processors %s/%s -> final %s, preview %s", (bd, bf, pd, pf, fin, prev) => {
    expect(inconsistencyFinal(b(bd, bf), p(pd), p(pf))).toBe(fin);
    expect(inconsistencyPreview(b(bd, bf), p(pd), p(pf))).toBe(prev);
  });
});

describe("percentile (k6 Trend: linear interpolation at p*(n-1))", () => {
  const xs = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  it.each([
    [0, 1],
    [0.5, 5.5],
    [0.99, 9.91],
    [1, 10],
  ])("p%s of 1..10 -> %s", (q, want) => {
    expect(percentile(xs, q)).toBeCloseTo(want, 10);
  });
  it("handles 0 and 1 samples", () => {
    expect(percentile([], 0.99)).toBe(0);
    expect(percentile([7], 0.99)).toBe(7);
  });
  it("p99 of 1..100000 interpolates between the two ranks around 99%", () => {
    const big = Float64Array.from({ length: 100_000 }, (_, i) => i + 1);
    expect(percentile(big, 0.99)).toBeCloseTo(99_000.01, 6);
  });
});

describe("exact money", () => {
  it("sums and multiplies decimals without float drift", () => {
    expect(toNumber(dec(0.1) + dec(0.2))).toBe(0.3);
    expect(toNumber(mul(dec(0.07), dec(119177.2)))).toBe(8342.404);
    expect(toNumber(mul(dec("19.90"), dec(16740)))).toBe(333126);
    expect(toNumber(round(dec(-2.5), 0))).toBe(-3); // half away from zero, like big.js ROUND_HALF_UP
    expect(toNumber(dec(1e21 / 1e10))).toBe(1e11);
  });
  it("rejects what is not a number", () => {
    expect(() => dec("abc")).toThrow(/not a decimal/);
    expect(() => dec(Number.NaN)).toThrow(/not a finite/);
  });
});

describe("scoreOf reproduces official results files", () => {
  it("final (100f-java-1 final-results.json): p99 9.6 ms, 126 inconsistencies", () => {
    const s = scoreOf({
      accepted: 90520,
      failed: 0,
      p99ms: 9.6,
      inconsistencies: 126,
      default: { totalRequests: 5944, totalAmount: 119177.2, feePerTransaction: 0.07 },
      fallback: { totalRequests: 1412, totalAmount: 28310.6, feePerTransaction: 0.1 },
    });
    expect(s).toMatchObject({
      score: 92693.74848,
      paid: 147487.8,
      fees: 11173.464,
      bonusPct: 3,
      finePct: 35,
      fineAmount: 47710.0176,
      counted: 7356,
      lag: 83164,
      disqualified: false,
    });
    expect(s.default).toMatchObject({ total_bruto: 119177.2, total_taxas: 8342.404, num_pagamentos: 5944 });
    expect(s.fallback.total_taxas).toBe(2831.06);
  });

  it("preview (100f-java-1 partial-results.json): p99 3.99 ms, no fine", () => {
    const s = scoreOf({
      accepted: 16740,
      failed: 0,
      p99ms: 3.99,
      inconsistencies: 0,
      default: { totalRequests: 1051, totalAmount: 20914.9, feePerTransaction: 0.05 },
      fallback: { totalRequests: 274, totalAmount: 5452.6, feePerTransaction: 0.15 },
    });
    expect(s).toMatchObject({
      score: 27934.4061,
      paid: 26367.5,
      fees: 1863.635,
      bonusPct: 14,
      finePct: 0,
      fineAmount: 0,
      lag: 15415,
    });
  });

  it("a negative lag is flagged as disqualified", () => {
    const s = scoreOf({
      accepted: 10,
      failed: 0,
      p99ms: 1,
      inconsistencies: 0,
      default: { totalRequests: 11, totalAmount: 220.55, feePerTransaction: 0.07 },
      fallback: { totalRequests: 0, totalAmount: 0, feePerTransaction: 0.1 },
    });
    expect(s).toMatchObject({ lag: -1, disqualified: true, bonusPct: 20 });
  });

  it("ceiling: every accepted payment at the cheapest fee with a 20% bonus", () => {
    // 90,600 x 20.05 = 1,816,530; x 0.93 = 1,689,372.9; x 1.2 = 2,027,247.48
    expect(ceilingOf(90600, 20.05, [0.07, 0.1])).toBe(2027247.48);
  });
});

describe("scenario plan", () => {
  it("scales the run and the stage times, keeps the teardown window covering the run", () => {
    const p = planOf(SCENARIOS.final, { durationScale: 0.1, maxVus: 100 });
    expect(p).toMatchObject({ durationMs: 30_000, maxVus: 100, teardownWindowMs: 360_000 });
    expect(p.stageAtMs.slice(0, 3)).toEqual([100, 3000, 6000]);
    expect(planOf(SCENARIOS.preview, { durationScale: 2 }).teardownWindowMs).toBe(130_000);
  });
  it("ramps VUs linearly from 1 at 0 s to max at the end", () => {
    expect(vuStartMs(0, 603, 300_000)).toBe(0);
    expect(vuStartMs(301, 603, 300_000)).toBe(150_000);
    expect(vuStartMs(602, 603, 300_000)).toBe(300_000);
  });
  it("rejects a non-positive scale", () => {
    expect(() => planOf(SCENARIOS.preview, { durationScale: 0 })).toThrow(/duration-scale/);
  });
});

describe("queue depth from /metrics", () => {
  it.each([
    ["# HELP rinha_queue_depth x\nrinha_queue_depth 42\n", 42],
    ['queue_depth{instance="a"} 3\nqueue_depth{instance="b"} 4\nother 9', 7],
    ["http_requests_total 5\n", null],
    ["", null],
  ])("%j -> %s", (text, want) => {
    expect(parseQueueDepth(text)).toBe(want);
  });
});
