// FORWARD_RATE through the whole pipeline (node + memory): a burst of payments reaches the processors as a
// stream at the configured pace, and every one of them still arrives exactly once.
import { randomUUID } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { startRuntime } from "../adapters/runtimes/node/runtime";
import { type Pipeline, startPipeline } from "./support/e2e/harness";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

it("a burst is sent at FORWARD_RATE, and all of it arrives once", async () => {
  p = await startPipeline(
    async (env) => {
      const rt = await startRuntime({ ...env, STORE: "memory", PORT: "0", HOST: "127.0.0.1" }, { quiet: true });
      return { url: rt.url, close: () => rt.close() };
    },
    { FORWARD_RATE: "10" },
  );
  const n = 12;
  const t0 = Date.now();
  const codes = await Promise.all(
    Array.from({ length: n }, () => p!.post({ correlationId: randomUUID(), amount: 19.9 })),
  );
  expect(codes).toEqual(Array(n).fill(202));
  // At 10/s with a burst of one, 12 sends take at least 1.1 s; none of it may arrive early.
  await new Promise((r) => setTimeout(r, 400));
  const early = await p.summary();
  expect(early.default.totalRequests + early.fallback.totalRequests).toBeLessThan(n);
  expect(await p.metrics()).toMatch(/forward_paced_waiting [1-9]/);
  const s = await p.waitForCount(n);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  expect(s.default.totalRequests + s.fallback.totalRequests).toBe(n);
});
