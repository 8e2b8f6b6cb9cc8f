import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/stores/memory";
import { createHandlers, loadConfig, makeEnv } from "../handlers";
import { fetchTransport } from "../handlers/contract/transport";
import type { NodeStore } from "../handlers/contract/types";

const handlers = createHandlers();
const id = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

function env(vars: Record<string, string> = {}, store: NodeStore = createMemoryStore()) {
  const config = loadConfig(vars);
  return makeEnv(store, config, fetchTransport(config.processorUrls), "test");
}
const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request("http://x/payments", { method: "POST", body, headers });

describe("fetch handler", () => {
  it("answers 202 only once the payment is queued", async () => {
    const e = env();
    const res = await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: 19.9 })), e);
    expect(res.status).toBe(202);
    expect(res.headers.get("content-length"), "an empty body of declared length, not a chunked one").toBe("0");
    expect(await (e.store as NodeStore).queue.depth()).toEqual({ ready: 1, pending: 0, delayed: 0 });
  });

  it("answers 503, never 2xx, when the queue cannot take the payment", async () => {
    const store = createMemoryStore();
    const broken: NodeStore = {
      ...store,
      queue: { ...store.queue, send: () => Promise.reject(new Error("redis down")) },
    };
    const res = await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: 19.9 })), env({}, broken));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "payment queue unavailable; retry later" });
  });

  it("503 past MAX_PENDING_ACCEPTS payments waiting on a slow queue, 202 again once it drains", async () => {
    const store = createMemoryStore();
    const gates: (() => void)[] = [];
    const slow: NodeStore = {
      ...store,
      queue: {
        ...store.queue,
        send: (job) => new Promise<void>((r) => gates.push(r)).then(() => store.queue.send(job)),
      },
    };
    const e = env({ MAX_PENDING_ACCEPTS: "3" }, slow);
    const body = () => post(JSON.stringify({ correlationId: crypto.randomUUID(), amount: 1 }));
    const waiting = [1, 2, 3].map(() => handlers.fetch(body(), e));
    await new Promise((r) => setTimeout(r, 10));
    expect(gates).toHaveLength(3);
    const refused = await handlers.fetch(body(), e);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: "payment queue is slow (3 payments waiting on it); retry later" });
    expect(gates).toHaveLength(3); // the refused payment never reached the queue
    for (const open of gates) open();
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([202, 202, 202]);
    expect(e.accepts.pending).toBe(0);
    expect(e.metrics.get("rejected_total", { reason: "queue-slow" })).toBe(1);
    expect(await store.queue.depth()).toEqual({ ready: 3, pending: 0, delayed: 0 });
    const again = handlers.fetch(body(), e);
    await new Promise((r) => setTimeout(r, 10));
    gates.at(-1)!();
    expect((await again).status).toBe(202);
  });

  it("keeps no count of a payment the queue refused", async () => {
    const store = createMemoryStore();
    const broken: NodeStore = {
      ...store,
      queue: { ...store.queue, send: () => Promise.reject(new Error("redis down")) },
    };
    const e = env({ MAX_PENDING_ACCEPTS: "1" }, broken);
    for (let i = 0; i < 3; i++)
      expect((await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: 1 })), e)).status).toBe(503);
    expect(e.accepts.pending).toBe(0);
    expect(e.metrics.get("rejected_total", { reason: "queue-slow" })).toBe(0);
  });

  it("names the bad field in a 400", async () => {
    const res = await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: "1" })), env());
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "amount" });
  });

  it("refuses oversized bodies, counted in bytes, also when chunked", async () => {
    const e = env();
    expect((await handlers.fetch(post("x".repeat(5000)), e)).status).toBe(413);
    // 2,000 characters, 6,000 bytes
    expect(
      (await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: 1, pad: "€".repeat(2000) })), e)).status,
    ).toBe(413);
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 100; i++) c.enqueue(new TextEncoder().encode("x".repeat(1000)));
        c.close();
      },
    });
    const chunked = new Request("http://x/payments", {
      method: "POST",
      body: chunks,
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    expect((await handlers.fetch(chunked, e)).status).toBe(413);
    expect(e.metrics.get("rejected_total", { reason: "size" })).toBe(3);
  });

  it.each(["text/plain", "application/jsonp", "application/json-seq", "application/x-www-form-urlencoded", ""])(
    "refuses content-type %j with 415",
    async (type) => {
      const e = env();
      expect(
        (await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: 1 }), { "content-type": type }), e))
          .status,
      ).toBe(415);
      expect(e.metrics.get("rejected_total", { reason: "content-type" })).toBe(1);
    },
  );

  it.each(["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"])(
    "accepts content-type %j",
    async (type) => {
      expect(
        (await handlers.fetch(post(JSON.stringify({ correlationId: id, amount: 1 }), { "content-type": type }), env()))
          .status,
      ).toBe(202);
    },
  );

  it("summary answers both processors with 2-decimal amounts, also when empty", async () => {
    const e = env();
    await e.store.ledger.record({
      correlationId: id,
      processor: "fallback",
      requestedAt: Date.UTC(2025, 0, 1),
      amountCents: 1990,
    });
    const res = await handlers.fetch(new Request("http://x/payments-summary"), e);
    expect(await res.text()).toBe(
      '{"default":{"totalRequests":0,"totalAmount":0.00},"fallback":{"totalRequests":1,"totalAmount":19.90}}',
    );
  });

  it("purge is open without PURGE_TOKEN and needs it when set", async () => {
    const open = env();
    await open.store.ledger.record({ correlationId: id, processor: "default", requestedAt: 1, amountCents: 1 });
    expect((await handlers.fetch(new Request("http://x/purge-payments", { method: "POST" }), open)).status).toBe(200);
    expect((await open.store.ledger.summary()).default.totalRequests).toBe(0);

    const locked = env({ PURGE_TOKEN: "s3cret" });
    expect((await handlers.fetch(new Request("http://x/purge-payments", { method: "POST" }), locked)).status).toBe(401);
    const ok = await handlers.fetch(
      new Request("http://x/purge-payments", { method: "POST", headers: { "x-purge-token": "s3cret" } }),
      locked,
    );
    expect(ok.status).toBe(200);
  });

  it("healthz and a JSON 404", async () => {
    expect((await handlers.fetch(new Request("http://x/healthz"), env())).status).toBe(200);
    const nf = await handlers.fetch(new Request("http://x/nope"), env());
    expect(nf.status).toBe(404);
    expect(await nf.json()).toHaveProperty("error");
  });
});

describe("GET /payments/{correlationId}", () => {
  const get = (cid: string) => new Request(`http://x/payments/${encodeURIComponent(cid)}`);
  const cases: { name: string; recorded: boolean; claimed: boolean; status: number; body: Record<string, unknown> }[] =
    [
      {
        name: "recorded: processed at that processor with its requestedAt and amount",
        recorded: true,
        claimed: true,
        status: 200,
        body: { status: "processed", processor: "fallback", requestedAt: "2025-07-15T12:00:00.000Z", amount: 19.9 },
      },
      {
        name: "claimed only: in flight or in doubt there",
        recorded: false,
        claimed: true,
        status: 200,
        body: { status: "claimed", processor: "fallback" },
      },
      { name: "nothing known: 404", recorded: false, claimed: false, status: 404, body: {} },
    ];
  for (const c of cases) {
    it(c.name, async () => {
      const store = createMemoryStore();
      const e = env({}, store);
      if (c.claimed) await store.attempts.claim(id, "fallback", "job-1");
      if (c.recorded)
        await store.ledger.record({
          correlationId: id,
          processor: "fallback",
          requestedAt: Date.UTC(2025, 6, 15, 12),
          amountCents: 1990,
        });
      const res = await handlers.fetch(get(id), e);
      expect(res.status).toBe(c.status);
      const body = (await res.json()) as Record<string, unknown>;
      if (c.status === 404) expect(String(body.error)).toMatch(/queued is not visible yet/);
      else expect(body).toEqual({ correlationId: id, ...c.body });
    });
  }
});
