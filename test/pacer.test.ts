// The forwarding pace (handlers/pacer.ts): a token bucket with debt, table-tested on a fake clock.
import { describe, expect, it } from "vitest";
import { Pacer } from "../handlers/pacer";

describe("Pacer", () => {
  it.each([
    // rate/s, burst ms, reservations at t=0, the wait each one is told
    [1000, 20, 22, [...Array(20).fill(0), 1, 2]],
    [100, 5, 3, [0, 10, 20]], // capacity never below one send
    [100, 20, 3, [0, 0, 10]],
    [0, 20, 5, [0, 0, 0, 0, 0]], // 0: off
  ])("rate %s/s, burst %s ms: %s sends at once wait %j", (rate, burst, n, waits) => {
    const p = new Pacer(rate, burst, 0);
    expect(Array.from({ length: n }, () => p.reserve(0))).toEqual(waits);
  });

  it("refills with time, up to the burst", () => {
    const p = new Pacer(1000, 10, 0);
    for (let i = 0; i < 10; i++) p.reserve(0);
    expect(p.reserve(0)).toBe(1);
    expect(p.reserve(5)).toBe(0); // 5 tokens back, one in debt was paid
    const q = new Pacer(1000, 10, 0);
    expect(Array.from({ length: 11 }, () => q.reserve(10_000)).at(-1)).toBe(1); // never more than the burst
  });

  it("a refund makes room for the next send", () => {
    const p = new Pacer(100, 10, 0);
    expect(p.reserve(0)).toBe(0);
    expect(p.reserve(0)).toBe(10);
    p.refund();
    expect(p.reserve(0)).toBe(10);
  });

  it("refuses a negative rate", () => {
    expect(() => new Pacer(-1)).toThrow(/ratePerS must be >= 0/);
  });
});
