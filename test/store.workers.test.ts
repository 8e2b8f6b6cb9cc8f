// The conformance suite against the workers adapter (Books Durable Object over RPC) running inside
// workerd via Miniflare, plus the Cloudflare Queue glue: send -> queue handler, retry, ack, max_retries.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cfDelaySeconds } from "../adapters/stores/workers/queue";
import { testStore } from "./support/conformance/suite";
import { plannedJob, startHarness, type Harness } from "./support/workers/harness";

// Every store call is an HTTP request into workerd plus a Durable Object RPC there, and each DO write waits
// for its commit: the suite's 3000-write test takes ~2 s here on tmpfs, more on a busy disk; vitest's
// default 5 s is too close.
vi.setConfig({ testTimeout: 30_000 });

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

// Each store is a fresh Books object; its peer reaches the same object from the other Worker's isolate.
const names = new WeakMap<object, string>();
testStore("workers (Durable Object, in Miniflare)", async () => {
  const name = `books-${randomUUID()}`;
  const s = h.store(name, "a");
  names.set(s, name);
  return s;
}, {
  queue: false, // a Cloudflare Queue is consumed by the runtime, not polled: tested below
  peer: async (s) => h.store(names.get(s)!, "b"),
});

describe("workers adapter: Cloudflare Queue glue, in Miniflare", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const until = async (jobId: string, n: number, timeoutMs = 15_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const d = await h.deliveries(jobId);
      if (d.length >= n) return d;
      if (Date.now() > end) throw new Error(`${d.length} of ${n} deliveries of ${jobId} after ${timeoutMs} ms: ${JSON.stringify(d.map((x) => x.attempts))}`);
      await sleep(50);
    }
  };
  const send = (job: object) => h.store("queue-tests").queue.send(job as never);

  it("retry delays are whole seconds, rounded up", () => {
    const cases: [number | undefined, number][] = [
      [undefined, 0], [0, 0], [-1, 0], [Number.NaN, 0], [0.001, 1], [0.05, 1], [0.3, 1], [1, 1], [1.01, 2], [2, 2], [1e9, 43_200],
    ];
    for (const [input, want] of cases) expect(cfDelaySeconds(input), String(input)).toBe(want);
  });

  it("send -> the queue handler receives the body once, attempts 1; ack ends it", async () => {
    const job = plannedJob("a");
    await send(job);
    const [d] = await until(job.jobId, 1);
    expect(d!.attempts).toBe(1);
    expect(d!.body).toEqual(job);
    await sleep(1500);
    expect(await h.deliveries(job.jobId)).toHaveLength(1);
  }, 30_000);

  it("retry({ delaySeconds: 0.3 }) redelivers with attempts + 1, not before the whole second it rounds up to", async () => {
    const job = plannedJob("r0.3,a");
    await send(job);
    const d = await until(job.jobId, 2);
    expect(d.map((x) => x.attempts)).toEqual([1, 2]);
    expect(d[1]!.body).toEqual(job);
    expect(d[1]!.at - d[0]!.at).toBeGreaterThanOrEqual(950);
    await sleep(1500);
    expect(await h.deliveries(job.jobId)).toHaveLength(2);
  }, 30_000);

  it("retries past the consumer's max_retries are sent again, not dropped: attempts keep counting", async () => {
    // max_retries is 1 here: the platform alone would drop the message after its 2nd delivery.
    const job = plannedJob("r,r,r,r,a");
    await send(job);
    const d = await until(job.jobId, 5);
    expect(d.map((x) => x.attempts)).toEqual([1, 2, 3, 4, 5]);
    for (const x of d) expect(x.body).toEqual(job); // the carried attempt count never leaks into the body
    await sleep(1500);
    expect(await h.deliveries(job.jobId)).toHaveLength(5);
  }, 30_000);

  it("a message left unsettled, or whose handler threw, is delivered again", async () => {
    const job = plannedJob("n,x,a");
    await send(job);
    const d = await until(job.jobId, 3);
    expect(d.map((x) => x.attempts)).toEqual([1, 2, 3]);
    await sleep(1500);
    expect(await h.deliveries(job.jobId)).toHaveLength(3);
  }, 30_000);
});
