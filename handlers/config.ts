import type { ProcessorName } from "../adapters/types";
import { DEFAULT_ROUTER_PARAMS, type RouterParams } from "./router";

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
