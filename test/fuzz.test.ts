// Input fuzzing (issue 7.2): a seeded corpus of >10,000 malformed requests (test/support/fuzz/) against
// POST /payments and GET /payments-summary of the built backend (`node dist/node.js`, STORE=memory ROLE=all)
// running as a child process, with two processor emulators. Valid payments are mixed in, so over-strict
// validation fails too. Each kind of malformed input is its own test, so a failure names the kind and shows
// examples. Replay another corpus with FUZZ_SEED=<n>.
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { total } from "../tools/lib/metrics-text";
import { peakRss } from "../tools/lib/procs";
import { type Pipeline, sleep, startPipeline } from "./support/e2e/harness";
import { expectBooksEqual } from "./support/e2e/suite";
import { describeCase, type FuzzCase, JSON_TYPE } from "./support/fuzz/cases";
import { buildCorpus, GENERATORS, type Outcome, problem, send, sendAll } from "./support/fuzz/corpus";
import { type NodeProc, scrape, spawnBackend } from "./support/fuzz/procs";

const SEED = Number(process.env.FUZZ_SEED ?? 20250715);
const WARM_UP = 1500;
const MiB = 1024 * 1024;

const corpus = buildCorpus(SEED);
const malformed = corpus.filter((c) => c.expect === "reject" || c.expect === "reject-any").length;

interface Memory {
  rss: number;
  heap: number;
}

describe(`fuzz: ${corpus.length} requests (${malformed} malformed, seed ${SEED}) against dist/node.js`, () => {
  let p: Pipeline;
  let backend: NodeProc;
  let pool: Pool, isolated: Pool;
  const outcomes: Outcome[] = [];
  let warm: Memory, end: Memory;

  /** The lowest of a few scrapes after a pause: garbage not yet collected makes single samples noisy. */
  const memory = async (): Promise<Memory> => {
    await sleep(500);
    const samples: Memory[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await scrape(backend.url);
      samples.push({ rss: total(m, "process_resident_memory_bytes"), heap: total(m, "nodejs_heap_used_bytes") });
      await sleep(250);
    }
    return { rss: Math.min(...samples.map((s) => s.rss)), heap: Math.min(...samples.map((s) => s.heap)) };
  };

  beforeAll(async () => {
    p = await startPipeline(async (env) => {
      backend = await spawnBackend("backend (STORE=memory ROLE=all)", { ...env, STORE: "memory", ROLE: "all" });
      return {
        url: backend.url,
        close: async () => {
          await backend.stop();
        },
      };
    });
    pool = new Pool(backend.url, { connections: 16 });
    isolated = new Pool(backend.url, { connections: 4 });
    const t0 = Date.now();
    outcomes.push(...(await sendAll(pool, isolated, corpus.slice(0, WARM_UP))));
    warm = await memory();
    outcomes.push(...(await sendAll(pool, isolated, corpus.slice(WARM_UP))));
    end = await memory();
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `fuzz: ${corpus.length} requests in ${secs.toFixed(1)} s; backend memory after warm-up rss ` +
        `${(warm.rss / MiB).toFixed(1)} MiB heap ${(warm.heap / MiB).toFixed(1)} MiB, ` +
        `after the run rss ${(end.rss / MiB).toFixed(1)} MiB heap ${(end.heap / MiB).toFixed(1)} MiB`,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([pool?.close(), isolated?.close()]);
    await p?.close();
  }, 30_000);

  it(`sends at least 10,000 malformed requests`, () => {
    expect(malformed).toBeGreaterThanOrEqual(10_000);
    expect(outcomes).toHaveLength(corpus.length);
  });

  describe.each(GENERATORS.map((g) => [g.kind, g] as const))("%s", (_kind, g) => {
    const what = {
      reject: "4xx with a JSON {error}",
      "reject-any": "4xx",
      accept: "202",
      lenient: "202 (forwarded) or 4xx with a JSON {error}",
      summary: "200 with a summary",
      "summary-lenient": "200 with a summary or 4xx with a JSON {error}",
    }[g.expect];
    it(`every one (${g.count}) is answered ${what}${g.note ? ` (${g.note})` : ""}`, () => {
      const mine = corpus.map((c, i) => [c, outcomes[i]!] as const).filter(([c]) => c.kind === g.kind);
      expect(mine).toHaveLength(g.count);
      const bad = mine.map(([c, o]) => [c, problem(c, o)] as const).filter(([, pr]) => pr !== null);
      if (g.expect === "lenient" || g.expect === "summary-lenient") {
        const ok = mine.filter(([, o]) => o.status < 300).length;
        console.log(`fuzz: "${g.kind}": ${ok} accepted, ${mine.length - ok} rejected`);
      }
      expect(
        bad.slice(0, 5).map(([c, pr]) => `${pr} <- ${describeCase(c)}`),
        `${bad.length} of ${mine.length} answered wrongly; the first ones`,
      ).toEqual([]);
    });
  });

  it("enqueues and forwards exactly the payments it answered 202, nothing else", async () => {
    const accepted = corpus
      .map((c, i) => [c, outcomes[i]!] as const)
      .filter(([c, o]) => c.method === "POST" && c.path === "/payments" && o.status === 202);
    const unknown = accepted.filter(([c]) => !c.payment).map(([c]) => describeCase(c));
    expect(unknown, "accepted although the body holds no valid payment").toEqual([]);
    const want = new Map(accepted.map(([c]) => [c.payment!.id, c.payment!.cents]));
    expect(want.size, "accepted payments have distinct ids").toBe(accepted.length);

    const s = await p.waitForCount(accepted.length, 20_000);
    await sleep(1000); // anything wrongly queued would land by now
    const after = await p.summary();
    expect(after.default.totalRequests + after.fallback.totalRequests, "the summary counts exactly the 202s").toBe(
      accepted.length,
    );
    expect(after).toEqual(s);
    expectBooksEqual(p, after);

    const rows = [...p.def.rows(), ...p.fb.rows()];
    const got = new Map(rows.map((r) => [r.correlationId.toLowerCase(), r.amountCents]));
    expect(rows.length, "processor rows").toBe(accepted.length);
    expect(
      [...got].filter(([id, c]) => want.get(id) !== c),
      "rows that are not an accepted payment (or carry another amount)",
    ).toEqual([]);
    expect(
      p.def.stats().payments.invalid + p.fb.stats().payments.invalid,
      "bodies the processors found malformed",
    ).toBe(0);

    const m = await scrape(backend.url);
    expect(total(m, "accepted_total"), "accepted_total").toBe(accepted.length);
    expect(
      ["ready", "pending", "delayed"].map((st) => m.get(`queue_depth{state="${st}"}`)),
      "queue_depth",
    ).toEqual([0, 0, 0]);
  }, 40_000);

  it("stays up: the same process, /healthz answers 200", async () => {
    expect(backend.alive(), `backend died: ${backend.output()}`).toBe(true);
    const r = await pool.request({ method: "GET", path: "/healthz" });
    await r.body.dump();
    expect(r.statusCode).toBe(200);
  });

  // Generous: garbage not yet collected counts as used (seen: up to +20 MiB heap, +40 MiB RSS without any leak).
  // A leak of a few KB per request (about 9,600 requests after the warm-up) would still cross them.
  it("keeps its memory flat: heap < 30 MiB and RSS < 100 MiB growth from the warm-up to the end", () => {
    expect((end.heap - warm.heap) / MiB, "heap growth, MiB").toBeLessThan(30);
    expect((end.rss - warm.rss) / MiB, "RSS growth, MiB").toBeLessThan(100);
  });

  it("counts every refused POST /payments in rejected_total{reason}", async () => {
    let refused = 0;
    const statuses = new Map<number, number>();
    corpus.forEach((c, i) => {
      const st = outcomes[i]!.status;
      if (c.method !== "POST" || c.path !== "/payments" || st < 400 || st > 499) return;
      refused++;
      statuses.set(st, (statuses.get(st) ?? 0) + 1);
    });
    const m = await scrape(backend.url);
    const byReason = [...m].filter(([k]) => k.startsWith("rejected_total")).map(([k, v]) => `${k} ${v}`);
    expect(
      total(m, "rejected_total"),
      `refused by status ${JSON.stringify(Object.fromEntries(statuses))}; metrics:\n${byReason.join("\n")}`,
    ).toBe(refused);
  });

  it("treats one UUID in upper and lower case as one payment (the processor does)", async () => {
    const before = await p.summary();
    const n0 = before.default.totalRequests + before.fallback.totalRequests;
    const id = crypto.randomUUID();
    const mixed = id.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));
    for (const v of [id, id.toUpperCase(), mixed]) {
      expect(await p.post(`{"correlationId":"${v}","amount":10.00}`, JSON_TYPE), v).toBe(202);
    }
    await p.waitForCount(n0 + 1);
    await sleep(1500);
    const after = await p.summary();
    expect(after.default.totalRequests + after.fallback.totalRequests, "payments counted for one correlationId").toBe(
      n0 + 1,
    );
    expectBooksEqual(p, after);
  }, 20_000);

  // Last: it moves the process's peak memory and, if the body is buffered, its heap.
  it("refuses a 64 MiB chunked body without buffering it (peak RSS grows < 32 MiB)", async () => {
    const peak0 = peakRss(backend.pid);
    const c: FuzzCase = {
      kind: "huge chunked body",
      method: "POST",
      path: "/payments",
      headers: JSON_TYPE,
      expect: "reject",
      mayClose: true,
      body: { big: 64 * MiB, chunked: true, payment: `{"correlationId":"${crypto.randomUUID()}","amount":1}` },
    };
    const o = await send(isolated, c, 30_000);
    const peak1 = peakRss(backend.pid);
    console.log(
      `fuzz: 64 MiB chunked body answered ${o.status || o.error}; backend peak RSS ${(peak0 / MiB).toFixed(0)} -> ` +
        `${(peak1 / MiB).toFixed(0)} MiB`,
    );
    expect(problem(c, o)).toBeNull();
    expect(backend.alive()).toBe(true);
    expect((peak1 - peak0) / MiB, "peak RSS growth while refusing it, MiB").toBeLessThan(32);
  }, 40_000);
});
