// When the Ticker object's alarm runs next, and when the watchdog (the Cron Trigger) must re-arm it. Pure, so
// they are tested with tables; ticker.ts does the I/O.

/**
 * Past the window, so the next alarm finds the previous poll's lock expired: the lock is taken a few ms after
 * the alarm starts (an RPC to Books), and a lock still held would skip that window's poll.
 */
export const ALARM_SLACK_MS = 50;

/** The next alarm, set as the alarm starts (before its tick, so a tick that fails or hangs keeps the chain). */
export function nextAlarmAt(now: number, windowMs: number): number {
  return now + windowMs + ALARM_SLACK_MS;
}

/**
 * Whether the watchdog arms the alarm now: when none is set, or when the one set is overdue by more than two
 * windows (the platform retries a failing alarm with backoff; we would rather tick again at once).
 */
export function needsArming(alarmAt: number | null, now: number, windowMs: number): boolean {
  return alarmAt === null || alarmAt < now - 2 * windowMs;
}
