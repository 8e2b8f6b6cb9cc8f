import { afterEach, describe, expect, it } from "vitest";
import { type BackendSummary, type Pipeline, payment, type StartBackend, sleep, startPipeline } from "./harness";

/** Backend and processors agree, per processor, on count and exact cents for [from, to]. */
export function expectBooksEqual(p: Pipeline, s: BackendSummary, from?: string, to?: string) {
  const d = p.def.summary(from, to),
    f = p.fb.summary(from, to);
  const label = `window ${from ?? "-"} .. ${to ?? "-"}`;
  expect(
    { count: s.default.totalRequests, cents: Math.round(s.default.totalAmount * 100) },
    `${label} default`,
  ).toEqual({ count: d.totalRequests, cents: Number(d.totalCents) });
  expect(
    { count: s.fallback.totalRequests, cents: Math.round(s.fallback.totalAmount * 100) },
    `${label} fallback`,
  ).toEqual({ count: f.totalRequests, cents: Number(f.totalCents) });
}

/** Every correlationId is stored at most once across the two processors. */
export function expectNoIdAtBoth(p: Pipeline) {
  const atDefault = new Set(p.def.rows().map((r) => r.correlationId));
  const both = p.fb.rows().filter((r) => atDefault.has(r.correlationId));
  expect(both.map((r) => r.correlationId)).toEqual([]);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Polls `ok` until true; fails naming what never happened instead of hanging until the test timeout. */
async function waitUntil(ok: () => boolean, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The end-to-end scenarios of the pipeline, written once and run against every runtime (Node with each
 * adapter, Miniflare): a real backend, two processor emulators on loopback.
 */
export function testPipeline(name: string, start: StartBackend, opts: { timeoutMs?: number } = {}) {
  const timeout = opts.timeoutMs ?? 60_000;
  describe(`pipeline end to end: ${name}`, () => {
    let p: Pipeline | undefined;
    afterEach(async () => {
      await p?.close();
      p = undefined;
    });

    it(
      "happy path: every payment lands once at default and the books agree",
      async () => {
        p = await startPipeline(start);
        const statuses = await Promise.all(Array.from({ length: 50 }, () => p!.post(payment(19.9))));
        expect(statuses, "every POST answered 202").toEqual(statuses.map(() => 202));
        const s = await p.waitForCount(50);
        expect(s.default.totalRequests).toBe(50);
        expect(s.default.totalAmount).toBe(995);
        expectBooksEqual(p, s);
        expect(p.def.stats().payments.duplicate).toBe(0);
      },
      timeout,
    );

    it(
      "default failing: payments go to fallback, none is lost",
      async () => {
        p = await startPipeline(start);
        p.def.setFailure(true);
        await Promise.all(Array.from({ length: 40 }, () => p!.post(payment(10))));
        const s = await p.waitForCount(40);
        expect(s.fallback.totalRequests).toBeGreaterThan(0);
        expect(s.default.totalRequests).toBe(0);
        expectBooksEqual(p, s);
        expectNoIdAtBoth(p);
      },
      timeout,
    );

    it(
      "patience: while the cheaper default fails briefly, payments wait for it instead of paying the fallback's fee",
      async () => {
        p = await startPipeline(start, { FEE_HOLD_MS: "20000" });
        p.def.setFailure(true);
        await Promise.all(Array.from({ length: 30 }, () => p!.post(payment(4.2))));
        await sleep(1500);
        let s = await p.summary();
        expect(s.default.totalRequests + s.fallback.totalRequests, "nothing paid while default fails").toBe(0);
        expect(p.def.stats().payments.failed, "default was probed meanwhile").toBeGreaterThan(0);
        p.def.setFailure(false);
        s = await p.waitForCount(30);
        expect(s.fallback.totalRequests).toBe(0);
        expect(s.default.totalRequests).toBe(30);
        expectBooksEqual(p, s);
      },
      timeout,
    );

    it(
      "both failing: payments are held, then drained when one recovers",
      async () => {
        p = await startPipeline(start);
        p.def.setFailure(true);
        p.fb.setFailure(true);
        await Promise.all(Array.from({ length: 30 }, () => p!.post(payment(5.55))));
        await sleep(1500);
        let s = await p.summary();
        expect(s.default.totalRequests + s.fallback.totalRequests).toBe(0);
        p.def.setFailure(false);
        s = await p.waitForCount(30);
        expect(s.default.totalRequests + s.fallback.totalRequests).toBe(30);
        expectBooksEqual(p, s);
        expectNoIdAtBoth(p);
      },
      timeout,
    );

    it(
      "a delay longer than the client timeout: exactly one record, with the processor's requestedAt",
      async () => {
        // One health poll at start only: a later poll reporting 2500 ms would send the payment to fallback.
        p = await startPipeline(start, { PAY_TIMEOUT_MS: "300", HEALTH_WINDOW_MS: "60000" });
        // That one poll must have read delay 0, or default looks too slow and the payment goes to fallback.
        await waitUntil(() => p!.def.stats().health.served >= 1, "the backend's first health poll of default");
        p.def.setDelay(2500); // far beyond the client timeout, even with coarse timers
        const body = payment(12.34);
        expect(await p.post(body)).toBe(202);
        // Retries go to default only (in doubt) and time out too, until the first request lands; from then
        // on, answers are quick and must be 422s, which the backend settles by reading the stored row.
        await waitUntil(() => p!.def.get(body.correlationId) !== undefined, "the payment stored at default");
        p.def.setDelay(0);
        const s = await p.waitForCount(1);
        await sleep(1500); // let any stray request land
        const rows = [...p.def.rows(), ...p.fb.rows()].filter((r) => r.correlationId === body.correlationId);
        expect(rows).toHaveLength(1);
        expectBooksEqual(p, await p.summary());
        // The ledger holds the requestedAt the processor stored: an exact 1 ms window around it finds the payment.
        const at = rows[0]!.requestedAt;
        const one = await p.summary(at, at);
        expect(one.default.totalRequests + one.fallback.totalRequests).toBe(1);
        expect(s.default.totalRequests + s.fallback.totalRequests).toBe(1);
        // The path under test really ran: the first request timed out, a later one met the 422.
        const metrics = await p.metrics();
        expect(metrics).toMatch(/^in_doubt_total\{processor="default"\} [1-9]/m);
        expect(metrics).toMatch(/^recovered_duplicates_total\{processor="default"\} 1$/m);
      },
      timeout,
    );

    it(
      "one correlationId POSTed 10 times concurrently: exactly one processor record",
      async () => {
        p = await startPipeline(start);
        const body = payment(7.77);
        const statuses = await Promise.all(Array.from({ length: 10 }, () => p!.post(body)));
        expect(statuses, "every POST answered 202").toEqual(statuses.map(() => 202));
        await p.waitForCount(1);
        await sleep(800);
        const rows = [...p.def.rows(), ...p.fb.rows()].filter((r) => r.correlationId === body.correlationId);
        expect(rows).toHaveLength(1);
        const s = await p.summary();
        expect(s.default.totalRequests + s.fallback.totalRequests).toBe(1);
        expectBooksEqual(p, s);
      },
      timeout,
    );

    it(
      "the same correlationId again while its first attempt waits at a slow default: never at both",
      async () => {
        p = await startPipeline(start);
        p.def.setDelay(2500);
        const body = payment(3.21);
        expect(await p.post(body)).toBe(202);
        await sleep(1600); // by now the router sees default as too slow and sends new payments to fallback
        expect((await Promise.all(Array.from({ length: 9 }, () => p!.post(body)))).every((c) => c === 202)).toBe(true);
        const other = payment(1);
        expect(await p.post(other)).toBe(202);
        await p.waitForCount(2);
        await sleep(1500);
        expect(p.fb.get(other.correlationId), "a fresh payment meanwhile went to fallback").toBeDefined();
        const rows = [...p.def.rows(), ...p.fb.rows()].filter((r) => r.correlationId === body.correlationId);
        expect(rows).toHaveLength(1);
        expectNoIdAtBoth(p);
        expectBooksEqual(p, await p.summary());
      },
      timeout,
    );

    it(
      "malformed inputs: 4xx and nothing enqueued",
      async () => {
        p = await startPipeline(start);
        const id = crypto.randomUUID();
        const bad: [unknown, Record<string, string>?][] = [
          ["", undefined],
          ["{", undefined],
          ["null", undefined],
          [{ amount: 1 }],
          [{ correlationId: id }],
          [{ correlationId: "nope", amount: 1 }],
          [{ correlationId: id, amount: "1" }],
          [{ correlationId: id, amount: 0 }],
          [{ correlationId: id, amount: -1 }],
          [{ correlationId: id, amount: 1.001 }],
          [`{"correlationId":"${id}","amount":1e999}`],
          [{ correlationId: id, amount: 1 }, { "content-type": "text/plain" }],
          ["x".repeat(10_000)],
        ];
        for (const [body, headers] of bad) {
          const status = await p.post(body, headers ?? { "content-type": "application/json" });
          expect(status, JSON.stringify(body).slice(0, 80)).toBeGreaterThanOrEqual(400);
          expect(status, JSON.stringify(body).slice(0, 80)).toBeLessThan(500);
        }
        for (const q of [
          "from=yesterday",
          "to=2025-99-01T00:00:00Z",
          "from=2025-07-15T12:00:01.000Z&to=2025-07-15T12:00:00.000Z",
        ]) {
          const res = await fetch(`${p.backend.url}/payments-summary?${q}`);
          expect(res.status, q).toBe(400);
          expect((await res.json()) as object).toHaveProperty("error");
        }
        await sleep(500);
        const s = await p.summary();
        expect(s.default.totalRequests + s.fallback.totalRequests).toBe(0);
        expect(p.def.rows().length + p.fb.rows().length).toBe(0);
      },
      timeout,
    );

    it(
      "changing delays and failures: the books agree live (auditor windows) and at random windows",
      async () => {
        p = await startPipeline(start);
        const pl = p;
        const runMs = 8000,
          t0 = Date.now();
        let accepted = 0,
          stop = false,
          liveChecks = 0;
        const load = (async () => {
          while (!stop) {
            const codes = await Promise.all(
              Array.from({ length: 10 }, () => pl.post(payment(1 + Math.floor(Math.random() * 9999) / 100))),
            );
            accepted += codes.filter((c) => c === 202).length;
            await sleep(40);
          }
        })();
        // Delays stay below the router's audit margin so that a live window ending 2 s ago is settled.
        const stages: [number, () => void][] = [
          [1000, () => pl.def.setDelay(100)],
          [2000, () => pl.def.setFailure(true)],
          [
            3500,
            () => {
              pl.fb.setDelay(200);
            },
          ],
          [
            4500,
            () => {
              pl.def.setFailure(false);
              pl.def.setDelay(20);
            },
          ],
          [5500, () => pl.fb.setFailure(true)],
          [
            6500,
            () => {
              pl.fb.setFailure(false);
              pl.def.setDelay(0);
            },
          ],
        ];
        const auditor = (async () => {
          while (!stop) {
            await sleep(400);
            const now = Date.now();
            if (now - t0 < 2500) continue;
            const from = iso(now - 15_000),
              to = iso(now - 2000);
            expectBooksEqual(pl, await pl.summary(from, to), from, to);
            liveChecks++;
          }
        })();
        for (const [at, act] of stages) {
          await sleep(Math.max(0, t0 + at - Date.now()));
          act();
        }
        await sleep(Math.max(0, t0 + runMs - Date.now()));
        stop = true;
        await Promise.all([load, auditor]);
        const s = await pl.waitForCount(accepted, 30_000);
        expect(s.default.totalRequests + s.fallback.totalRequests).toBe(accepted);
        expect(s.default.totalRequests).toBeGreaterThan(0);
        expect(s.fallback.totalRequests).toBeGreaterThan(0);
        expect(liveChecks).toBeGreaterThan(5);
        expectBooksEqual(pl, s);
        expectNoIdAtBoth(pl);
        const rows = [...pl.def.rows(), ...pl.fb.rows()].map((r) => Date.parse(r.requestedAt)).sort((a, b) => a - b);
        const lo = rows[0]!,
          hi = rows[rows.length - 1]!;
        for (let i = 0; i < 60; i++) {
          // Half the windows start or end exactly on a stored requestedAt: the ends are inclusive.
          const a = i % 2 ? rows[Math.floor(Math.random() * rows.length)]! : lo + Math.floor(Math.random() * (hi - lo));
          const b = a + Math.floor((Math.random() * (hi - lo)) / 2);
          const from = iso(a),
            to = iso(b);
          expectBooksEqual(pl, await pl.summary(from, to), from, to);
        }
      },
      timeout,
    );
  });
}
