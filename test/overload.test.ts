// Overload (issue 7.3): five times the contest's peak arrival rate (the final peaks near 600 payments/s, so
// 3,000 POST/s, open loop, 10 s) against the production topology in miniature: two API processes and one worker
// (`node dist/node.js`, ROLE=api / ROLE=worker, STORE=redis on a throwaway redis-server) and two processor
// emulators, each in its own process. Every request must be answered 202 or 503 within the client's 10 s (never a
// hang, reset or crash), every 202 must be forwarded exactly once and counted, and nothing else may be paid.
// Rates, latencies and the CPU each process used are printed, not asserted. OVERLOAD_RATE / OVERLOAD_SECONDS
// override the load (e.g. to find the rate a machine sustains).
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { total } from "../tools/lib/metrics-text";
import { cpuSeconds } from "../tools/lib/procs";
import { startRedis, type TestRedis } from "../tools/lib/redis-server";
import { sleep } from "./support/e2e/harness";
import { type LoadResult, openLoop, quantile, type Sent } from "./support/fuzz/load";
import { type EmulatorChild, type NodeProc, scrape, spawnBackend, spawnEmulator } from "./support/fuzz/procs";

const RATE = Number(process.env.OVERLOAD_RATE ?? 3000);
const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 10);
const CLIENT_TIMEOUT_MS = 10_000;

/** "202", "503", "202 late" (after the client's timeout), "abandoned" (no answer), "error". */
const outcome = (x: Sent) =>
  x.error ? (x.error === "abandoned" ? "abandoned" : "error") : `${x.status}${x.late ? " late" : ""}`;

interface Summary {
  default: { totalRequests: number; totalAmount: number };
  fallback: { totalRequests: number; totalAmount: number };
}

describe(`overload: ${RATE} POST/s for ${SECONDS} s, open loop, against api + api + worker on Redis`, () => {
  let redis: TestRedis;
  let def: EmulatorChild, fb: EmulatorChild;
  let api: NodeProc[] = [];
  let worker: NodeProc;
  let load: LoadResult;

  const summary = async (url: string): Promise<Summary> => {
    const r = await request(`${url}/payments-summary`);
    if (r.statusCode !== 200) throw new Error(`summary answered ${r.statusCode}: ${await r.body.text()}`);
    return (await r.body.json()) as Summary;
  };
  const counted = (s: Summary) => s.default.totalRequests + s.fallback.totalRequests;

  beforeAll(async () => {
    redis = await startRedis({ useEnv: false }); // our own: a shared Redis would share the load
    [def, fb] = await Promise.all([spawnEmulator("emulator default", 0.05), spawnEmulator("emulator fallback", 0.15)]);
    const env = {
      STORE: "redis",
      REDIS_URL: redis.url,
      REDIS_PREFIX: "overload:",
      PROCESSOR_DEFAULT_URL: def.url,
      PROCESSOR_FALLBACK_URL: fb.url,
    };
    worker = await spawnBackend("worker", { ...env, ROLE: "worker" });
    api = await Promise.all([
      spawnBackend("api1", { ...env, ROLE: "api" }),
      spawnBackend("api2", { ...env, ROLE: "api" }),
    ]);

    const procs = [...api, worker, def, fb];
    const cpu0 = procs.map((c) => cpuSeconds(c.pid)),
      self0 = process.cpuUsage();
    load = await openLoop({
      urls: api.map((a) => a.url),
      rate: RATE,
      seconds: SECONDS,
      timeoutMs: CLIENT_TIMEOUT_MS,
      connections: 64,
      cents: (i) => 1 + ((i * 7919) % 99_999), // varied amounts, so that the books compare money and not just counts
    });

    const self = process.cpuUsage(self0);
    const cpu = procs.map((c, i) => `${c.name} ${(cpuSeconds(c.pid) - cpu0[i]!).toFixed(1)}`).join(", ");
    const s = load.sent;
    const answered = s.filter((x) => x.status > 0);
    const lat = answered.map((x) => x.latencyMs);
    const by = new Map<string, number>();
    for (const x of s) by.set(outcome(x), (by.get(outcome(x)) ?? 0) + 1);
    console.log(
      `overload: offered ${s.length} POSTs in ${load.sendSeconds.toFixed(2)} s = ` +
        `${(s.length / load.sendSeconds).toFixed(0)}/s (target ${RATE}/s; ` +
        `generator fell behind its schedule by up to ${load.maxSendLagMs.toFixed(0)} ms); ` +
        `answered ${answered.length} in ${load.totalSeconds.toFixed(2)} s = ` +
        `${(answered.length / load.totalSeconds).toFixed(0)}/s; ` +
        `outcomes ${JSON.stringify(Object.fromEntries(by))}; 503s: ${s.filter((x) => x.status === 503).length}; ` +
        `latency from scheduled departure ms: p50 ${quantile(lat, 0.5).toFixed(1)} p90 ` +
        `${quantile(lat, 0.9).toFixed(1)} ` +
        `p99 ${quantile(lat, 0.99).toFixed(1)} max ${quantile(lat, 1).toFixed(1)}; ` +
        `CPU seconds used meanwhile: ${cpu}, load generator (this process) ` +
        `${((self.user + self.system) / 1e6).toFixed(1)}`,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(api.map((a) => a.stop()));
    await worker?.stop();
    await Promise.all([def?.stop(), fb?.stop()]);
    await redis?.stop();
  }, 30_000);

  it(`every request answered 202 or 503 within ${CLIENT_TIMEOUT_MS / 1000} s: no hang, reset or other status`, () => {
    const wrong = load.sent.filter((x) => x.error || x.late || (x.status !== 202 && x.status !== 503));
    const kinds = new Map<string, number>();
    for (const x of wrong) kinds.set(outcome(x), (kinds.get(outcome(x)) ?? 0) + 1);
    const example = wrong.find((x) => x.error && x.error !== "abandoned")?.error;
    expect(
      Object.fromEntries(kinds),
      `${wrong.length} of ${load.sent.length} requests${example ? `; e.g. ${example}` : ""}`,
    ).toEqual({});
  });

  it("keeps every process up", async () => {
    for (const c of [...api, worker, def, fb]) {
      expect(c.alive(), `${c.name} died; its output:\n${c.output()}`).toBe(true);
      const r = await request(`${c.url}${c === def || c === fb ? "/admin/payments-summary" : "/healthz"}`, {
        headers: { "x-rinha-token": "123" },
      });
      await r.body.dump();
      expect(r.statusCode, c.name).toBe(200);
    }
  });

  // Every 202 counts, late or not: the server took it.
  const accepted = () => load.sent.filter((x) => x.status === 202);
  let rows: { def: Map<string, number>; fb: Map<string, number> };
  let settled: Summary;

  it("forwards every 202 exactly once and its books equal the processors' (the three consistency checks)", async () => {
    const ok = accepted();
    // Wait until the count reaches the 202s and then stops moving (payments nobody was told about may follow).
    const t0 = Date.now();
    let s = await summary(api[0]!.url),
      last = -1,
      stableSince = Date.now();
    while (Date.now() - t0 < 30_000 && (counted(s) < ok.length || Date.now() - stableSince < 1000)) {
      await sleep(250);
      s = await summary(api[0]!.url);
      if (counted(s) !== last) {
        last = counted(s);
        stableSince = Date.now();
      }
    }
    settled = s = await summary(api[1]!.url);
    const m = await scrape(worker.url);
    console.log(
      `overload: the backend counted ${counted(s)} payments for ${ok.length} POSTs answered 202, ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s after the load ` +
        `(default ${s.default.totalRequests}, fallback ${s.fallback.totalRequests}); worker forwarded_total ` +
        `${total(m, "forwarded_total")}, ` +
        `retries ${total(m, "forward_retries_total")}, in-doubt ${total(m, "in_doubt_total")}`,
    );
    const [atDef, atFb] = await Promise.all([def.rows(), fb.rows()]);
    rows = {
      def: new Map(atDef.map((r) => [r.correlationId, r.amountCents])),
      fb: new Map(atFb.map((r) => [r.correlationId, r.amountCents])),
    };
    const { def: d, fb: f } = rows;

    // Check 1: each accepted correlationId at exactly one processor, with its amount.
    const notOnce = ok.filter((x) => (d.has(x.id) ? 1 : 0) + (f.has(x.id) ? 1 : 0) !== 1).map((x) => x.id);
    expect(
      notOnce.slice(0, 5),
      `${notOnce.length} of ${ok.length} accepted payments not at exactly one processor`,
    ).toEqual([]);
    const wrongAmount = ok.filter((x) => (d.get(x.id) ?? f.get(x.id)) !== x.cents).map((x) => x.id);
    expect(wrongAmount.slice(0, 5), `${wrongAmount.length} stored with another amount`).toEqual([]);
    // Check 2: the backend summary equals the processors' admin summaries, per processor, count and money.
    const [ad, af] = await Promise.all([def.adminSummary(), fb.adminSummary()]);
    expect({ default: s.default, fallback: s.fallback }).toEqual({
      default: { totalRequests: ad.totalRequests, totalAmount: ad.totalAmount },
      fallback: { totalRequests: af.totalRequests, totalAmount: af.totalAmount },
    });
    // Check 3: none at both.
    expect(
      atDef.filter((r) => f.has(r.correlationId)).map((r) => r.correlationId),
      "at both processors",
    ).toEqual([]);
  }, 60_000);

  it("pays nothing it did not answer 202 (503s, and POSTs that got no answer, stay unpaid)", () => {
    // A POST the client gave up on but the server still queued is paid while the client counts it as failed: in
    // the contest (client timeout 1.5 s) payments counted > POSTs accepted is a negative lag, which disqualifies.
    const ok = new Set(accepted().map((x) => x.id));
    const by = (f: (x: Sent) => boolean) => load.sent.filter(f).map((x) => x.id);
    const paid = (ids: string[]) => ids.filter((id) => rows.def.has(id) || rows.fb.has(id)).length;
    const extra = [...rows.def.keys(), ...rows.fb.keys()].filter((id) => !ok.has(id)).length;
    expect({
      "paid without a 202": extra,
      "of which 503s": paid(by((x) => x.status === 503)),
      "of which unanswered": paid(by((x) => x.status === 0)),
      "counted by the backend beyond the 202s": counted(settled) - ok.size,
    }).toEqual({
      "paid without a 202": 0,
      "of which 503s": 0,
      "of which unanswered": 0,
      "counted by the backend beyond the 202s": 0,
    });
  });
});
