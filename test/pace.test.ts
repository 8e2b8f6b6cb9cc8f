// FORWARD_RATE through the whole pipeline (node + memory): a burst of payments reaches the processors as a
// stream at the configured pace, and every one of them still arrives exactly once.
import { randomUUID } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { startRuntime } from "../adapters/runtimes/node/runtime";
import { type Pipeline, startPipeline } from "./support/e2e/harness";

let p: Pipeline | undefined;
const start = async (env: Record<string, string>) => {
  const rt = await startRuntime({ ...env, STORE: "memory", PORT: "0", HOST: "127.0.0.1" }, { quiet: true });
  return { url: rt.url, close: () => rt.close() };
};
const pacedWaiting = async () => Number(/forward_paced_waiting (\d+)/.exec(await p!.metrics())?.[1] ?? -1);
afterEach(async () => {
  await p?.close();
  p = undefined;
});

it("a burst is sent at FORWARD_RATE, and all of it arrives once", async () => {
  p = await startPipeline(start, { FORWARD_RATE: "10" });
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
  expect(await pacedWaiting()).toBeGreaterThan(0);
  const s = await p.waitForCount(n);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  expect(s.default.totalRequests + s.fallback.totalRequests).toBe(n);
});

it("held payments take no turns: while they wait for the default, nothing queues in the pace", async () => {
  p = await startPipeline(start, { FORWARD_RATE: "10", FEE_HOLD_MS: "20000" });
  p.def.setFailure(true);
  // One payment first, so the backend learns that the default fails (its send fails) before the others come.
  expect(await p.post({ correlationId: randomUUID(), amount: 4.2 })).toBe(202);
  const deadline = Date.now() + 10_000;
  while (p.def.stats().payments.failed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  const n = 15;
  await Promise.all(Array.from({ length: n }, () => p!.post({ correlationId: randomUUID(), amount: 4.2 })));
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 200)); // held payments wake on every health change and refresh
    expect(await pacedWaiting(), "held payments waiting for a turn").toBe(0);
  }
  p.def.setFailure(false);
  const s = await p.waitForCount(n + 1);
  expect(s.default.totalRequests).toBe(n + 1);
});
