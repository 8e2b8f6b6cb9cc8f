// The one conformance suite every adapter runs (the pattern of unstorage's testDriver): written once,
// called by test/store.<adapter>.test.ts. It asserts behaviour only; timing is checked by lower bounds
// (waiting can only make them longer) and generous deadlines, never by tight windows.
import { makeRng as rng } from "../../../tools/lib/rng";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  applyObservation, emptyHealth, PROCESSORS,
  type Consumer, type HealthState, type LedgerEntry, type MessageBatch, type NodeStore, type PaymentJob,
  type PollableQueue, type ProcessorName, type QueueDepth, type QueueMessage, type Store, type Summary,
} from "../../../handlers/contract/types";

export interface TestStoreOptions {
  /** Run the queue tests; needs `store.queue` to be a PollableQueue (not Workers). Default true. */
  queue?: boolean;
  /**
   * Another handle on the same shared state as `store`, as a second process would have (own connections,
   * own consumer name). Default: the same object (in-process adapters).
   */
  peer?: (store: Store) => Promise<Store>;
  /** Longest wait for a stopped consumer's messages to reach another consumer. Default 10 s. */
  redeliveryMs?: number;
}

const T0 = Date.UTC(2025, 6, 15, 12, 34, 56, 789);
const QUEUE_TEST_MS = 30_000;

export function testStore(name: string, make: () => Promise<Store>, opts: TestStoreOptions = {}) {
  const redeliveryMs = opts.redeliveryMs ?? 10_000;
  const stores = new Set<Store>();
  const consumers: Consumer[] = [];

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop(100)));
    const all = [...stores];
    stores.clear();
    await Promise.all(all.map((s) => s.close()));
  });

  const fresh = async () => {
    const s = await make();
    stores.add(s);
    return s;
  };
  const peerOf = async (s: Store) => {
    const p = opts.peer ? await opts.peer(s) : s;
    stores.add(p);
    return p;
  };

  describe(`store conformance: ${name}`, () => {
    describe("ledger", () => {
      it("records once per correlationId: a repeat resolves false and changes nothing", async () => {
        const s = await fresh();
        const e = entry("default", T0, 1990);
        expect(await s.ledger.record(e)).toBe(true);
        expect(await s.ledger.record(e)).toBe(false);
        expect(await s.ledger.record({ ...e, processor: "fallback", amountCents: 5, requestedAt: T0 + 1 })).toBe(false);
        expect(await s.ledger.summary()).toEqual(totals([1, 1990], [0, 0]));
      });

      it("concurrent records of one correlationId from two instances: exactly one wins", async () => {
        const a = await fresh();
        const b = await peerOf(a);
        const id = randomUUID();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).ledger.record(entry(i % 3 ? "default" : "fallback", T0 + i, 100 + i, id))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const sum = await a.ledger.summary();
        expect(sum.default.totalRequests + sum.fallback.totalRequests).toBe(1);
      });

      it("many records at once: each resolves with its own result, and a bad entry fails alone", async () => {
        const s = await fresh();
        const seen = entry("fallback", T0 - 5, 700);
        expect(await s.ledger.record(seen)).toBe(true);
        const fresh50 = Array.from({ length: 50 }, (_, i) => entry(i % 2 ? "default" : "fallback", T0 + i * 37, 100 + i));
        const bad = { ...entry("default", T0, 1), amountCents: -1 };
        const calls = [...fresh50, seen, bad, fresh50[7]!].map((e) => s.ledger.record(e).then((v) => v, (err: Error) => err));
        const results = await Promise.all(calls);
        expect(results.slice(0, 50)).toEqual(Array(50).fill(true));
        expect(results[50], "recorded before").toBe(false);
        expect(results[51]).toBeInstanceOf(Error);
        expect(results[52], "the same payment twice in one go: only the first is new").toBe(false);
        const cents = (odd: boolean) => fresh50.filter((_, i) => (i % 2 === 1) === odd).reduce((n, e) => n + e.amountCents, 0);
        expect(await s.ledger.summary()).toEqual(totals([25, cents(true)], [26, cents(false) + 700]));
      });

      it("summary windows are inclusive at both ends, at ms precision", async () => {
        const s = await fresh();
        // Around a second boundary and inside one, so bucketed adapters hit their edge cases.
        const sec = Math.floor(T0 / 1000) * 1000;
        const times = [sec - 1, sec, sec + 1, sec + 99, sec + 100, sec + 999, sec + 1000, T0];
        for (const [i, t] of times.entries()) await s.ledger.record(entry(i % 2 ? "fallback" : "default", t, 1000 + i));
        for (const t of times) {
          const exact = await s.ledger.summary(t, t);
          expect(count(exact), `[${t}, ${t}]`).toBe(times.filter((x) => x === t).length);
          expect(count(await s.ledger.summary(t + 1, t + 1)), `[${t + 1}, ${t + 1}]`).toBe(times.filter((x) => x === t + 1).length);
        }
        // from == requestedAt and to == requestedAt are in; one ms outside is out.
        expect(count(await s.ledger.summary(sec, sec + 999))).toBe(6);
        expect(count(await s.ledger.summary(sec + 1, sec + 998))).toBe(4);
        expect(count(await s.ledger.summary(sec - 1, sec + 1000))).toBe(8);
        expect(count(await s.ledger.summary(sec - 2, sec - 2))).toBe(0);
      });

      it("matches a brute-force count for random entries and random windows", async () => {
        const s = await fresh();
        const rnd = rng(42);
        const entries: LedgerEntry[] = [];
        for (let i = 0; i < 600; i++) {
          // Clustered times (many share a ms) over ~40 s, plus a few far away.
          const t = i % 50 === 0 ? T0 + Math.floor(rnd() * 3_600_000) : T0 + Math.floor(rnd() * 40_000);
          entries.push(entry(rnd() < 0.6 ? "default" : "fallback", t, 1 + Math.floor(rnd() * 100_000)));
        }
        const ok = await Promise.all(entries.map((e) => s.ledger.record(e)));
        expect(ok.every(Boolean)).toBe(true);
        const windows: Array<[number | undefined, number | undefined]> = [[undefined, undefined]];
        for (let i = 0; i < 150; i++) {
          const pick = () => entries[Math.floor(rnd() * entries.length)]!.requestedAt + Math.floor(rnd() * 3) - 1;
          const a = pick(), b = rnd() < 0.3 ? a + Math.floor(rnd() * 2000) : pick();
          windows.push([Math.min(a, b), Math.max(a, b)]);
          if (i % 10 === 0) windows.push([a, undefined], [undefined, b]);
        }
        for (const [from, to] of windows) {
          expect(await s.ledger.summary(from, to), `[${from}, ${to}]`).toEqual(bruteForce(entries, from, to));
        }
      });

      it("empty ledger, empty windows and from > to give zeros", async () => {
        const s = await fresh();
        expect(await s.ledger.summary()).toEqual(totals([0, 0], [0, 0]));
        expect(await s.ledger.summary(T0, T0 + 1000)).toEqual(totals([0, 0], [0, 0]));
        await s.ledger.record(entry("default", T0, 500));
        expect(await s.ledger.summary(T0 + 1, T0 + 60_000)).toEqual(totals([0, 0], [0, 0]));
        expect(await s.ledger.summary(T0 - 60_000, T0 - 1)).toEqual(totals([0, 0], [0, 0]));
        expect(await s.ledger.summary(T0 + 1, T0 - 1)).toEqual(totals([0, 0], [0, 0]));
      });

      it("open ends: from only, to only, neither", async () => {
        const s = await fresh();
        await s.ledger.record(entry("default", T0 - 10_000, 100));
        await s.ledger.record(entry("fallback", T0, 200));
        await s.ledger.record(entry("default", T0 + 10_000, 400));
        expect(await s.ledger.summary()).toEqual(totals([2, 500], [1, 200]));
        expect(await s.ledger.summary(T0)).toEqual(totals([1, 400], [1, 200]));
        expect(await s.ledger.summary(T0 + 1)).toEqual(totals([1, 400], [0, 0]));
        expect(await s.ledger.summary(undefined, T0)).toEqual(totals([1, 100], [1, 200]));
        expect(await s.ledger.summary(undefined, T0 - 1)).toEqual(totals([1, 100], [0, 0]));
      });

      it("sums many payments to the exact cent", async () => {
        const s = await fresh();
        const amounts = [1990, 2005, 1, 10, 99, 123_456_789_01];
        const want = { default: [0, 0], fallback: [0, 0] } as Record<ProcessorName, [number, number]>;
        const writes: Promise<boolean>[] = [];
        for (let i = 0; i < 3000; i++) {
          const p: ProcessorName = i % 3 === 0 ? "fallback" : "default";
          const c = amounts[i % amounts.length]!;
          want[p][0]++;
          want[p][1] += c;
          writes.push(s.ledger.record(entry(p, T0 + (i % 1500) * 7, c)));
        }
        expect((await Promise.all(writes)).every(Boolean)).toBe(true);
        expect(await s.ledger.summary()).toEqual(totals(want.default, want.fallback));
        expect(await s.ledger.summary(T0, T0 + 1500 * 7)).toEqual(totals(want.default, want.fallback));
      });
    });

    describe("attempt registry", () => {
      it("under many concurrent claims from several instances, one claim wins and every caller sees it", async () => {
        const a = await fresh();
        const instances = [a, await peerOf(a), await peerOf(a)];
        const ids = Array.from({ length: 40 }, () => randomUUID());
        await Promise.all(ids.map(async (id) => {
          const tries = Array.from({ length: 12 }, (_, i) => ({
            s: instances[i % instances.length]!, processor: PROCESSORS[i % 2]!, owner: `job-${i}`,
          }));
          const got = await Promise.all(tries.map((t) => t.s.attempts.claim(id, t.processor, t.owner)));
          const winner = got[0]!;
          for (const g of got) expect(g).toEqual(winner);
          // The winner is one of the claimers, with the processor it asked for.
          expect(tries.some((t) => t.owner === winner.owner && t.processor === winner.processor)).toBe(true);
          for (const s of instances) expect(await s.attempts.get(id)).toEqual(winner);
        }));
      });

      it("a claim is never overwritten, not even by its owner", async () => {
        const s = await fresh();
        const id = randomUUID();
        expect(await s.attempts.get(id)).toBeNull();
        expect(await s.attempts.claim(id, "default", "job-a")).toEqual({ processor: "default", owner: "job-a" });
        expect(await s.attempts.claim(id, "fallback", "job-a")).toEqual({ processor: "default", owner: "job-a" });
        expect(await s.attempts.claim(id, "fallback", "job-b")).toEqual({ processor: "default", owner: "job-a" });
      });

      it("only the owner releases; after that anyone may claim", async () => {
        const a = await fresh();
        const b = await peerOf(a);
        const id = randomUUID();
        await a.attempts.claim(id, "default", "job-a");
        expect(await b.attempts.release(id, "job-b")).toBe(false);
        expect(await b.attempts.release(id, "job")).toBe(false);
        expect(await a.attempts.get(id)).toEqual({ processor: "default", owner: "job-a" });
        expect(await b.attempts.release(id, "job-a")).toBe(true);
        expect(await a.attempts.get(id)).toBeNull();
        expect(await a.attempts.release(id, "job-a")).toBe(false);
        expect(await b.attempts.claim(id, "fallback", "job-b")).toEqual({ processor: "fallback", owner: "job-b" });
        expect(await a.attempts.release(randomUUID(), "job-a")).toBe(false);
      });
    });

    describe("health", () => {
      it("starts empty; polls and observations read back as applyObservation says", async () => {
        const a = await fresh();
        const b = await peerOf(a);
        expect(await a.health.read()).toEqual({ default: emptyHealth(), fallback: emptyHealth() });
        await a.health.writePoll("default", { failing: true, minResponseTime: 120, at: T0 });
        const obs = [
          { at: T0 + 10, ok: false },
          { at: T0 + 5, ok: false }, // older than the last error: lastErrorAt must not go back
          { at: T0 + 20, ok: true, latencyMs: 37 },
          { at: T0 + 30, ok: false },
          { at: T0 + 40, ok: true },
          { at: T0 + 35, ok: true, latencyMs: 12.5 },
        ];
        let want = { ...emptyHealth(), failing: true, minResponseTime: 120, polledAt: T0 };
        for (const o of obs) {
          await b.health.observe("default", o);
          want = applyObservation(want, o);
        }
        const fallbackObs = { at: T0, ok: false };
        await a.health.observe("fallback", fallbackObs);
        const read: HealthState = await b.health.read();
        expect(read.default).toEqual(want);
        expect(read.fallback).toEqual(applyObservation(emptyHealth(), fallbackObs));
        await b.health.writePoll("default", { failing: false, minResponseTime: 0, at: T0 + 5000 });
        expect((await a.health.read()).default).toEqual({ ...want, failing: false, minResponseTime: 0, polledAt: T0 + 5000 });
      });

      it("concurrent observations from two instances are all counted", async () => {
        const a = await fresh();
        const b = await peerOf(a);
        await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).health.observe("fallback", { at: T0 + i, ok: false })));
        const h = (await a.health.read()).fallback;
        expect(h.errorStreak).toBe(60);
        expect(h.lastErrorAt).toBe(T0 + 59);
      });

      it("the polling lock: concurrent tryLock from two instances, exactly one wins, per processor", async () => {
        const a = await fresh();
        const b = await peerOf(a);
        const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).health.tryLock("default", 10_000, `owner-${i}`)));
        expect(got.filter(Boolean)).toHaveLength(1);
        expect(await a.health.tryLock("fallback", 10_000, "x")).toBe(true);
        expect(await b.health.tryLock("fallback", 10_000, "y")).toBe(false);
      });

      it("the polling lock expires after its ttl, not before", async () => {
        const a = await fresh();
        const b = await peerOf(a);
        const t = Date.now();
        expect(await a.health.tryLock("default", 300, "a")).toBe(true);
        expect(await b.health.tryLock("default", 300, "b")).toBe(false);
        await waitFor(() => b.health.tryLock("default", 300, "b"), 10_000, "the lock never expired");
        expect(Date.now() - t).toBeGreaterThanOrEqual(250);
      });
    });

    it("purge wipes ledger, attempts, health (and the queue) and the store keeps working", async () => {
      const s = await fresh();
      const e = entry("default", T0, 700);
      await s.ledger.record(e);
      await s.attempts.claim(e.correlationId, "default", "job-a");
      await s.health.observe("default", { at: T0, ok: false });
      await s.health.writePoll("fallback", { failing: true, minResponseTime: 5, at: T0 });
      const q = opts.queue === false ? undefined : pollable(s);
      if (q) { await q.send(job()); await q.send(job()); }
      await s.purge();
      expect(await s.ledger.summary()).toEqual(totals([0, 0], [0, 0]));
      expect(await s.attempts.get(e.correlationId)).toBeNull();
      expect(await s.health.read()).toEqual({ default: emptyHealth(), fallback: emptyHealth() });
      expect(await s.ledger.record(e)).toBe(true);
      if (q) {
        expect(await q.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
        const body = job();
        await q.send(body);
        const got = await collect(q, consumers, 1, { batchSize: 10, maxInFlight: 10 });
        expect(got.map((m) => m.body)).toEqual([body]);
      }
    }, QUEUE_TEST_MS);

    if (opts.queue === false) return;

    describe("queue", () => {
      it("delivers what was sent, once, with attempts 1; ack removes it", async () => {
        const s = await fresh();
        const q = pollable(s);
        const bodies = [job(), job(), job()];
        for (const b of bodies) await q.send(b);
        const seen: QueueMessage<PaymentJob>[] = [];
        consumers.push(q.consume(async (batch) => {
          expect(batch.messages.length).toBeLessThanOrEqual(2);
          for (const m of batch.messages) { seen.push(m); m.ack(); }
        }, { batchSize: 2, maxInFlight: 10, pollMs: 100 }));
        await waitFor(() => seen.length >= 3, 10_000, "not all messages delivered");
        expect(seen.map((m) => m.body).sort(byJob)).toEqual([...bodies].sort(byJob));
        expect(seen.every((m) => m.attempts === 1)).toBe(true);
        expect(new Set(seen.map((m) => m.id)).size).toBe(3);
        expect(seen.every((m) => m.timestamp instanceof Date && !Number.isNaN(m.timestamp.getTime()))).toBe(true);
        await waitFor(async () => sameDepth(await q.depth(), { ready: 0, pending: 0, delayed: 0 }), 10_000, "depth never went to 0");
      }, QUEUE_TEST_MS);

      it("an acked message is never delivered again, to this or another consumer", async () => {
        const s = await fresh();
        const q = pollable(s);
        const q2 = pollable(await peerOf(s));
        await q.send(job());
        let deliveries = 0;
        const handler = async (batch: MessageBatch<PaymentJob>) => { deliveries += batch.messages.length; batch.ackAll(); };
        consumers.push(q.consume(handler, { batchSize: 5, maxInFlight: 5, pollMs: 100 }));
        consumers.push(q2.consume(handler, { batchSize: 5, maxInFlight: 5, pollMs: 100 }));
        await waitFor(() => deliveries >= 1, 10_000, "never delivered");
        await sleep(Math.min(redeliveryMs, 2500));
        expect(deliveries).toBe(1);
        expect(await q.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
      }, QUEUE_TEST_MS);

      it("retry with a delay: not redelivered before it, then redelivered with attempts + 1", async () => {
        const s = await fresh();
        const q = pollable(s);
        const body = job();
        await q.send(body);
        const seen: Array<{ id: string; attempts: number; at: number; body: PaymentJob }> = [];
        let retriedAt = 0;
        consumers.push(q.consume(async (batch) => {
          for (const m of batch.messages) {
            seen.push({ id: m.id, attempts: m.attempts, at: Date.now(), body: m.body });
            if (m.attempts === 1) { retriedAt = Date.now(); m.retry({ delaySeconds: 0.6 }); } else m.ack();
          }
        }, { batchSize: 1, maxInFlight: 1, pollMs: 100 }));
        await waitFor(() => seen.length >= 2, 10_000, "the retried message never came back");
        expect(seen.map((x) => x.attempts)).toEqual([1, 2]);
        expect(seen[1]!.body).toEqual(body);
        expect(seen[1]!.id).toBe(seen[0]!.id); // the message keeps its id across retries, as on Cloudflare
        // Lower bound only, with 50 ms for clocks (Redis uses its own); a slow machine only adds time.
        expect(seen[1]!.at - retriedAt).toBeGreaterThanOrEqual(550);
        await sleep(300);
        expect(seen).toHaveLength(2);
      }, QUEUE_TEST_MS);

      it("fractional delays (0.05 s) and repeated retries: attempts count every delivery", async () => {
        const s = await fresh();
        const q = pollable(s);
        await q.send(job());
        const attempts: number[] = [];
        const gaps: number[] = [];
        let last = 0;
        consumers.push(q.consume(async (batch) => {
          for (const m of batch.messages) {
            attempts.push(m.attempts);
            if (last) gaps.push(Date.now() - last);
            last = Date.now();
            if (m.attempts === 1) m.retry(); // no options: no delay
            else if (m.attempts < 5) m.retry({ delaySeconds: 0.05 });
            else m.ack();
          }
        }, { batchSize: 1, maxInFlight: 1, pollMs: 100 }));
        await waitFor(() => attempts.length >= 5, 10_000, `retries stalled at attempts ${attempts.join(",")}`);
        expect(attempts).toEqual([1, 2, 3, 4, 5]);
        for (const g of gaps.slice(1)) expect(g).toBeGreaterThanOrEqual(40);
      }, QUEUE_TEST_MS);

      it("a consumer stopped without settling: its messages reach the next consumer with attempts + 1", async () => {
        const s = await fresh();
        const q = pollable(s);
        const body = job();
        await q.send(body);
        let held: QueueMessage<PaymentJob> | undefined;
        const dead = q.consume(async (batch) => {
          held = batch.messages[0];
          await new Promise(() => {}); // hangs, like a process that died mid-batch
        }, { batchSize: 1, maxInFlight: 1, pollMs: 100 });
        consumers.push(dead);
        await waitFor(() => held !== undefined, 10_000, "first consumer never got the message");
        await dead.stop(100);
        const q2 = pollable(await peerOf(s));
        const got = await collect(q2, consumers, 1, { batchSize: 1, maxInFlight: 1 }, redeliveryMs);
        expect(got[0]!.body).toEqual(body);
        expect(got[0]!.attempts).toBe(2);
        expect(got[0]!.id).toBe(held!.id);
        // The abandoned handler's late ack must not disturb anything.
        held!.ack();
        held!.retry();
        await sleep(300);
        expect(await q.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
      }, QUEUE_TEST_MS);

      it("never hands out more than maxInFlight unsettled messages, nor batches above batchSize", async () => {
        const s = await fresh();
        const q = pollable(s);
        const sent = Array.from({ length: 12 }, () => job());
        for (const b of sent) await q.send(b);
        let outstanding = 0, maxOutstanding = 0, maxBatch = 0;
        const got: PaymentJob[] = [];
        consumers.push(q.consume(async (batch) => {
          maxBatch = Math.max(maxBatch, batch.messages.length);
          outstanding += batch.messages.length;
          maxOutstanding = Math.max(maxOutstanding, outstanding);
          for (const m of batch.messages) {
            got.push(m.body);
            // Settle later and out of the handler: the slot is held until ack, not until return.
            setTimeout(() => { outstanding--; m.ack(); }, 40);
          }
        }, { batchSize: 2, maxInFlight: 3, pollMs: 50 }));
        await waitFor(() => got.length >= 12, 20_000, `only ${got.length} of 12 delivered`);
        expect(maxOutstanding).toBeLessThanOrEqual(3);
        expect(maxOutstanding).toBeGreaterThanOrEqual(2);
        expect(maxBatch).toBeLessThanOrEqual(2);
        expect(got.sort(byJob)).toEqual(sent.sort(byJob));
      }, QUEUE_TEST_MS);

      it("depth counts ready, pending and delayed", async () => {
        const s = await fresh();
        const q = pollable(s);
        for (let i = 0; i < 3; i++) await q.send(job());
        const held: QueueMessage<PaymentJob>[] = [];
        const c = q.consume(async (batch) => { held.push(...batch.messages); }, { batchSize: 1, maxInFlight: 1, pollMs: 50 });
        consumers.push(c);
        await waitFor(() => held.length === 1, 10_000, "nothing delivered");
        await expectDepth(q, { ready: 2, pending: 1, delayed: 0 });
        held[0]!.retry({ delaySeconds: 60 });
        await waitFor(() => held.length === 2, 10_000, "second message not delivered after a retry freed the slot");
        await expectDepth(q, { ready: 1, pending: 1, delayed: 1 });
        held[1]!.ack();
        await waitFor(() => held.length === 3, 10_000, "third message not delivered");
        await expectDepth(q, { ready: 0, pending: 1, delayed: 1 });
        await c.stop(50); // gives the held third one back
        await expectDepth(q, { ready: 1, pending: 0, delayed: 1 });
        await q.clear();
        expect(await q.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
      }, QUEUE_TEST_MS);

      it("two consumers on shared state: every message exactly once", async () => {
        const s = await fresh();
        const q = pollable(s);
        const q2 = pollable(await peerOf(s));
        const sent = Array.from({ length: 200 }, () => job());
        const seen = new Map<string, number>();
        const handler = async (batch: MessageBatch<PaymentJob>) => {
          await sleep(5);
          for (const m of batch.messages) { seen.set(m.body.jobId, (seen.get(m.body.jobId) ?? 0) + 1); m.ack(); }
        };
        consumers.push(q.consume(handler, { batchSize: 16, maxInFlight: 32, pollMs: 50 }));
        consumers.push(q2.consume(handler, { batchSize: 16, maxInFlight: 32, pollMs: 50 }));
        await Promise.all(sent.map((b, i) => (i % 2 ? q : q2).send(b)));
        await waitFor(() => seen.size >= 200, 20_000, `only ${seen.size} of 200 delivered`);
        await sleep(300);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
        expect(new Set(seen.keys())).toEqual(new Set(sent.map((b) => b.jobId)));
      }, QUEUE_TEST_MS);

      it("settling a message after the queue was cleared does not bring it back", async () => {
        const s = await fresh();
        const q = pollable(s);
        await q.send(job());
        await q.send(job());
        const held: QueueMessage<PaymentJob>[] = [];
        consumers.push(q.consume(async (batch) => { held.push(...batch.messages); }, { batchSize: 2, maxInFlight: 2, pollMs: 50 }));
        await waitFor(() => held.length === 2, 10_000, "not delivered");
        await s.purge();
        held[0]!.retry();
        held[1]!.retry({ delaySeconds: 0.05 });
        await sleep(500);
        expect(held).toHaveLength(2);
        expect(await q.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
      }, QUEUE_TEST_MS);

      it("a purge while messages flow leaves a queue that works", async () => {
        const s = await fresh();
        const q = pollable(s);
        const seen = new Set<string>();
        consumers.push(q.consume(async (batch) => {
          for (const m of batch.messages) { seen.add(m.body.jobId); m.ack(); }
        }, { batchSize: 8, maxInFlight: 16, pollMs: 50 }));
        const flowing = Promise.all(Array.from({ length: 100 }, () => q.send(job())));
        await s.purge();
        await flowing;
        const after = job();
        await q.send(after);
        await waitFor(() => seen.has(after.jobId), 10_000, "a message sent after the purge was not delivered");
        await waitFor(async () => sameDepth(await q.depth(), { ready: 0, pending: 0, delayed: 0 }), 10_000, "queue did not drain");
      }, QUEUE_TEST_MS);
    });
  });
}

// ---------------------------------------------------------------------------------------------

export function job(): PaymentJob {
  return { jobId: randomUUID(), correlationId: randomUUID(), amountCents: 1990, receivedAt: Date.now() };
}

function entry(processor: ProcessorName, requestedAt: number, amountCents: number, correlationId = randomUUID()): LedgerEntry {
  return { correlationId, processor, requestedAt, amountCents };
}

function totals(d: readonly number[], f: readonly number[]): Summary {
  return { default: { totalRequests: d[0]!, totalCents: d[1]! }, fallback: { totalRequests: f[0]!, totalCents: f[1]! } };
}

function count(s: Summary) {
  return s.default.totalRequests + s.fallback.totalRequests;
}

function bruteForce(entries: LedgerEntry[], from?: number, to?: number): Summary {
  const out = totals([0, 0], [0, 0]);
  for (const e of entries) {
    if ((from === undefined || e.requestedAt >= from) && (to === undefined || e.requestedAt <= to)) {
      out[e.processor].totalRequests++;
      out[e.processor].totalCents += e.amountCents;
    }
  }
  return out;
}

function pollable(s: Store): PollableQueue<PaymentJob> {
  const q = (s as NodeStore).queue;
  if (typeof q.consume !== "function") throw new Error(`store ${s.name}: queue is not pollable; pass { queue: false }`);
  return q;
}

const byJob = (a: PaymentJob, b: PaymentJob) => a.jobId.localeCompare(b.jobId);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(15);
  }
}

function sameDepth(a: QueueDepth, b: QueueDepth) {
  return a.ready === b.ready && a.pending === b.pending && a.delayed === b.delayed;
}

/** Depth settles a moment after the events that change it (acks are flushed asynchronously). */
async function expectDepth(q: PollableQueue<PaymentJob>, want: QueueDepth) {
  let last: QueueDepth | undefined;
  try {
    await waitFor(async () => sameDepth((last = await q.depth()), want), 5000, "depth");
  } catch {
    expect(last).toEqual(want);
  }
}

/** Consumes until `n` messages arrived (acking them) and returns them. */
async function collect(
  q: PollableQueue<PaymentJob>, consumers: Consumer[], n: number,
  o: { batchSize: number; maxInFlight: number }, timeoutMs = 10_000,
): Promise<QueueMessage<PaymentJob>[]> {
  const got: QueueMessage<PaymentJob>[] = [];
  consumers.push(q.consume(async (batch) => {
    for (const m of batch.messages) { got.push(m); m.ack(); }
  }, { ...o, pollMs: 50 }));
  await waitFor(() => got.length >= n, timeoutMs, `${got.length} of ${n} messages delivered`);
  return got;
}
