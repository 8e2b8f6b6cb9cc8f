// Backend settings for quick tests and soaks: the same code paths as the defaults, on a shorter clock.

/**
 * Environment for quick tests: short health window and hold wait, fast ticks. No patience (FEE_HOLD_MS 0): a
 * failing default sends payments to the fallback at once, which is what most cases exercise; the patience
 * case sets its own. A short API warm-up (100 requests instead of 3,000).
 */
export const FAST_ENV: Record<string, string> = {
  HEALTH_WINDOW_MS: "300",
  TICK_MS: "100",
  HOLD_WAIT_MS: "200",
  RETRY_BASE_MS: "20",
  RETRY_MAX_MS: "300",
  PROBE_INTERVAL_MS: "200",
  ERROR_COOLDOWN_MS: "500",
  FEE_HOLD_MS: "0",
  WARMUP_REQUESTS: "100",
};
