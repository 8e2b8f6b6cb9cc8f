// The crash scenario, shared by test/crash.test.ts (about a minute) and bench/soak.ts (minutes): one API
// process and one worker process on one Redis, payments flowing steadily with bursts, the processors changing
// delay and failure mode, and the worker SIGKILLed at random moments and restarted each time. Kills land in
// every phase of a payment: handed to the worker but not sent, in flight at a processor, answered but not
// yet in the ledger, in the ledger but not acknowledged.
import { createClient } from "redis";
import { GROUP, keysFor } from "../../../adapters/stores/redis/keys";
import { rand, sleep, type Teardown } from "../procs";
import type { TestRedis } from "../redis-server";
import { Backend, backendEnv, startProcessors } from "./backend";
import { type CheckReport, checkBooks, metric } from "./books";
import { Load } from "./load";

export interface CrashOptions {
  /** How long payments flow (the kills go on until minKills even if that takes longer). */
  loadMs: number;
  /** Steady payments per second (plus bursts of `burst` every 1.5-3.5 s). */
  rate: number;
  burst?: number;
  minKills: number;
  /** Longest the kill loop may run past loadMs to reach minKills. */
  graceMs?: number;
  drainTimeoutMs?: number;
  windows?: number;
  /** Progress lines (soak). */
  progress?: (line: string) => void;
}

export interface CrashResult {
  kills: number;
  loadSeconds: number;
  report: CheckReport;
  problems: string[];
  outcomes: Record<string, number>;
  /**
   * Requests the processors were working on at the kills (how many kills saw any, and their sum), and the
   * messages each dead worker held unacknowledged (handed out, in flight, or answered but not yet settled).
   */
  atKills: { inFlight: number; withInFlight: number; pending: number; withPending: number };
  /** 422s to resends and GET /payments/{id} lookups at the processors: landed-but-unacked payments learnt again. */
  duplicates: number;
  lookups: number;
  lastWorkerRecovered: number;
}

export async function runCrash(redis: TestRedis, t: Teardown, o: CrashOptions): Promise<CrashResult> {
  const t0 = Date.now();
  const { def, fb } = await startProcessors(t);
  const backend = new Backend(backendEnv(redis.url, { default: def.url, fallback: fb.url }));
  const api = await backend.api();
  let worker = await backend.worker();
  // To read what a dead worker held: its consumer in the group is named <host>-<pid>-<random>.
  const inspector = createClient({ url: redis.url, RESP: 2 });
  inspector.on("error", () => {});
  await inspector.connect();
  t.add(() => inspector.close());
  const stream = keysFor(backend.env.REDIS_PREFIX!).stream;
  const heldBy = async (pid: number) => {
    const rows = (await inspector.sendCommand(["XINFO", "CONSUMERS", stream, GROUP])) as unknown[][];
    let n = 0;
    for (const r of rows) {
      const f = Object.fromEntries(Array.from({ length: r.length / 2 }, (_, i) => [String(r[2 * i]), r[2 * i + 1]]));
      if (String(f.name).includes(`-${pid}-`)) n += Number(f.pending);
    }
    return n;
  };
  const load = new Load([api.url]);
  t.add(() => load.close());

  let stop = false;
  const steady = load.steady(o.rate, () => stop);

  // Bursts: every fourth kill lands right after one, while most of it is handed out but not sent.
  let burstDone: () => void = () => {};
  let nextBurst = new Promise<void>((r) => {
    burstDone = r;
  });
  const bursts = (async () => {
    while (!stop) {
      await sleep(rand(1500, 3500));
      if (stop) break;
      await load.burst(o.burst ?? 200);
      const done = burstDone;
      nextBurst = new Promise<void>((r) => {
        burstDone = r;
      });
      done();
    }
    burstDone();
  })();

  // Processor weather: delays widen the in-flight window, failures send payments to the other one or hold them.
  // Delays stay under the router's unsafe latency and the client timeout: this test is about crashes.
  const chaos = (async () => {
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    while (!stop) {
      def.setDelay(pick([0, 0, 50, 150, 400, 800]));
      def.setFailure(Math.random() < 0.2);
      fb.setDelay(pick([0, 0, 30, 200]));
      fb.setFailure(Math.random() < 0.15);
      await sleep(rand(1000, 2500));
    }
    def.setDelay(0);
    def.setFailure(false);
    fb.setDelay(0);
    fb.setFailure(false);
  })();

  const atKills = { inFlight: 0, withInFlight: 0, pending: 0, withPending: 0 };
  const pendingReads: Promise<void>[] = [];
  let kills = 0;
  const hardStop = t0 + o.loadMs + (o.graceMs ?? 60_000);
  try {
    while ((Date.now() - t0 < o.loadMs || kills < o.minKills) && Date.now() < hardStop) {
      if (kills % 4 === 3) {
        await nextBurst;
        await sleep(rand(0, 30));
      } else {
        await sleep(rand(100, 600));
      }
      const inFlight = def.stats().active + fb.stats().active;
      await worker.kill("SIGKILL");
      kills++;
      atKills.inFlight += inFlight;
      if (inFlight > 0) atKills.withInFlight++;
      // Read before the next worker reclaims them (after REDIS_CLAIM_IDLE_MS).
      pendingReads.push(
        heldBy(worker.pid).then(
          (n) => {
            atKills.pending += n;
            if (n > 0) atKills.withPending++;
          },
          () => {},
        ),
      );
      if (o.progress && kills % 10 === 0) {
        o.progress(
          `${((Date.now() - t0) / 1000).toFixed(0)} s: ${kills} kills, ${load.sent.size} POSTs, ` +
            `${load.accepted().length} accepted`,
        );
      }
      worker = await backend.worker();
    }
  } finally {
    stop = true;
    await Promise.all([steady, bursts, chaos]);
    await load.settle();
    await Promise.all(pendingReads);
  }
  const loadSeconds = (Date.now() - t0) / 1000;

  const { report, problems } = await checkBooks(
    { api: () => api.url, def, fb, load },
    { windows: o.windows ?? 20, drainTimeoutMs: o.drainTimeoutMs ?? 90_000 },
  );
  const tail = await fetch(`${worker.url}/metrics`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.text(),
    () => "",
  );
  const d = def.stats(),
    f = fb.stats();
  return {
    kills,
    loadSeconds,
    report,
    problems,
    outcomes: load.outcomes(),
    atKills,
    duplicates: d.payments.duplicate + f.payments.duplicate,
    lookups: d.lookups + f.lookups,
    lastWorkerRecovered: metric(tail, "recovered_duplicates_total"),
  };
}
