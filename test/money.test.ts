import { describe, expect, it } from "vitest";
import { centsFromProcessor, formatCents, MAX_AMOUNT, toCents } from "../handlers/money";

describe("toCents", () => {
  it.each([
    [19.9, 1990],
    [19.9, 1990],
    [20.05, 2005],
    [0.01, 1],
    [1, 100],
    [0.1 + 0.2, null],
    [0.3, 30],
    [2.675, null],
    [2.67, 267],
    [2.68, 268],
    [1.15, 115],
    [4.35, 435],
    [0.07, 7],
    [1234567.89 / 10, null],
    [MAX_AMOUNT, MAX_AMOUNT * 100],
    [MAX_AMOUNT + 0.01, null],
    [0, null],
    [-1, null],
    [0.001, null],
    [1.005, null],
    [19.999, null],
    [NaN, null],
    [Infinity, null],
    [-Infinity, null],
    [1e-9, null],
    [123456.78, 12345678],
  ])("%s -> %s", (amount, cents) => {
    expect(toCents(amount)).toBe(cents);
  });
});

describe("formatCents", () => {
  it.each([
    [0, "0.00"],
    [1, "0.01"],
    [10, "0.10"],
    [1990, "19.90"],
    [2005, "20.05"],
    [100, "1.00"],
    [123456789, "1234567.89"],
    [-5, "-0.05"],
  ])("%s -> %s", (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });
  it("round-trips through JSON as the same number", () => {
    for (let c = 0; c < 100_000; c += 7) expect(centsFromProcessor(JSON.parse(formatCents(c)))).toBe(c);
  });
});
