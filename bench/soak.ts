// Soak: the crash test's scenario (tools/lib/faults/crash-run.ts) for minutes instead of a minute. One API process
// and one worker process (`node dist/node.js`, run `npm run build` first) on a throwaway Redis, two processor
// emulators, steady payments with bursts, processors changing delay and failure mode, and the worker
// SIGKILLed at random moments and restarted each time. At the end, the three checks; exits 1 on a difference.
//
//   npx tsx bench/soak.ts [--minutes 5] [--rate 150]
//
// With --stack: steady payments through the real, limited stack instead, with its memory curve (soak-stack.ts).

import { positiveArg } from "../tools/lib/cli";
import { runCrash } from "../tools/lib/faults/crash-run";
import { Teardown } from "../tools/lib/procs";
import { startRedis } from "../tools/lib/redis-server";

if (process.argv.includes("--stack")) {
  await import("./soak-stack");
}
const minutes = positiveArg("minutes", 5);
const rate = positiveArg("rate", 150);
const t = new Teardown();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    void t.run().finally(() => process.exit(130));
  });
}

const t0 = Date.now();
let code = 0;
try {
  const redis = await startRedis({ useEnv: false });
  t.add(() => redis.stop());
  console.log(`soak: ${minutes} min at ${rate} payments/s, worker SIGKILLed every 0.1-0.6 s after it is up`);
  const r = await runCrash(redis, t, {
    loadMs: minutes * 60_000,
    rate,
    minKills: 1,
    windows: 200,
    drainTimeoutMs: 180_000,
    progress: (line) => console.log(`soak: ${line}`),
  });
  console.log(
    [
      `soak: ${r.kills} worker kills in ${r.loadSeconds.toFixed(0)} s ` +
        `(${((r.kills / r.loadSeconds) * 60).toFixed(0)}/min)`,
      `POSTs ${r.report.sent}: ${JSON.stringify(r.outcomes)}; at default ${r.report.default}, at fallback ` +
        `${r.report.fallback}; landed but not accepted ${r.report.landedNotAccepted}`,
      `at the kills: ${r.atKills.withInFlight} with requests in flight at a processor (${r.atKills.inFlight} ` +
        `requests), ${r.atKills.withPending} left messages pending (${r.atKills.pending})`,
      `landed-but-unacked payments learnt again: ${r.duplicates} 422s to resends, ${r.lookups} lookups; drained in ` +
        `${r.report.drainMs} ms`,
      `checks (${r.report.windows} random windows + whole run): ` +
        `${r.problems.length === 0 ? "all equal" : `${r.problems.length} DIFFERENCES`}`,
      ...r.problems.slice(0, 20).map((p) => `  - ${p}`),
      `total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    ].join("\n"),
  );
  if (r.problems.length) code = 1;
} catch (err) {
  console.error(`soak: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  await t.run();
}
process.exit(code);
