import { applyObservation, emptyHealth, type HealthState, type HealthStore } from "../../../handlers/contract/types";

export function createMemoryHealth(now: () => number = Date.now): HealthStore {
  let state: HealthState = { default: emptyHealth(), fallback: emptyHealth() };
  const locks = new Map<string, number>(); // processor -> lock expiry (epoch ms)
  return {
    async read() {
      return { default: { ...state.default }, fallback: { ...state.fallback } };
    },
    async writePoll(p, poll) {
      state[p] = { ...state[p], failing: poll.failing, minResponseTime: poll.minResponseTime, polledAt: poll.at };
    },
    async observe(p, o) {
      state[p] = applyObservation(state[p], o);
    },
    async tryLock(p, ttlMs) {
      const t = now();
      if ((locks.get(p) ?? 0) > t) return false;
      locks.set(p, t + ttlMs);
      return true;
    },
    async purge() {
      // The polling locks stay: a purge does not reset the processors' 1-call-per-5-s limit.
      state = { default: emptyHealth(), fallback: emptyHealth() };
    },
  };
}
