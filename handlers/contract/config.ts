import type { ProcessorName } from "./types";

export interface RouterParams {
  fees: Record<ProcessorName, number>;
  /**
   * A processor whose latency reaches this is unsafe: it inserts the row when its delay ends, and if that is
   * later than the auditor's window end (now - 1.5 s preview, now - 2 s final) the books differ until our
   * answer arrives. Below it, the row lands and is recorded before the auditor can look.
   */
  unsafeLatencyMs: number;
  /** After an observed failure, a processor is avoided this long unless a probe succeeds. */
  errorCooldownMs: number;
  /**
   * A failing processor gets one probe payment at most this often. Probes do not wait for each other: one
   * caught in a long delay must not hide a recovery that the next probe would see.
   */
  probeIntervalMs: number;
  /**
   * A regular request still waiting this long past the latency we know means the delay just jumped: the
   * processor counts as slow at once, instead of when its oldest request reaches unsafeLatencyMs (the
   * final's 103 -> 2000 ms stage would otherwise send ~1.2 s of payments into late inserts).
   */
  overdueMarginMs: number;
  /** A health poll older than this is ignored. */
  staleHealthMs: number;
  /** An observed latency older than this is ignored. */
  staleLatencyMs: number;
  /** After a payment waited this long, a slow (not failing) processor is better than holding it longer. */
  maxHoldMs: number;
  /**
   * Patience: while the cheaper processor fails, a payment younger than this waits for it instead of paying
   * the dearer fee at once (0: never wait). Failures are usually short, and the probes say when it is back.
   */
  feeHoldMs: number;
}

export const DEFAULT_ROUTER_PARAMS: Omit<RouterParams, "fees"> = {
  unsafeLatencyMs: 1200,
  errorCooldownMs: 2000,
  // Probes into a processor failing with a long delay all land once it recovers: space them out.
  probeIntervalMs: 2000,
  overdueMarginMs: 150,
  staleHealthMs: 12_000,
  // Longer than the real poll period (1 s tick + 5.1 s lock), so an observed jump is not forgotten before
  // the next poll confirms it.
  staleLatencyMs: 7000,
  maxHoldMs: 30_000,
  // The simulator (npm run sim, seeds 1-5): preview 96.6% -> 99.9% of the ceiling with 20 s, final
  // 98.1% -> 98.3%; no contest scenario ends while the cheaper one fails, so no lag.
  feeHoldMs: 20_000,
};


export interface Config {
  processorUrls: Record<ProcessorName, string>;
  router: RouterParams;
  /** Client timeout of a payment request; well above the slowest delay the contest sets (5000 ms). */
  payTimeoutMs: number;
  lookupTimeoutMs: number;
  healthTimeoutMs: number;
  /** Health poll lock: one poll per processor per window across all instances (the processor allows 1 per 5 s). */
  healthWindowMs: number;
  /** Longest a held payment waits inside the consumer for a processor before going back to the queue. */
  holdWaitMs: number;
  retry: { baseMs: number; maxMs: number };
  /** Most payments one instance waits on the queue for at once; past it, 503 (0: no limit). */
  maxPendingAccepts: number;
  purgeToken?: string;
}

type EnvLike = Record<string, string | undefined>;

function num(env: EnvLike, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${key}=${raw} is not a non-negative number; unset it or fix it`);
  return n;
}

/** Reads configuration from environment-like bindings (process.env on Node, env on Workers). */
export function loadConfig(env: EnvLike): Config {
  const fees = { default: num(env, "FEE_DEFAULT", 0.05), fallback: num(env, "FEE_FALLBACK", 0.15) };
  return {
    processorUrls: {
      default: (env.PROCESSOR_DEFAULT_URL || "http://localhost:8001").replace(/\/+$/, ""),
      fallback: (env.PROCESSOR_FALLBACK_URL || "http://localhost:8002").replace(/\/+$/, ""),
    },
    router: {
      fees,
      unsafeLatencyMs: num(env, "UNSAFE_LATENCY_MS", DEFAULT_ROUTER_PARAMS.unsafeLatencyMs),
      errorCooldownMs: num(env, "ERROR_COOLDOWN_MS", DEFAULT_ROUTER_PARAMS.errorCooldownMs),
      probeIntervalMs: num(env, "PROBE_INTERVAL_MS", DEFAULT_ROUTER_PARAMS.probeIntervalMs),
      overdueMarginMs: num(env, "OVERDUE_MARGIN_MS", DEFAULT_ROUTER_PARAMS.overdueMarginMs),
      staleHealthMs: DEFAULT_ROUTER_PARAMS.staleHealthMs,
      staleLatencyMs: DEFAULT_ROUTER_PARAMS.staleLatencyMs,
      maxHoldMs: num(env, "MAX_HOLD_MS", DEFAULT_ROUTER_PARAMS.maxHoldMs),
      feeHoldMs: num(env, "FEE_HOLD_MS", DEFAULT_ROUTER_PARAMS.feeHoldMs),
    },
    payTimeoutMs: num(env, "PAY_TIMEOUT_MS", 8000),
    lookupTimeoutMs: num(env, "LOOKUP_TIMEOUT_MS", 3000),
    healthTimeoutMs: num(env, "HEALTH_TIMEOUT_MS", 2000),
    healthWindowMs: num(env, "HEALTH_WINDOW_MS", 5100),
    // Held payments wait here, bounded by MAX_IN_FLIGHT (the rest stay unread in the queue, at no cost);
    // sending them back to the queue every second made thousands of store round trips per second.
    holdWaitMs: num(env, "HOLD_WAIT_MS", 10_000),
    retry: { baseMs: num(env, "RETRY_BASE_MS", 50), maxMs: num(env, "RETRY_MAX_MS", 2000) },
    // A slow (not down) store would otherwise pile up waiting requests, and their memory, without bound.
    maxPendingAccepts: num(env, "MAX_PENDING_ACCEPTS", 2000),
    purgeToken: env.PURGE_TOKEN || undefined,
  };
}
