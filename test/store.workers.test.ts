// The conformance suite against the workers store (the Books Durable Object over RPC, a Cloudflare Queue)
// running inside workerd via Miniflare. Batches are pushed by the runtime to the harness Worker's `queue` export
// and run through the store's runBatch there, as in production; the suite's handlers decide on the Node side.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cfDelaySeconds } from "../adapters/stores/workers/queue";
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

// Each store is a fresh Books object with a queue of its own; its peer reaches the same object and queue from
// the other Worker's isolate.
testStore("workers (Durable Object and Queue, in Miniflare)", async () => h.store(`books-${randomUUID()}`, "a"), {
  delivery: pushDelivery(() => h),
  peer: async (s: Store) => h.store((s as HarnessStore).books, "b"),
  purgeDropsQueued: false, // a Queue binding has no purge
  retryDelayStepSeconds: 1, // Cloudflare's delays are whole seconds
  retained: async (r) => h.store(`books-${randomUUID()}`, "a", r),
});

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
