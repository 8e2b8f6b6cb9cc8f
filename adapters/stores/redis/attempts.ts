// Attempt registry on Redis: one string per claim, `processor|owner`, that expires with the idempotency window,
// so the claims held are those of the last window, however many payments that was. Claim is SET NX PX.
import type { AttemptClaim, AttemptRegistry, ProcessorName } from "../../../handlers/contract/types";
import type { RedisConn } from "./connect";
import type { Keys } from "./keys";
import { RELEASE } from "./scripts";

export class RedisAttempts implements AttemptRegistry {
  /** PX argument, or none when claims never expire. */
  private readonly ttl: string[];

  constructor(
    private readonly conn: RedisConn,
    private readonly k: Keys,
    windowMs: number,
  ) {
    this.ttl = Number.isFinite(windowMs) ? ["PX", String(windowMs)] : [];
  }

  async get(correlationId: string): Promise<AttemptClaim | null> {
    const v = await this.conn.sendCommand<string | null>(["GET", this.k.attempt(correlationId)]);
    return v == null ? null : parse(v);
  }

  async claim(correlationId: string, processor: ProcessorName, owner: string): Promise<AttemptClaim> {
    // SET NX is the atomic claim: one plain command on every payment; only a lost race reads the winner. A claim
    // released (or expired) in between is simply tried again. Under maxmemory it is refused (OOM) before anything
    // is sent, so a full Redis never lets a payment reach a processor whose record could not follow.
    const mine = `${processor}|${owner}`;
    const key = this.k.attempt(correlationId);
    for (let tries = 0; tries < 5; tries++) {
      if ((await this.conn.sendCommand(["SET", key, mine, "NX", ...this.ttl])) === "OK") return { processor, owner };
      const v = await this.conn.sendCommand<string | null>(["GET", key]);
      if (v != null) return parse(v);
    }
    throw new Error(`attempts.claim: the claim on ${correlationId} kept changing hands; the queue will retry it`);
  }

  async release(correlationId: string, owner: string): Promise<boolean> {
    return Number(await RELEASE.run<number>(this.conn, [this.k.attempt(correlationId)], [owner])) === 1;
  }

  async purge(): Promise<void> {
    await deleteMatching(this.conn, this.k.attemptPattern);
  }
}

/** Deletes every key matching `pattern` (SCAN + UNLINK in batches: no long block of the server). */
export async function deleteMatching(conn: RedisConn, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await conn.sendCommand<[string, string[]]>([
      "SCAN",
      cursor,
      "MATCH",
      pattern,
      "COUNT",
      "1000",
    ]);
    if (keys.length) await conn.sendCommand(["UNLINK", ...keys]);
    cursor = next;
  } while (cursor !== "0");
}

function parse(v: string): AttemptClaim {
  const bar = v.indexOf("|");
  return { processor: v.slice(0, bar) as ProcessorName, owner: v.slice(bar + 1) };
}
