// Attempt registry on one Redis hash: correlationId -> "processor|owner"; claim and release are scripts.
import type { AttemptClaim, AttemptRegistry, ProcessorName } from "../types";
import type { RedisConn } from "./connect";
import type { Keys } from "./keys";
import { CLAIM, RELEASE } from "./scripts";

export class RedisAttempts implements AttemptRegistry {
  constructor(private readonly conn: RedisConn, private readonly k: Keys) {}

  async get(correlationId: string): Promise<AttemptClaim | null> {
    const v = await this.conn.sendCommand<string | null>(["HGET", this.k.attempts, correlationId]);
    return v == null ? null : parse(v);
  }

  async claim(correlationId: string, processor: ProcessorName, owner: string): Promise<AttemptClaim> {
    const v = await CLAIM.run<string>(this.conn, [this.k.attempts], [correlationId, `${processor}|${owner}`]);
    return parse(v);
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
