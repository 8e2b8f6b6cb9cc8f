// Attempt registry on one Redis hash: correlationId -> "processor|owner"; claim is HSETNX, release a script.
import type { AttemptClaim, AttemptRegistry, ProcessorName } from "../../../handlers/contract/types";
import type { RedisConn } from "./connect";
import type { Keys } from "./keys";
import { RELEASE } from "./scripts";

export class RedisAttempts implements AttemptRegistry {
  constructor(
    private readonly conn: RedisConn,
    private readonly k: Keys,
  ) {}

  async get(correlationId: string): Promise<AttemptClaim | null> {
    const v = await this.conn.sendCommand<string | null>(["HGET", this.k.attempts, correlationId]);
    return v == null ? null : parse(v);
  }

  async claim(correlationId: string, processor: ProcessorName, owner: string): Promise<AttemptClaim> {
    // HSETNX is the atomic claim: one plain command on every payment instead of a script call; only a lost
    // race reads the winner. A claim released in between is simply tried again.
    const mine = `${processor}|${owner}`;
    for (let tries = 0; tries < 5; tries++) {
      if (Number(await this.conn.sendCommand(["HSETNX", this.k.attempts, correlationId, mine])) === 1)
        return { processor, owner };
      const v = await this.conn.sendCommand<string | null>(["HGET", this.k.attempts, correlationId]);
      if (v != null) return parse(v);
    }
    throw new Error(`attempts.claim: the claim on ${correlationId} kept changing hands; the queue will retry it`);
  }

  async release(correlationId: string, owner: string): Promise<boolean> {
    return Number(await RELEASE.run<number>(this.conn, [this.k.attempts], [correlationId, owner])) === 1;
  }

  async purge(): Promise<void> {
    await this.conn.sendCommand(["DEL", this.k.attempts]);
  }
}

function parse(v: string): AttemptClaim {
  const bar = v.indexOf("|");
  return { processor: v.slice(0, bar) as ProcessorName, owner: v.slice(bar + 1) };
}
