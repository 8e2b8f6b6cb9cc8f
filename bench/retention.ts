// Retention under load: payments at a steady rate through one API and one worker process on a Redis with the
// contest's maxmemory (64mb, noeviction), with the ledger retention and idempotency window given. Prints Redis
// used_memory every 10 s (it should stop growing after the first retention period), then the three checks of the
// fault suite, with random windows only inside the retention. Exits 1 on a difference or a POST not answered 2xx.
//
//   npm run build && npx tsx bench/retention.ts [--payments 250000] [--rate 600] [--retention-s 120]
import { createClient } from "redis";
import { positiveArg } from "../tools/lib/cli";
import { Backend, backendEnv, startProcessors } from "../tools/lib/faults/backend";
import { checkBooks } from "../tools/lib/faults/books";
import { Load } from "../tools/lib/faults/load";
import { sleep, Teardown } from "../tools/lib/procs";
import { startRedis } from "../tools/lib/redis-server";

const payments = positiveArg("payments", 250_000);
const rate = positiveArg("rate", 600);
const retentionMs = positiveArg("retention-s", 120) * 1000;
const t = new Teardown();
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => void t.run().finally(() => process.exit(130)));

let code = 0;
try {
  const redis = await startRedis({ useEnv: false, args: ["--maxmemory", "64mb", "--maxmemory-policy", "noeviction"] });
  t.add(() => redis.stop());
  const { def, fb } = await startProcessors(t);
  const backend = new Backend(
    backendEnv(
      redis.url,
      { default: def.url, fallback: fb.url },
      { IDEMPOTENCY_WINDOW_MS: String(retentionMs), LEDGER_RETENTION_MS: String(retentionMs) },
    ),
  );
  const api = await backend.api();
  await backend.worker();
  const info = createClient({ url: redis.url, RESP: 2 });
  info.on("error", () => {});
  await info.connect();
  t.add(() => info.close());
  const usedMb = async () => {
    const text = String(await info.sendCommand(["INFO", "memory"]));
    return Number(/used_memory:(\d+)/.exec(text)?.[1] ?? 0) / 2 ** 20;
  };
  const load = new Load([api.url]);
  t.add(() => load.close());

  const seconds = payments / rate;
  console.log(`retention: ${payments} payments at ${rate}/s (~${seconds.toFixed(0)} s), retention ${retentionMs} ms`);
  const t0 = Date.now();
  const steady = load.steady(rate, () => load.sent.size >= payments);
  const curve: string[] = [];
  while (load.sent.size < payments) {
    await sleep(10_000);
    const at = ((Date.now() - t0) / 1000).toFixed(0);
    const line = `t=${at}s sent=${load.sent.size} redis=${(await usedMb()).toFixed(1)}MB`;
    curve.push(line);
    console.log(`retention: ${line}`);
  }
  await steady;
  const loadEnd = Date.now();
  const { report, problems } = await checkBooks(
    { api: () => api.url, def, fb, load },
    { windows: 100, drainTimeoutMs: 180_000, windowsFrom: loadEnd - retentionMs + 10_000 },
  );
  const notAccepted = report.sent - report.accepted;
  if (notAccepted > 0) problems.push(`${notAccepted} POSTs not answered 2xx`);
  console.log(
    [
      `retention: POSTs ${report.sent}, accepted ${report.accepted}; at default ${report.default}, at fallback ` +
        `${report.fallback}; drained in ${report.drainMs} ms; redis after ${(await usedMb()).toFixed(1)} MB`,
      `checks (whole run + ${report.windows} random windows inside the retention): ` +
        `${problems.length === 0 ? "all equal" : `${problems.length} DIFFERENCES`}`,
      ...problems.slice(0, 20).map((p) => `  - ${p}`),
    ].join("\n"),
  );
  if (problems.length) code = 1;
} catch (err) {
  console.error(`retention: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  await t.run();
}
process.exit(code);
