// After a processor comes back, its latency is unknown (a probe's success carries none): route() sends one
// scout and holds the rest until the scout's answer says how slow it is now. Many payments decide at once
// (a batch is forwarded concurrently), so the scout must be reserved before the first one yields: here 30
// payments wait while the default recovered, and only one may reach it before the scout's answer is back.
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/stores/memory";
import { loadConfig, makeEnv } from "../handlers";
import type { Transport } from "../handlers/contract/transport";
import type { ProcessorName } from "../handlers/contract/types";
import { forwardOne } from "../handlers/forward";
import { message, payment } from "./support/forward/message";

describe("the scout after a recovery", () => {
  it("is one payment, however many decide at once; the rest follow its answer", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const posts: { p: ProcessorName }[] = [];
    const transport: Transport = {
      async send(p, req) {
        if (req.method === "GET" && req.path.endsWith("service-health"))
          return { status: 200, body: '{"failing":false,"minResponseTime":5}' };
        if (req.method === "GET") return { status: 404, body: "" };
        posts.push({ p });
        if (posts.length === 1) await gate;
        return { status: 200, body: '{"message":"payment processed successfully"}' };
      },
    };
    const env = makeEnv(createMemoryStore(), loadConfig({ FEE_HOLD_MS: "60000" }), transport, "scout-test");
    const t = Date.now();
    // The default answered in 800 ms, failed, then a probe succeeded: it works again, at a delay nobody has
    // measured since. Its scout may take the 800 ms it took before (plus the margin) before it is overdue.
    await env.view.observe("default", { at: t - 2000, ok: true, latencyMs: 800 }, t - 2800);
    await env.view.observe("default", { at: t - 1000, ok: false });
    await env.view.observe("default", { at: t - 500, ok: true });

    const msgs = Array.from({ length: 30 }, () => message(payment(t)));
    const done = Promise.all(msgs.map((m) => forwardOne(m, env)));
    await new Promise((r) => setTimeout(r, 300));
    expect(posts.map((x) => x.p)).toEqual(["default"]);

    release();
    await done;
    expect(msgs.map((m) => m.settled)).toEqual(msgs.map(() => "ack"));
    expect(posts.filter((x) => x.p === "default")).toHaveLength(30);
  });
});
