import type { AttemptClaim, AttemptRegistry, ProcessorName } from "../../../handlers/contract/types";

export interface MemoryAttempts extends AttemptRegistry {
  /** Drops the claims whose window ended; resolves how many. */
  expire(): number;
}

/** Claims expire `windowMs` after they are taken (checked on every read, and dropped by expire). */
export function createMemoryAttempts(windowMs = Infinity, now = Date.now): MemoryAttempts {
  const claims = new Map<string, AttemptClaim & { until: number }>();
  const live = (id: string) => {
    const c = claims.get(id);
    if (c && c.until <= now()) {
      claims.delete(id);
      return undefined;
    }
    return c;
  };
  return {
    async get(id) {
      const c = live(id);
      return c ? { processor: c.processor, owner: c.owner } : null;
    },
    async claim(id: string, processor: ProcessorName, owner: string) {
      const held = live(id);
      if (held) return { processor: held.processor, owner: held.owner };
      claims.set(id, { processor, owner, until: now() + windowMs });
      return { processor, owner };
    },
    async release(id, owner) {
      if (live(id)?.owner !== owner) return false;
      claims.delete(id);
      return true;
    },
    async purge() {
      claims.clear();
    },
    expire() {
      const t = now();
      let n = 0;
      // A Map iterates in insertion order, which is claim order: the expired ones are a prefix.
      for (const [id, c] of claims) {
        if (c.until > t) break;
        claims.delete(id);
        n++;
      }
      return n;
    },
  };
}
