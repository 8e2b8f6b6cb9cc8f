import type { AttemptClaim, AttemptRegistry, ProcessorName } from "../../../handlers/contract/types";

export function createMemoryAttempts(): AttemptRegistry {
  const claims = new Map<string, AttemptClaim>();
  return {
    async get(id) {
      return claims.get(id) ?? null;
    },
    async claim(id: string, processor: ProcessorName, owner: string) {
      const held = claims.get(id);
      if (held) return held;
      const mine = { processor, owner };
      claims.set(id, mine);
      return mine;
    },
    async release(id, owner) {
      if (claims.get(id)?.owner !== owner) return false;
      claims.delete(id);
      return true;
    },
    async purge() {
      claims.clear();
    },
  };
}
