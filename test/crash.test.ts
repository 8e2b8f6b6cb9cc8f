// Crash safety (issue 3.4): an API process and a separate worker process on one Redis, payments flowing,
// the worker SIGKILLed at random moments (at least 20 times) and restarted each time, while the processors
// change delay and failure mode so the kills land in every phase of a payment. Then the three checks
// (tools/lib/faults/books.ts). The scenario is tools/lib/faults/crash-run.ts; bench/soak.ts runs it for minutes.
import { afterAll, describe, expect, it } from "vitest";
import { runCrash } from "../tools/lib/faults/crash-run";
import { Teardown } from "../tools/lib/procs";
import { startRedis } from "../tools/lib/redis-server";

const LOAD_MS = 40_000;
const RATE = 150;
const MIN_KILLS = 20;

describe("crash safety: the worker SIGKILLed at random moments while payments flow", () => {
  const t = new Teardown();
  afterAll(() => t.run());

  it(`every accepted payment forwarded exactly once, books equal, after ${MIN_KILLS}+ worker kills`, async () => {
    const t0 = Date.now();
    const redis = await startRedis();
    t.add(() => redis.stop());
    const r = await runCrash(redis, t, { loadMs: LOAD_MS, rate: RATE, minKills: MIN_KILLS });
    console.log(
      `crash: ${r.kills} worker kills in ${r.loadSeconds.toFixed(1)} s; POSTs ${r.report.sent} ` +
        `${JSON.stringify(r.outcomes)}; ` +
        `at default ${r.report.default}, fallback ${r.report.fallback}; drained in ${r.report.drainMs} ms; ` +
        `at the kills ${JSON.stringify(r.atKills)}; processors answered 422 to ${r.duplicates} resends and ` +
        `${r.lookups} lookups; ` +
        `total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    expect(r.problems, "the three checks (exactly once, books equal, never at both)").toEqual([]);
    expect(r.kills).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(r.report.accepted, "payments accepted").toBeGreaterThan((LOAD_MS / 1000) * RATE * 0.5);
    expect(r.report.accepted, "every POST to the live API is accepted").toBe(r.report.sent);
    // Where the kills landed: while a processor worked on one of the worker's requests, with messages handed
    // out and not acknowledged, and after a processor stored a payment but before its ack (it was learnt
    // again from the processor: a 422 to a resend, or a lookup).
    expect(
      r.atKills.withInFlight,
      "kills while a processor was working on one of the worker's requests",
    ).toBeGreaterThan(0);
    expect(r.atKills.withPending, "kills that left messages pending").toBeGreaterThan(0);
    expect(r.duplicates + r.lookups, "landed-but-unacknowledged payments learnt again").toBeGreaterThan(0);
    expect(r.report.default, "payments at default").toBeGreaterThan(0);
    expect(r.report.fallback, "payments at fallback").toBeGreaterThan(0);
  }, 240_000);
});
