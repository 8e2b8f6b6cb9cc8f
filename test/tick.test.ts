import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/stores/memory";
import { createHandlers, loadConfig, makeEnv } from "../handlers";
import { fetchTransport } from "../handlers/contract/transport";
import { type Emulator, startEmulator } from "../tools/emulator/server";

const handlers = createHandlers();

describe("scheduled tick", () => {
  let emus: Emulator[] = [];
  afterEach(async () => {
    await Promise.all(emus.map((e) => e.close()));
    emus = [];
  });

  it("polls each processor once per window across instances and shares the answer", async () => {
    const def = await startEmulator({ fee: 0.05, delay: 70 }),
      fb = await startEmulator({ fee: 0.15, failure: true });
    emus = [def, fb];
    const store = createMemoryStore(); // shared by both "instances"
    const vars = { PROCESSOR_DEFAULT_URL: def.url, PROCESSOR_FALLBACK_URL: fb.url, HEALTH_WINDOW_MS: "60000" };
    const a = makeEnv(store, loadConfig(vars), fetchTransport(loadConfig(vars).processorUrls), "a");
    const b = makeEnv(store, loadConfig(vars), fetchTransport(loadConfig(vars).processorUrls), "b");
    await Promise.all(Array.from({ length: 5 }, (_, i) => handlers.scheduled(i % 2 ? a : b)));
    expect(def.stats().health.served + def.stats().health.rejected).toBe(1);
    expect(fb.stats().health.served + fb.stats().health.rejected).toBe(1);
    const h = await store.health.read();
    expect(h.default).toMatchObject({ failing: false, minResponseTime: 70 });
    expect(h.fallback).toMatchObject({ failing: true, minResponseTime: 0 });
    expect(h.default.polledAt).toBeGreaterThan(Date.now() - 10_000);
    // Both instances route on it.
    expect(b.view.snapshot().fallback.failing).toBe(true);
  });

  it("gives up on a processor that does not answer, within the health timeout", async () => {
    const store = createMemoryStore();
    const vars = {
      PROCESSOR_DEFAULT_URL: "http://127.0.0.1:9",
      PROCESSOR_FALLBACK_URL: "http://127.0.0.1:9",
      HEALTH_TIMEOUT_MS: "500",
    };
    const e = makeEnv(store, loadConfig(vars), fetchTransport(loadConfig(vars).processorUrls), "c");
    await handlers.scheduled(e);
    expect((await store.health.read()).default.polledAt).toBe(0);
    expect(e.metrics.get("health_polls_total", { processor: "default", result: "network" })).toBe(1);
  });

  it("applies the store's retention: folds old entries, drops expired claims, counts both", async () => {
    const vars = {
      PROCESSOR_DEFAULT_URL: "http://127.0.0.1:9",
      PROCESSOR_FALLBACK_URL: "http://127.0.0.1:9",
      HEALTH_TIMEOUT_MS: "200",
      LEDGER_RETENTION_MS: "1000",
      IDEMPOTENCY_WINDOW_MS: "1000",
    };
    const config = loadConfig(vars);
    const store = createMemoryStore(config.retention);
    const e = makeEnv(store, config, fetchTransport(config.processorUrls), "d");
    const old = Date.now() - 60_000;
    for (let i = 0; i < 3; i++)
      await store.ledger.record({
        correlationId: `c${i}`,
        processor: "default",
        requestedAt: old + i,
        amountCents: 10,
      });
    await store.attempts.claim("c0", "default", "job");
    await handlers.scheduled(e);
    expect(e.metrics.get("ledger_entries_folded_total")).toBe(3);
    expect((await store.ledger.summary()).default).toEqual({ totalRequests: 3, totalCents: 30 });
    await store.ledger.record({ correlationId: "late", processor: "default", requestedAt: old, amountCents: 10 });
    const until = Date.now() + 10_000;
    while ((await store.attempts.get("c0")) !== null && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await handlers.scheduled(e);
    expect(e.metrics.get("ledger_records_refused_old_total")).toBe(1);
    expect((await store.ledger.summary()).default.totalRequests).toBe(3);
  });
});
