// The health tick on Workers: the Ticker object's alarm polls each processor once per HEALTH_WINDOW_MS for the
// whole deployment; the Cron Trigger (here: its stand-in) only re-arms the alarm.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalWorker, startLocalWorker } from "../adapters/runtimes/workers/local";
import { ALARM_SLACK_MS, needsArming, nextAlarmAt } from "../adapters/stores/workers/alarm";
import { type Emulator, startEmulator } from "../tools/emulator/server";
import { bundle } from "./support/workers/build";

describe("alarm schedule", () => {
  it("the next alarm is one window and the slack away", () => {
    expect(nextAlarmAt(1_000, 5_100)).toBe(1_000 + 5_100 + ALARM_SLACK_MS);
  });

  it("the watchdog arms a missing or stuck alarm, and leaves a live one alone", () => {
    const W = 5_000;
    const now = 100_000;
    const cases: [number | null, boolean][] = [
      [null, true],
      [now + W, false], // the usual: set for the next window
      [now, false],
      [now - W, false], // late (a busy object), not yet stuck
      [now - 2 * W, false],
      [now - 2 * W - 1, true],
    ];
    for (const [at, want] of cases) expect(needsArming(at, now, W), String(at)).toBe(want);
  });
});

describe("alarm tick in Miniflare", () => {
  const WINDOW_MS = 1_000;
  let def: Emulator;
  let fb: Emulator;
  let w: LocalWorker;
  let persistDir: string | undefined;

  beforeAll(async () => {
    // The processors allow one health call per window and count what they served and refused (429).
    def = await startEmulator({ fee: 0.05, healthWindowMs: WINDOW_MS });
    fb = await startEmulator({ fee: 0.15, healthWindowMs: WINDOW_MS });
    persistDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/rinha-tick-worker-") : undefined;
    const vars = {
      PROCESSOR_DEFAULT_URL: def.url,
      PROCESSOR_FALLBACK_URL: fb.url,
      HEALTH_WINDOW_MS: String(WINDOW_MS),
      BOOKS_SHARDS: "4",
    };
    // The stand-in Cron Trigger fires once, at start, and not again within the test: every later poll is
    // the alarm's.
    w = await startLocalWorker(vars, { scriptPath: await bundle(), persistDir, tickMs: 600_000 });
  }, 60_000);

  afterAll(async () => {
    await w?.close();
    await Promise.all([def?.close(), fb?.close()]);
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  it("polls each processor every window without the Cron Trigger, never twice in one window", async () => {
    const startServed = [def.stats().health.served, fb.stats().health.served];
    await new Promise((r) => setTimeout(r, 5 * WINDOW_MS + 300));
    for (const [i, e] of [def, fb].entries()) {
      const h = e.stats().health;
      // 5 windows and the slack: 5 alarms, give or take one for scheduling on a busy machine.
      expect(h.served - startServed[i]!, `processor ${i} polls`).toBeGreaterThanOrEqual(3);
      expect(h.served - startServed[i]!, `processor ${i} polls`).toBeLessThanOrEqual(6);
      expect(h.rejected, `processor ${i} refused polls (429)`).toBe(0);
    }
  }, 30_000);

  it("extra watchdog calls while the alarm is live: still at most one poll per window", async () => {
    const worker = (await w.mf.getWorker()) as unknown as { scheduled(o: { cron?: string }): Promise<unknown> };
    await Promise.all(Array.from({ length: 5 }, () => worker.scheduled({ cron: "* * * * *" })));
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS));
    for (const e of [def, fb]) expect(e.stats().health.rejected).toBe(0);
  }, 30_000);
});
