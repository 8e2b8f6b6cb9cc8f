import { describe, expect, it } from "vitest";
import { isInvalid, parsePayment, parseWindow } from "../handlers/validate";

const id = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

describe("parsePayment", () => {
  it("accepts the contest body and ignores unknown fields", () => {
    expect(parsePayment(JSON.stringify({ correlationId: id, amount: 19.9, extra: [1] }))).toEqual({
      correlationId: id,
      amountCents: 1990,
    });
  });
  it("keeps one spelling of a UUID: lower case", () => {
    expect(parsePayment(JSON.stringify({ correlationId: id.toUpperCase(), amount: 1 }))).toEqual({
      correlationId: id,
      amountCents: 100,
    });
  });
  it.each([
    ["", undefined],
    ["{", undefined],
    ["null", undefined],
    ["[]", "correlationId"],
    ['"x"', undefined],
    [JSON.stringify({ amount: 1 }), "correlationId"],
    [JSON.stringify({ correlationId: id }), "amount"],
    [JSON.stringify({ correlationId: "not-a-uuid", amount: 1 }), "correlationId"],
    [JSON.stringify({ correlationId: 42, amount: 1 }), "correlationId"],
    [JSON.stringify({ correlationId: id, amount: "19.90" }), "amount"],
    [JSON.stringify({ correlationId: id, amount: 0 }), "amount"],
    [JSON.stringify({ correlationId: id, amount: -5 }), "amount"],
    [JSON.stringify({ correlationId: id, amount: 1.234 }), "amount"],
    [JSON.stringify({ correlationId: id, amount: 1e12 }), "amount"],
    [`{"correlationId":"${id}","amount":1e400}`, "amount"],
    [JSON.stringify({ correlationId: id, amount: null }), "amount"],
    [JSON.stringify({ correlationId: id, amount: true }), "amount"],
  ])("rejects %s (field %s)", (body, field) => {
    const r = parsePayment(body);
    expect(isInvalid(r)).toBe(true);
    if (isInvalid(r)) {
      expect(r.field).toBe(field);
      expect(r.error.length).toBeGreaterThan(5);
    }
  });
});

describe("parseWindow", () => {
  it("reads both ends with ms precision", () => {
    expect(parseWindow("2025-07-15T12:34:56.000Z", "2025-07-15T12:34:56.999Z")).toEqual({
      from: Date.UTC(2025, 6, 15, 12, 34, 56, 0),
      to: Date.UTC(2025, 6, 15, 12, 34, 56, 999),
    });
  });
  it("leaves missing or empty ends open", () => {
    expect(parseWindow(undefined, undefined)).toEqual({});
    expect(parseWindow("", "2025-07-15T12:34:56Z")).toEqual({ to: Date.UTC(2025, 6, 15, 12, 34, 56) });
  });
  it("accepts real month ends, leap days included", () => {
    expect(parseWindow("2024-02-29T00:00:00.000Z", "2025-12-31T23:59:59.999Z")).toEqual({
      from: Date.UTC(2024, 1, 29),
      to: Date.UTC(2025, 11, 31, 23, 59, 59, 999),
    });
  });
  it("accepts explicit offsets", () => {
    expect(parseWindow("2025-07-15T09:34:56.000-03:00", undefined)).toEqual({
      from: Date.UTC(2025, 6, 15, 12, 34, 56),
    });
  });
  it.each([
    ["yesterday", undefined, "from"],
    ["2025-07-15", undefined, "from"],
    [undefined, "2025-13-45T00:00:00Z", "to"],
    ["2025-07-15T12:34:56.000", undefined, "from"],
    ["1752582896000", undefined, "from"],
    ["2025-07-15T12:34:57.000Z", "2025-07-15T12:34:56.000Z", "from"],
    ["2025-02-29T00:00:00.000Z", undefined, "from"],
    [undefined, "2024-04-31T00:00:00Z", "to"],
    ["2025-00-10T00:00:00Z", undefined, "from"],
    ["2025-07-15T25:00:00Z", undefined, "from"],
  ])("rejects from=%s to=%s", (from, to, field) => {
    const r = parseWindow(from, to);
    expect(isInvalid(r) && r.field).toBe(field);
  });
});
