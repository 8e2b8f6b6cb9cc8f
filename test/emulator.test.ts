// The processor emulator, behaviour by behaviour (facts: docs/contest.md). Timing checks are
// lower bounds only (the machine is shared and noisy): "not before the delay", never "within X ms".

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rawTopLevelValue } from "../tools/emulator/body";
import { Ledger } from "../tools/emulator/ledger";
import { decimalTextToCents, feeText, parseDecimal } from "../tools/emulator/money";
import { type Emulator, type EmulatorOptions, startEmulator } from "../tools/emulator/server";
import { parseTimestampMicros } from "../tools/emulator/time";

const T0 = "2025-07-15T12:34:56.000Z";
const open: Emulator[] = [];

async function emulator(opts: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const e = await startEmulator({ fee: 0.05, ...opts });
  open.push(e);
  return e;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

interface Answer {
  status: number;
  text: string;
  ms: number;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const t = performance.now();
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, text, ms: performance.now() - t };
}

function payment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { correlationId: randomUUID(), amount: 19.9, requestedAt: T0, ...overrides };
}

/** POSTs a payment; a string body is sent verbatim (to control the number text). */
function pay(e: Emulator, body: Record<string, unknown> | string, init: RequestInit = {}): Promise<Answer> {
  return call(`${e.url}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

function adminCall(e: Emulator, method: string, path: string, body?: unknown, token = "123"): Promise<Answer> {
  return call(`${e.url}${path}`, {
    method,
    headers: { "x-rinha-token": token, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function health(e: Emulator, init: RequestInit = {}): Promise<Answer> {
  return call(`${e.url}/payments/service-health`, init);
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("money: banker's rounding of the number text", () => {
  it.each([
    ["0.125", 12],
    ["0.135", 14],
    ["19.905", 1990],
    ["19.915", 1992],
    ["2.675", 268], // 2.675 as a double is 2.67499999...; as written it is a tie, and 7 is odd
    ["2.665", 266],
    ["1.005", 100],
    ["1.0051", 101],
    ["1.0049999", 100],
    ["0.005", 0],
    ["0.015", 2],
    ["0.025", 2],
    ["-0.125", -12],
    ["-0.135", -14],
    ["-0.005", 0],
    ["19.90", 1990],
    ["20.05", 2005],
    ["19.9", 1990],
    ["0", 0],
    ["1e2", 10000],
    ["1.5E-1", 15],
    ["12.345e1", 12345],
    ["2675e-3", 268],
    ["123456789.995", 12345679000],
    ["1e12", 100_000_000_000_000],
  ])("%s -> %i cents", (text, cents) => {
    expect(decimalTextToCents(text)).toBe(cents);
  });

  it.each(["abc", "", "1e400", "1e13", "-1e13", "1.2.3", "0x10", "Infinity", "NaN", "9".repeat(500)])(
    "%j is not an amount",
    (text) => {
      expect(decimalTextToCents(text)).toBeUndefined();
    },
  );

  it("computes the fee exactly, at the scale a decimal multiply gives", () => {
    expect(feeText(39800, parseDecimal("0.05")!)).toBe("19.9000");
    expect(feeText(30, parseDecimal("0.15")!)).toBe("0.0450");
    expect(feeText(-5, parseDecimal("0.07")!)).toBe("-0.0035");
  });
});

describe("timestamps: ISO-8601 to epoch microseconds", () => {
  const base = Date.parse(T0) * 1000;
  it.each([
    [T0, base],
    ["2025-07-15T12:34:56.001Z", base + 1000],
    ["2025-07-15T12:34:56.0005Z", base + 500],
    ["2025-07-15T12:34:56.0000019Z", base + 1], // past the microsecond: truncated
    ["2025-07-15T12:34:56Z", base],
    ["2025-07-15T12:34:56.000", base], // no zone: UTC
    ["2025-07-15T13:34:56.000+01:00", base],
    ["2025-07-15T11:34:56.000-01:00", base],
    ["2024-02-29T00:00:00Z", Date.parse("2024-02-29T00:00:00Z") * 1000],
  ])("%s", (text, us) => {
    expect(parseTimestampMicros(text)).toBe(us);
  });

  it.each([
    "yesterday",
    "",
    "2025-02-29T00:00:00Z",
    "2025-07-15T24:00:00Z",
    "2025-13-01T00:00:00Z",
    "15/07/2025",
    "1752582896000",
  ])("%j is not a timestamp", (text) => {
    expect(parseTimestampMicros(text)).toBeUndefined();
  });
});

describe("raw number text of a top-level member", () => {
  it.each([
    ['{"amount":2.675}', "2.675"],
    ['{ "amount" : 2.675 , "x": 1 }', "2.675"],
    ['{"x":{"amount":1},"amount":2.675}', "2.675"], // nested member is not the amount
    ['{"note":"\\"amount\\": 9","amount":2.675}', "2.675"], // nor is text inside a string
    ['{"amount":1,"amount":2.675}', "2.675"], // duplicate keys: the last one, as JSON.parse does
    ['{"am\\u006funt":2.675}', "2.675"], // an escaped key is still the key
    ['{"amounts":[1,{"amount":3}],"amount":-0.5e1}', "-0.5e1"],
    ['{"x":1}', undefined],
  ])("%s", (json, raw) => {
    expect(rawTopLevelValue(json, "amount")).toBe(raw);
  });
});

describe("POST /payments", () => {
  it("answers 200 and stores the payment: amount rounded, requestedAt exactly as sent", async () => {
    const e = await emulator();
    const id = randomUUID();
    const r = await pay(e, { correlationId: id, amount: 19.9, requestedAt: "2025-07-15T12:34:56.123456Z" });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ message: "payment processed successfully" });
    expect(e.rows()).toEqual([
      {
        correlationId: id,
        amountCents: 1990,
        requestedAt: "2025-07-15T12:34:56.123456Z",
        requestedAtUs: Date.parse(T0) * 1000 + 123456,
      },
    ]);
  });

  it("waits the delay, THEN reads the failure mode: failing set during the delay -> 500, nothing stored", async () => {
    const e = await emulator({ delay: 400 });
    const pending = pay(e, payment());
    await waitFor(() => e.stats().active === 1, "the request to arrive");
    await sleep(100);
    e.setFailure(true);
    const r = await pending;
    expect(r.status).toBe(500);
    expect(r.ms).toBeGreaterThanOrEqual(380); // the 500 only comes after the delay
    expect(e.rows()).toEqual([]);
    expect(e.stats().payments.failed).toBe(1);
  });

  it("failing switched off during the delay -> 200 and stored (failure is read after the delay)", async () => {
    const e = await emulator({ delay: 400, failure: true });
    const p = payment();
    const pending = pay(e, p);
    await waitFor(() => e.stats().active === 1, "the request to arrive");
    await sleep(100);
    e.setFailure(false);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(e.get(p.correlationId as string)).toBeDefined();
  });

  it("failing for the whole request -> 500 after the delay, nothing stored", async () => {
    const e = await emulator({ delay: 200, failure: true });
    const r = await pay(e, payment());
    expect(r.status).toBe(500);
    expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(e.rows()).toEqual([]);
  });

  it("uses the delay in force when the request is handled; a later change does not shorten it", async () => {
    const e = await emulator({ delay: 400 });
    const pending = pay(e, payment());
    await waitFor(() => e.stats().active === 1, "the request to arrive");
    await sleep(50);
    e.setDelay(0);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(380);
  });

  it("stores the payment even when the client gave up during the delay", async () => {
    const e = await emulator({ delay: 300 });
    const p = payment();
    const ac = new AbortController();
    const pending = pay(e, p, { signal: ac.signal });
    await waitFor(() => e.stats().active === 1, "the request to arrive");
    await sleep(50);
    ac.abort();
    await expect(pending).rejects.toThrow();
    expect(e.rows()).toEqual([]); // not yet: the delay is still running
    await waitFor(() => e.rows().length === 1, "the abandoned payment to land");
    expect(e.get(p.correlationId as string)?.amountCents).toBe(1990);
    expect(e.stats().payments.ok).toBe(1);
  });

  it("answers 422 on a duplicate correlationId and keeps the first row", async () => {
    const e = await emulator();
    const id = randomUUID();
    expect((await pay(e, { correlationId: id, amount: 10, requestedAt: T0 })).status).toBe(200);
    const dup = await pay(e, { correlationId: id.toUpperCase(), amount: 20, requestedAt: "2025-07-15T12:35:00.000Z" });
    expect(dup.status).toBe(422);
    expect(e.rows()).toEqual([expect.objectContaining({ correlationId: id, amountCents: 1000, requestedAt: T0 })]);
    expect(e.stats().payments.duplicate).toBe(1);
  });

  it("two concurrent POSTs of one correlationId: one 200, one 422, one row", async () => {
    const e = await emulator({ delay: 100 });
    const p = payment();
    const statuses = (await Promise.all([pay(e, p), pay(e, p)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 422]);
    expect(e.rows()).toHaveLength(1);
  });

  it.each([
    ["0.125", "0.12"],
    ["0.135", "0.14"],
    ["19.905", "19.90"],
    ["2.675", "2.68"],
    ["1.005", "1.00"],
    ["20.05", "20.05"],
  ])("rounds amount %s to %s (banker's rounding of the number as written)", async (text, stored) => {
    const e = await emulator();
    const id = randomUUID();
    const r = await pay(e, `{"correlationId":"${id}","amount":${text},"requestedAt":"${T0}"}`);
    expect(r.status).toBe(200);
    const got = await call(`${e.url}/payments/${id}`);
    expect(got.text).toContain(`"amount":${stored},`);
  });

  it.each<[string, string | undefined, string]>([
    ["no body", undefined, ""],
    ["empty object", "application/json", "{}"],
    ["not JSON", "application/json", "{correlationId:"],
    ["an array", "application/json", "[]"],
    ["null", "application/json", "null"],
    ["missing correlationId", "application/json", JSON.stringify({ amount: 1, requestedAt: T0 })],
    ["correlationId not a UUID", "application/json", JSON.stringify(payment({ correlationId: "abc" }))],
    ["correlationId a number", "application/json", JSON.stringify(payment({ correlationId: 7 }))],
    ["missing amount", "application/json", JSON.stringify({ correlationId: randomUUID(), requestedAt: T0 })],
    ["amount a string", "application/json", JSON.stringify(payment({ amount: "19.90" }))],
    ["amount null", "application/json", JSON.stringify(payment({ amount: null }))],
    [
      "amount overflowing",
      "application/json",
      `{"correlationId":"${randomUUID()}","amount":1e400,"requestedAt":"${T0}"}`,
    ],
    ["missing requestedAt", "application/json", JSON.stringify({ correlationId: randomUUID(), amount: 1 })],
    ["requestedAt not a timestamp", "application/json", JSON.stringify(payment({ requestedAt: "yesterday" }))],
    ["requestedAt a number", "application/json", JSON.stringify(payment({ requestedAt: 1752582896000 }))],
  ])("answers 400 for %s and stores nothing", async (_name, type, body) => {
    const e = await emulator();
    const r = await call(`${e.url}/payments`, {
      method: "POST",
      headers: type ? { "content-type": type } : {},
      body: body === "" ? undefined : body,
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).message).toEqual(expect.any(String));
    expect(e.rows()).toEqual([]);
  });

  it("answers 415 for a JSON body sent without a JSON content type", async () => {
    const e = await emulator();
    const r = await pay(e, payment(), { headers: { "content-type": "text/plain" } });
    expect(r.status).toBe(415);
    expect(e.rows()).toEqual([]);
  });

  it("answers 400 at once, without waiting the delay", async () => {
    const e = await emulator({ delay: 60_000 });
    const r = await pay(e, "{}");
    expect(r.status).toBe(400); // had it waited the delay, the test would time out
  });
});

describe("GET /payments/{id}", () => {
  it("answers 200 with the stored row, 404 for an unknown id, 400 for a non-UUID", async () => {
    const e = await emulator();
    const id = randomUUID();
    await pay(e, `{"correlationId":"${id}","amount":19.90,"requestedAt":"2025-07-15T12:34:56.000+00:00"}`);
    const found = await call(`${e.url}/payments/${id}`);
    expect(found.status).toBe(200);
    expect(found.text).toBe(`{"correlationId":"${id}","amount":19.90,"requestedAt":"2025-07-15T12:34:56.000+00:00"}`);
    expect((await call(`${e.url}/payments/${id.toUpperCase()}`)).status).toBe(200);
    expect((await call(`${e.url}/payments/${randomUUID()}`)).status).toBe(404);
    expect((await call(`${e.url}/payments/not-a-uuid`)).status).toBe(400);
    expect(e.stats().lookups).toBe(4);
  });
});

describe("GET /payments/service-health", () => {
  it("reports the failure mode and the delay", async () => {
    const e = await emulator({ healthWindowMs: 50 });
    const r = await health(e);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ failing: false, minResponseTime: 0 });
    e.setDelay(123);
    e.setFailure(true);
    await sleep(60);
    const r2 = await health(e);
    expect(r2.status).toBe(200); // 200 even while failing, as docs/contest.md says
    expect(JSON.parse(r2.text)).toEqual({ failing: true, minResponseTime: 123 });
  });

  it("admits 1 call per window, queues 2 for the next windows, rejects the rest with 429", async () => {
    const W = 400;
    const e = await emulator({ healthWindowMs: W });
    const answers = await Promise.all([health(e), health(e), health(e), health(e)]);
    const byStatus = answers.map((a) => a.status).sort();
    expect(byStatus).toEqual([200, 200, 200, 429]);
    const served = answers
      .filter((a) => a.status === 200)
      .map((a) => a.ms)
      .sort((a, b) => a - b);
    // Queued calls are served one per window boundary, never earlier.
    expect(served[1]).toBeGreaterThanOrEqual(W * 0.95);
    expect(served[2]).toBeGreaterThanOrEqual(2 * W * 0.95);
    const rejected = answers.find((a) => a.status === 429)!;
    expect(rejected.ms).toBeLessThan(served[1]!); // rejected at once, not after waiting
    expect(e.stats().health).toEqual({ served: 3, rejected: 1, queued: 0 });
  });

  it("a call in a window whose permit is used waits for the next window", async () => {
    const W = 300;
    const e = await emulator({ healthWindowMs: W });
    expect((await health(e)).status).toBe(200);
    const r = await health(e);
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThan(W * 0.5); // it waited for the boundary (most of a window)
  });

  it("a queued caller that leaves frees its place in the queue", async () => {
    const e = await emulator({ healthWindowMs: 600 });
    expect((await health(e)).status).toBe(200);
    const b = health(e);
    const ac = new AbortController();
    const c = health(e, { signal: ac.signal });
    await waitFor(() => e.stats().health.queued === 2, "B and C queued");
    ac.abort();
    await expect(c).rejects.toThrow();
    await waitFor(() => e.stats().health.queued === 1, "C to leave the queue");
    const d = health(e); // takes the place C left
    const extra = await health(e); // queue full again: B and D
    expect(extra.status).toBe(429);
    expect((await b).status).toBe(200);
    expect((await d).status).toBe(200);
  });
});

describe("concurrency limit on POST /payments and GET /payments/{id}", () => {
  it("admits maxConcurrent plus maxQueued waiting, then 429; health and admin are not limited", async () => {
    const delay = 300;
    const e = await emulator({ maxConcurrent: 2, maxQueued: 1, delay, healthWindowMs: 10 });
    const first = [pay(e, payment()), pay(e, payment()), pay(e, payment())];
    await waitFor(() => e.stats().active === 2 && e.stats().queued === 1, "2 running + 1 queued");
    const over = await pay(e, payment());
    expect(over.status).toBe(429);
    expect((await call(`${e.url}/payments/${randomUUID()}`)).status).toBe(429); // shares the limit
    expect((await health(e)).status).toBe(200);
    expect((await adminCall(e, "GET", "/admin/payments-summary")).status).toBe(200);
    const done = await Promise.all(first);
    expect(done.map((r) => r.status)).toEqual([200, 200, 200]);
    // The queued one ran after a slot freed: at least two delays in all.
    expect(Math.max(...done.map((r) => r.ms))).toBeGreaterThanOrEqual(2 * delay * 0.95);
    expect(e.rows()).toHaveLength(3);
    expect(e.stats().payments.rejected).toBe(1);
  });

  it("a queued client that leaves gives its place up and its payment never runs", async () => {
    const e = await emulator({ maxConcurrent: 1, maxQueued: 1, delay: 300 });
    const a = pay(e, payment());
    await waitFor(() => e.stats().active === 1, "A running");
    const ac = new AbortController();
    const b = payment();
    const pendingB = pay(e, b, { signal: ac.signal });
    await waitFor(() => e.stats().queued === 1, "B queued");
    ac.abort();
    await expect(pendingB).rejects.toThrow();
    await waitFor(() => e.stats().queued === 0, "B to leave the queue");
    const c = await pay(e, payment()); // would be 429 if B still held the queue place
    expect(c.status).toBe(200);
    expect((await a).status).toBe(200);
    expect(e.get(b.correlationId as string)).toBeUndefined();
    expect(e.rows()).toHaveLength(2);
  });

  it("defaults to 800 running + 500 queued", async () => {
    // A delay far longer than the test: every request is still running or queued when we look.
    const e = await emulator({ delay: 60_000 });
    const all = Array.from({ length: 1301 }, () => pay(e, payment()).catch(() => null));
    const arrived = () => e.stats().active + e.stats().queued + e.stats().payments.rejected;
    await waitFor(() => arrived() >= 1301, "all 1301 requests to arrive", 20_000);
    expect(e.stats()).toMatchObject({ active: 800, queued: 500, payments: expect.objectContaining({ rejected: 1 }) });
    await e.close(); // the 1300 waiting ones end with a closed connection
    const answers = await Promise.all(all);
    expect(answers.filter((a) => a?.status === 429)).toHaveLength(1);
    expect(answers.filter((a) => a?.status === 200)).toHaveLength(0);
  }, 30_000);
});

describe("admin endpoints", () => {
  it.each([
    ["GET", "/admin/payments-summary", undefined],
    ["PUT", "/admin/configurations/token", { token: "x" }],
    ["PUT", "/admin/configurations/delay", { delay: 10 }],
    ["PUT", "/admin/configurations/failure", { failure: true }],
    ["POST", "/admin/purge-payments", undefined],
  ])("%s %s answers 401 with a wrong or missing token and changes nothing", async (method, path, body) => {
    const e = await emulator();
    await pay(e, payment());
    expect((await adminCall(e, method, path, body, "wrong")).status).toBe(401);
    const none = await call(`${e.url}${path}`, {
      method,
      body: body && JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    expect(none.status).toBe(401);
    expect(e.config()).toEqual({ delay: 0, failure: false, token: "123" });
    expect(e.rows()).toHaveLength(1);
  });

  it("PUT /admin/configurations/token answers 204; then only the new token works", async () => {
    const e = await emulator();
    const r = await adminCall(e, "PUT", "/admin/configurations/token", { token: "s3cret" });
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect((await adminCall(e, "GET", "/admin/payments-summary")).status).toBe(401);
    expect((await adminCall(e, "GET", "/admin/payments-summary", undefined, "s3cret")).status).toBe(200);
  });

  it("starts with a configured token", async () => {
    const e = await emulator({ token: "abc" });
    expect((await adminCall(e, "GET", "/admin/payments-summary")).status).toBe(401);
    expect((await adminCall(e, "GET", "/admin/payments-summary", undefined, "abc")).status).toBe(200);
  });

  it("PUT delay and failure answer what was and what is, and take effect", async () => {
    const e = await emulator({ healthWindowMs: 10 });
    const d1 = await adminCall(e, "PUT", "/admin/configurations/delay", { delay: 150 });
    expect(d1.status).toBe(200);
    expect(JSON.parse(d1.text)).toEqual({ config: "delay", was: 0, is: 150 });
    const d2 = await adminCall(e, "PUT", "/admin/configurations/delay", { delay: 0 });
    expect(JSON.parse(d2.text)).toEqual({ config: "delay", was: 150, is: 0 });
    const f1 = await adminCall(e, "PUT", "/admin/configurations/failure", { failure: true });
    expect(f1.status).toBe(200);
    expect(JSON.parse(f1.text)).toEqual({ config: "failure", was: false, is: true });
    expect((await pay(e, payment())).status).toBe(500);
    expect(JSON.parse((await health(e)).text)).toEqual({ failing: true, minResponseTime: 0 });
    const f2 = await adminCall(e, "PUT", "/admin/configurations/failure", { failure: false });
    expect(JSON.parse(f2.text)).toEqual({ config: "failure", was: true, is: false });
    expect((await pay(e, payment())).status).toBe(200);
  });

  it.each([
    ["/admin/configurations/delay", { delay: "100" }],
    ["/admin/configurations/delay", { delay: 1.5 }],
    ["/admin/configurations/delay", { delay: -1 }],
    ["/admin/configurations/delay", {}],
    ["/admin/configurations/failure", { failure: "true" }],
    ["/admin/configurations/failure", {}],
    ["/admin/configurations/token", {}],
    ["/admin/configurations/token", { token: 5 }],
  ])("PUT %s %j answers 400 and changes nothing", async (path, body) => {
    const e = await emulator();
    expect((await adminCall(e, "PUT", path, body)).status).toBe(400);
    expect(e.config()).toEqual({ delay: 0, failure: false, token: "123" });
  });

  it("the summary counts requestedAt in [from, to], both ends included, to the millisecond (and below)", async () => {
    const e = await emulator({ fee: 0.05 });
    const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
    for (const [i, amount] of ["1.10", "2.20", "3.30", "4.40"].entries()) {
      await pay(e, `{"correlationId":"${randomUUID()}","amount":${amount},"requestedAt":"${at(i)}"}`);
    }
    await pay(e, payment({ amount: 0.01, requestedAt: "2025-07-15T12:34:56.0035Z" })); // between ms 3 and 4
    const summary = async (q: string) => {
      const r = await adminCall(e, "GET", `/admin/payments-summary${q}`);
      expect(r.status).toBe(200);
      return r.text;
    };
    expect(await summary(`?from=${at(1)}&to=${at(2)}`)).toBe(
      '{"totalRequests":2,"totalAmount":5.50,"totalFee":0.2750,"feePerTransaction":0.05}',
    );
    expect(JSON.parse(await summary(`?from=${at(0)}&to=${at(0)}`))).toMatchObject({
      totalRequests: 1,
      totalAmount: 1.1,
    });
    expect(JSON.parse(await summary(`?from=${at(3)}&to=${at(3)}`))).toMatchObject({
      totalRequests: 1,
      totalAmount: 4.4,
    });
    expect(JSON.parse(await summary(`?from=${at(0)}&to=${at(3)}`))).toMatchObject({
      totalRequests: 4,
      totalAmount: 11,
    });
    // The row at 3.5 ms lies past to=3 ms but inside to=4 ms (µs precision, like Postgres).
    expect(JSON.parse(await summary(`?from=${at(3)}&to=${at(4)}`))).toMatchObject({
      totalRequests: 2,
      totalAmount: 4.41,
    });
    expect(JSON.parse(await summary(`?from=${at(-10)}&to=${at(-1)}`))).toMatchObject({
      totalRequests: 0,
      totalAmount: 0,
    });
    expect(JSON.parse(await summary(`?from=${at(2)}&to=${at(1)}`))).toMatchObject({ totalRequests: 0 }); // from > to
    expect(e.summary(at(1), at(2))).toEqual({ totalRequests: 2, totalCents: 550n, totalAmount: 5.5 });
  });

  it("the summary covers every row when from or to is missing, and sums cents exactly", async () => {
    const e = await emulator({ fee: 0.15 });
    await pay(e, payment({ amount: 0.1, requestedAt: "2020-01-01T00:00:00.000Z" }));
    await pay(e, payment({ amount: 0.2, requestedAt: "2030-01-01T00:00:00.000Z" }));
    const all = '{"totalRequests":2,"totalAmount":0.30,"totalFee":0.0450,"feePerTransaction":0.15}';
    for (const q of ["", "?from=2025-01-01T00:00:00.000Z", "?to=2025-01-01T00:00:00.000Z", "?from=&to="]) {
      const r = await adminCall(e, "GET", `/admin/payments-summary${q}`);
      expect(r.text, q).toBe(all);
    }
    const one = await adminCall(
      e,
      "GET",
      "/admin/payments-summary?from=2025-01-01T00:00:00.000Z&to=2035-01-01T00:00:00.000Z",
    );
    expect(JSON.parse(one.text)).toMatchObject({ totalRequests: 1, totalAmount: 0.2 });
  });

  it("the summary answers 400 for a malformed from or to", async () => {
    const e = await emulator();
    expect((await adminCall(e, "GET", "/admin/payments-summary?from=yesterday&to=2025-01-01T00:00:00Z")).status).toBe(
      400,
    );
    expect((await adminCall(e, "GET", "/admin/payments-summary?from=2025-01-01T00:00:00Z&to=13")).status).toBe(400);
  });

  it("POST /admin/purge-payments wipes every row; a purged correlationId can be stored again", async () => {
    const e = await emulator();
    const p = payment();
    await pay(e, p);
    await pay(e, payment());
    const r = await adminCall(e, "POST", "/admin/purge-payments");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ message: "All payments purged." });
    expect(e.rows()).toEqual([]);
    expect(JSON.parse((await adminCall(e, "GET", "/admin/payments-summary")).text)).toMatchObject({
      totalRequests: 0,
      totalAmount: 0,
    });
    expect((await call(`${e.url}/payments/${p.correlationId}`)).status).toBe(404);
    expect((await pay(e, p)).status).toBe(200);
  });
});

describe("ledger at contest scale", () => {
  it("keeps 100k out-of-order rows sorted and answers window summaries exactly", () => {
    const l = new Ledger();
    const base = Date.parse(T0) * 1000;
    let expectCount = 0;
    let expectCents = 0;
    for (let i = 0; i < 100_000; i++) {
      // Mostly in order with some stragglers, like retries landing late.
      const us = base + (i % 97 === 0 ? i - 5000 : i) * 1000;
      l.insert({ correlationId: `id-${i}`, amountCents: 2005, requestedAt: "", requestedAtUs: us });
      if (us >= base + 10_000_000 && us <= base + 20_000_000) {
        expectCount++;
        expectCents += 2005;
      }
    }
    const t = performance.now();
    const s = l.summary(base + 10_000_000, base + 20_000_000);
    const ms = performance.now() - t;
    expect(s).toEqual({ totalRequests: expectCount, totalCents: BigInt(expectCents) });
    expect(ms).toBeLessThan(1000); // a sanity bound, not a benchmark (expect ~0.1 ms)
  });
});

describe("CLI", () => {
  it("prints one line with url and fee, serves, and exits cleanly on SIGTERM", async () => {
    const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
    const child = spawn(tsx, ["tools/emulator/main.ts", "--port", "0", "--fee", "0.07", "--token", "tok"], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      await waitFor(() => out.includes("\n"), "the start line", 15_000);
      const url = /(http:\/\/\S+)/.exec(out)?.[1];
      expect(out).toMatch(/fee=0\.07/);
      expect(url).toBeDefined();
      const r = await call(`${url}/admin/payments-summary`, { headers: { "x-rinha-token": "tok" } });
      expect(JSON.parse(r.text)).toEqual({ totalRequests: 0, totalAmount: 0, totalFee: 0, feePerTransaction: 0.07 });
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 20_000);
});
