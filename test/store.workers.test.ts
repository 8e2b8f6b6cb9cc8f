// The conformance suite against the workers store (the Books Durable Object over RPC, a Cloudflare Queue)
// running inside workerd via Miniflare. Batches are pushed by the runtime to the harness Worker's `queue` export
// and run through the store's runBatch there, as in production; the suite's handlers decide on the Node side.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cfDelaySeconds } from "../adapters/stores/workers/queue";
import { shardName, shardOf, sumSummaries } from "../adapters/stores/workers/shards";
import type { Store } from "../handlers/contract/types";
import { testStore } from "./support/conformance/suite";
import { type Harness, type HarnessStore, pushDelivery, startHarness } from "./support/workers/harness";

// Every store call is an HTTP request into workerd plus a Durable Object RPC there, and each DO write waits
// for its commit: the suite's 3000-write test takes ~2 s here on tmpfs, more on a busy disk; vitest's
// default 5 s is too close.
vi.setConfig({ testTimeout: 30_000 });

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

// Each store is a fresh set of Books objects with a queue of its own; its peer reaches the same objects and
// queue from the other Worker's isolate. Once on one object, once sharded (claims and ledger spread by
// correlationId; the summary sums over the shards).
for (const shards of [1, 4]) {
  testStore(
    `workers (Durable Objects and Queue, in Miniflare, ${shards} shard${shards > 1 ? "s" : ""})`,
    async () => h.store(`books-${randomUUID()}`, "a", shards),
    {
      delivery: pushDelivery(() => h),
      peer: async (s: Store) => h.store((s as HarnessStore).books, "b", (s as HarnessStore).shards),
      purgeDropsQueued: false, // a Queue binding has no purge
      retryDelayStepSeconds: 1, // Cloudflare's delays are whole seconds
    },
  );
}

describe("workers store: Cloudflare Queue glue", () => {
  it("retry delays are whole seconds, rounded up", () => {
    const cases: [number | undefined, number][] = [
      [undefined, 0],
      [0, 0],
      [-1, 0],
      [Number.NaN, 0],
      [0.001, 1],
      [0.05, 1],
      [0.3, 1],
      [1, 1],
      [1.01, 2],
      [2, 2],
      [1e9, 43_200],
    ];
    for (const [input, want] of cases) expect(cfDelaySeconds(input), String(input)).toBe(want);
  });
});

describe("workers store: shards", () => {
  it("a correlationId always maps to the same shard, inside the range", () => {
    const cases: [string, number, number][] = [
      ["", 1, 0],
      ["abc", 1, 0],
      ["4a7b0c1e-0000-4000-8000-000000000001", 1, 0],
      ["", 4, 0x811c9dc5 % 4],
      ["a", 16, 0xe40c292c % 16],
    ];
    for (const [cid, n, want] of cases) expect(shardOf(cid, n), `${cid}/${n}`).toBe(want);
    for (const n of [2, 4, 16]) for (let i = 0; i < 50; i++) expect(shardOf(`id-${i}`, n)).toBe(shardOf(`id-${i}`, n));
  });

  it("spreads uuids roughly evenly", () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(randomUUID(), 16)]++;
    for (const c of counts) expect(c).toBeGreaterThan(700); // 1000 expected per shard
  });

  it("refuses a shard count that is not a positive integer", () => {
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => shardOf("x", n), String(n)).toThrow(/positive integer/);
  });

  it("shard 0 keeps the bare name", () => {
    expect([0, 1, 15].map((i) => shardName("books", i))).toEqual(["books", "books-1", "books-15"]);
  });

  it("the summary of the shards is their exact sum", () => {
    const s = (a: number, b: number, c: number, d: number) => ({
      default: { totalRequests: a, totalCents: b },
      fallback: { totalRequests: c, totalCents: d },
    });
    expect(sumSummaries([])).toEqual(s(0, 0, 0, 0));
    expect(sumSummaries([s(1, 1990, 0, 0), s(2, 3, 4, 5), s(0, 0, 1, 9_007_199_254)])).toEqual(
      s(3, 1993, 5, 9_007_199_259),
    );
  });
});
