import { log } from "./contract/log";
import { PROCESSORS, type ProcessorName } from "./contract/types";
import type { AppEnv } from "./env";

export interface HealthBody {
  failing: boolean;
  minResponseTime: number;
}

/** A service-health answer, or null when it is not one (429, errors, garbage). */
export function parseHealth(status: number, body: string): HealthBody | null {
  // Some processor builds answer 503 with the same body while failing; 429 is the rate limit.
  if (status !== 200 && status !== 503) return null;
  try {
    const j = JSON.parse(body) as Partial<HealthBody>;
    if (typeof j.failing !== "boolean" || typeof j.minResponseTime !== "number" || !(j.minResponseTime >= 0))
      return null;
    return { failing: j.failing, minResponseTime: j.minResponseTime };
  } catch {
    return null;
  }
}

/**
 * The `scheduled` handler: polls each processor's service-health, at most once per window across every
 * instance (the processor allows 1 call per 5 s), and shares the answer through the store.
 */
export async function tick(env: AppEnv): Promise<void> {
  await Promise.all([...PROCESSORS.map((p) => pollOne(env, p)), compact(env)]);
  await env.view.refresh(true);
}

/**
 * Most compaction calls per tick. A store folds a small slice per call (Redis: 32 entries, ~0.35 ms, so the
 * POSTs' writes run in between), so this must cover the peak rate (~600/s at a 1 s tick) with room to catch up
 * on a backlog over the next ticks.
 */
const COMPACT_ROUNDS = 500;

/** Applies the store's retention (docs/guarantees.md, "Retention"): the state stays bounded by time. */
async function compact(env: AppEnv): Promise<void> {
  const { store, metrics } = env;
  try {
    for (let round = 0; round < COMPACT_ROUNDS; round++) {
      const c = await store.compact();
      metrics.inc("ledger_entries_folded_total", undefined, c.folded);
      metrics.inc("attempt_claims_expired_total", undefined, c.expiredClaims);
      metrics.inc("ledger_records_refused_old_total", undefined, c.refusedOld);
      if (!c.more) return;
    }
  } catch (err) {
    metrics.inc("compaction_errors_total");
    log("warn", "compaction_failed", { error: (err as Error).message, hint: "retried on the next tick" });
  }
}

async function pollOne(env: AppEnv, p: ProcessorName): Promise<void> {
  const { store, config, transport, metrics } = env;
  try {
    if (!(await store.health.tryLock(p, config.healthWindowMs, env.instanceId))) return;
    const a = await transport.send(p, { method: "GET", path: "/payments/service-health" }, config.healthTimeoutMs);
    const h = "error" in a ? null : parseHealth(a.status, a.body);
    metrics.inc("health_polls_total", { processor: p, result: h ? "ok" : "error" in a ? a.error : String(a.status) });
    if (h) await store.health.writePoll(p, { ...h, at: Date.now() });
  } catch (err) {
    metrics.inc("health_polls_total", { processor: p, result: "store-error" });
    log("warn", "health_poll_failed", { processor: p, error: (err as Error).message });
  }
}
