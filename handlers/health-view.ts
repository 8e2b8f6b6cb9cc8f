import {
  applyObservation,
  emptyHealth,
  type HealthState,
  type HealthStore,
  type Observation,
  PROCESSORS,
  type ProcessorHealth,
  type ProcessorName,
} from "./contract/types";
import type { ProcessorSignals } from "./policy";

/**
 * Shared state wins for polls (the tick writes them there); for observations the side whose latest event is
 * newer wins, because our own may not have reached the store yet.
 */
export function mergeHealth(mine: ProcessorHealth, shared: ProcessorHealth): ProcessorHealth {
  const latest = (h: ProcessorHealth) => Math.max(h.lastOkAt, h.lastErrorAt);
  const obs = latest(mine) > latest(shared) ? mine : shared;
  return {
    failing: shared.failing,
    minResponseTime: shared.minResponseTime,
    polledAt: shared.polledAt,
    lastOkAt: Math.max(mine.lastOkAt, shared.lastOkAt),
    lastErrorAt: Math.max(mine.lastErrorAt, shared.lastErrorAt),
    errorStreak: obs.errorStreak,
    lastLatencyMs: obs.lastLatencyMs,
  };
}

interface Local {
  /**
   * token -> send time, oldest first, of regular requests whose wait still says something about the current
   * latency: once a request sent later has succeeded, older ones still waiting are no longer evidence and
   * leave this map. Probes never enter it: they go to processors we think are failing, and their wait
   * reflects the delay the processor had then.
   */
  inFlight: Map<number, number>;
  /** Every request of ours still waiting on it, probes included: what the processor has to serve. */
  waiting: number;
  lastProbeAt: number;
  lastScoutAt: number;
  /** When the success that ended the last error streak seen here came back. */
  recoveredAt: number;
  lastOkWrite: number;
  /** Send time of the request whose latency we last learned: an answer describes the processor as it was then. */
  latencySentAt: number;
}

/**
 * One process's view of processor health: the shared state (refreshed from the store at most every
 * refreshMs) merged with what this process saw a moment ago, plus what only this process knows (requests
 * in flight, probes). Routing reads it synchronously, so no store round trip sits on the forwarding path.
 */
export class HealthView {
  private state: HealthState = { default: emptyHealth(), fallback: emptyHealth() };
  private local: Record<ProcessorName, Local>;
  private refreshedAt = 0;
  private refreshing: Promise<void> | null = null;
  private waiters: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;

  constructor(
    private store: HealthStore,
    private opts: { refreshMs: number; okWriteMs: number; now?: () => number } = { refreshMs: 200, okWriteMs: 250 },
  ) {
    const mk = (): Local => ({
      inFlight: new Map(),
      waiting: 0,
      lastProbeAt: 0,
      lastScoutAt: 0,
      recoveredAt: 0,
      lastOkWrite: 0,
      latencySentAt: 0,
    });
    this.local = { default: mk(), fallback: mk() };
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  /** Pulls the shared state when ours is older than refreshMs. Cheap to call often. */
  async refresh(force = false): Promise<void> {
    if (!force && this.now() - this.refreshedAt < this.opts.refreshMs) return;
    this.refreshing ??= this.store
      .read()
      .then((s) => {
        for (const p of PROCESSORS) this.state[p] = mergeHealth(this.state[p], s[p]);
        this.refreshedAt = this.now();
      })
      .catch(() => {
        /* store unreachable: keep routing on what we know */
      })
      .finally(() => {
        this.refreshing = null;
        this.wake();
      });
    return this.refreshing;
  }

  signals(): Record<ProcessorName, ProcessorSignals> {
    const now = this.now();
    const s = (p: ProcessorName): ProcessorSignals => {
      const l = this.local[p];
      const oldest = l.inFlight.values().next();
      return {
        health: this.state[p],
        oldestInFlightMs: oldest.done ? 0 : now - oldest.value,
        inFlight: l.waiting,
        lastProbeAt: l.lastProbeAt,
        latencySentAt: l.latencySentAt,
        lastScoutAt: l.lastScoutAt,
        recoveredAt: l.recoveredAt,
      };
    };
    return { default: s("default"), fallback: s("fallback") };
  }

  /**
   * Reserves the probe slot of `p`. Call it in the same synchronous step as the routing decision: held
   * payments wake together, and each would otherwise see the probe as due and become a probe.
   */
  markProbe(p: ProcessorName) {
    this.local[p].lastProbeAt = this.now();
  }

  /** Reserves the scout slot of `p` (route(), "scout after a change"), in the decision's synchronous step. */
  markScout(p: ProcessorName) {
    this.local[p].lastScoutAt = this.now();
  }

  /** Marks a request to `p` as started; returns the token for end(). */
  begin(p: ProcessorName, probe: boolean): number {
    const token = ++this.seq;
    this.local[p].waiting++;
    if (!probe) this.local[p].inFlight.set(token, this.now());
    return token;
  }

  /** Marks the request done; `ok` when the processor answered it normally (stored or duplicate). */
  end(p: ProcessorName, token: number, ok = false) {
    const l = this.local[p];
    l.waiting--;
    const sentAt = l.inFlight.get(token);
    l.inFlight.delete(token);
    if (ok && sentAt !== undefined) {
      for (const [t, start] of l.inFlight) {
        if (start > sentAt) break;
        l.inFlight.delete(t);
      }
    }
  }

  /**
   * Applies an observation here at once and shares it (successes at most every okWriteMs per processor).
   * `sentAt` is when the observed request went out: a latency is kept only if no request sent later has
   * already told us one (a slow answer arriving after a quick one describes the past).
   */
  observe(p: ProcessorName, o: Observation, sentAt = o.at): Promise<void> {
    const l = this.local[p];
    if (o.ok && o.latencyMs !== undefined) {
      if (sentAt < l.latencySentAt) o = { at: o.at, ok: true };
      else l.latencySentAt = sentAt;
    }
    const before = this.state[p];
    this.state[p] = applyObservation(before, o);
    const recovered = o.ok && before.errorStreak > 0;
    if (recovered) l.recoveredAt = Math.max(l.recoveredAt, o.at);
    const worthSharing = !o.ok || recovered || o.at - l.lastOkWrite >= this.opts.okWriteMs;
    // Held payments wait for a processor to come back; waking them on every success would be pure churn.
    if (recovered) this.wake();
    if (!worthSharing) return Promise.resolve();
    if (o.ok) l.lastOkWrite = o.at;
    return this.store.observe(p, o).catch(() => {});
  }

  /** Resolves on the next change (observation, refresh) or after refreshMs, whichever is first. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.timer ??= setTimeout(() => {
        this.timer = null;
        void this.refresh(true);
      }, this.opts.refreshMs);
    });
  }

  private wake() {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const r of w) r();
  }

  snapshot(): HealthState {
    return { default: { ...this.state.default }, fallback: { ...this.state.fallback } };
  }
}
