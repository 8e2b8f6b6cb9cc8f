import { describe, expect, it } from "vitest";
import { startRuntime } from "../adapters/runtimes/node/runtime";
import { warmUp } from "../adapters/runtimes/node/warmup";
import { createMemoryStore } from "../adapters/stores/memory";
import { createHandlers, loadConfig } from "../handlers";

describe("API warm-up", () => {
  it("serves synthetic requests through the real handlers: valid POSTs accepted, invalid ones not", async () => {
    const r = await warmUp(createHandlers(), loadConfig({}), 200);
    expect(r.requests).toBe(200);
    // Of every 20: 18 valid POSTs, 1 invalid one, 1 summary.
    expect(r.accepted).toBe(180);
  });

  it("runs before the process listens and leaves nothing in the real store or metrics", async () => {
    const store = createMemoryStore();
    const rt = await startRuntime({ PORT: "0", HOST: "127.0.0.1", WARMUP_REQUESTS: "300" }, { store, quiet: true });
    try {
      expect(await store.queue.depth()).toEqual({ ready: 0, pending: 0, delayed: 0 });
      expect(rt.env.metrics.get("accepted_total")).toBe(0);
      const s = await (await fetch(`${rt.url}/payments-summary`)).json();
      expect(s).toEqual({
        default: { totalRequests: 0, totalAmount: 0 },
        fallback: { totalRequests: 0, totalAmount: 0 },
      });
    } finally {
      await rt.close();
    }
  });

  it("refuses a WARMUP_REQUESTS that is not a whole number", async () => {
    await expect(
      startRuntime({ PORT: "0", WARMUP_REQUESTS: "lots" }, { store: createMemoryStore(), quiet: true }),
    ).rejects.toThrow(/WARMUP_REQUESTS=lots/);
  });
});
