// Shared processor health: one hash per processor, observations merged on the server, lock = SET NX PX.
import {
  emptyHealth,
  type HealthState,
  type HealthStore,
  type Observation,
  type PollResult,
  PROCESSORS,
  type ProcessorHealth,
  type ProcessorName,
} from "../../../handlers/contract/types";
import type { RedisConn } from "./connect";
import type { Keys } from "./keys";
import { OBSERVE } from "./scripts";

export class RedisHealth implements HealthStore {
  constructor(
    private readonly conn: RedisConn,
    private readonly k: Keys,
  ) {}

  async read(): Promise<HealthState> {
    const [d, f] = await Promise.all(
      PROCESSORS.map((p) => this.conn.sendCommand<string[]>(["HGETALL", this.k.health(p)])),
    );
    return { default: parse(d ?? []), fallback: parse(f ?? []) };
  }

  /** Plain HSET: polls are serialised by the lock, so last writer wins is the right rule. */
  async writePoll(p: ProcessorName, poll: PollResult): Promise<void> {
    await this.conn.sendCommand([
      "HSET",
      this.k.health(p),
      "failing",
      poll.failing ? "1" : "0",
      "minResponseTime",
      String(poll.minResponseTime),
      "polledAt",
      String(poll.at),
    ]);
  }

  async observe(p: ProcessorName, o: Observation): Promise<void> {
    await OBSERVE.run(this.conn, [this.k.health(p)], [o.ok ? "1" : "0", o.at, o.latencyMs ?? ""]);
  }

  async tryLock(p: ProcessorName, ttlMs: number, owner: string): Promise<boolean> {
    const ms = Math.max(1, Math.ceil(ttlMs));
    return (
      (await this.conn.sendCommand<string | null>(["SET", this.k.healthLock(p), owner, "NX", "PX", String(ms)])) ===
      "OK"
    );
  }

  /** Wipes the state; the locks stay, because they guard the processors' 1-per-5-s limit, which purge doesn't reset. */
  async purge(): Promise<void> {
    await this.conn.sendCommand(["DEL", ...PROCESSORS.map((p) => this.k.health(p))]);
  }
}

function parse(flat: readonly string[]): ProcessorHealth {
  const h = emptyHealth();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const key = flat[i]!,
      v = flat[i + 1]!;
    if (key === "failing") h.failing = v === "1";
    else if (key in h) (h as unknown as Record<string, number>)[key] = Number(v);
  }
  return h;
}
