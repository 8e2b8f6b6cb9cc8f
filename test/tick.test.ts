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
});
