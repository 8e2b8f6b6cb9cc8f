import { describe, expect, it } from "vitest";
import { parseUtc } from "../handlers/forward";
import { backoffSeconds, classify, definitelyNotStored, type Outcome, type PayAnswer } from "../handlers/outcome";
import { parseHealth } from "../handlers/tick";

describe("classify", () => {
  it.each<[PayAnswer, Outcome]>([
    [{ status: 200 }, "stored"],
    [{ status: 201 }, "stored"],
    [{ status: 422 }, "duplicate"],
    [{ status: 500 }, "rejected"],
    [{ status: 503 }, "rejected"],
    [{ status: 404 }, "rejected"],
    [{ status: 429 }, "busy"],
    [{ status: 400 }, "malformed"],
    [{ error: "timeout", message: "" }, "in-doubt"],
    [{ error: "network", message: "" }, "in-doubt"],
  ])("%j -> %s", (a, o) => {
    expect(classify(a)).toBe(o);
  });
});

describe("definitelyNotStored", () => {
  it.each<[Outcome, boolean, boolean]>([
    ["rejected", false, true],
    ["busy", false, true],
    ["malformed", false, true],
    ["rejected", true, false],
    ["busy", true, false], // an earlier timed-out request may still land
    ["in-doubt", false, false],
    ["stored", false, false],
    ["duplicate", false, false],
  ])("%s (in doubt: %s) -> %s", (o, inDoubt, expected) => {
    expect(definitelyNotStored(o, inDoubt)).toBe(expected);
  });
});

describe("backoffSeconds", () => {
  const opts = { baseMs: 50, maxMs: 2000 };
  it.each([
    [1, 0, 0.025],
    [1, 1, 0.05],
    [2, 1, 0.1],
    [3, 0, 0.1],
    [10, 1, 2],
    [50, 1, 2],
    [50, 0, 1],
  ])("attempt %s rand %s -> %s s", (attempts, rand, s) => {
    expect(backoffSeconds(attempts, opts, rand)).toBe(s);
  });
});

describe("parseHealth", () => {
  it.each([
    [200, '{"failing":false,"minResponseTime":100}', { failing: false, minResponseTime: 100 }],
    [200, '{"failing":true,"minResponseTime":0}', { failing: true, minResponseTime: 0 }],
    [503, '{"failing":true,"minResponseTime":0}', { failing: true, minResponseTime: 0 }],
    [503, "busy", null],
    [429, "", null],
    [200, "not json", null],
    [200, '{"failing":"no","minResponseTime":1}', null],
    [200, '{"failing":true}', null],
  ])("%s %s", (status, body, expected) => {
    expect(parseHealth(status, body)).toEqual(expected);
  });
});

describe("parseUtc", () => {
  it.each([
    ["2025-07-15T12:34:56.789Z", Date.UTC(2025, 6, 15, 12, 34, 56, 789)],
    ["2025-07-15T12:34:56.789", Date.UTC(2025, 6, 15, 12, 34, 56, 789)],
    ["2025-07-15T12:34:56.7891234", Date.UTC(2025, 6, 15, 12, 34, 56, 789)],
    ["2025-07-15T09:34:56.789-03:00", Date.UTC(2025, 6, 15, 12, 34, 56, 789)],
  ])("%s", (text, ms) => {
    expect(parseUtc(text)).toBe(ms);
  });
});
