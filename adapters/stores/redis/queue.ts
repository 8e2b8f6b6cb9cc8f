// The payment queue on a Redis Stream with one consumer group.
//
// Where a message can be, and the one atomic step (a Lua script, scripts.ts) that moves it:
//   ready (in the stream, not delivered) --XREADGROUP--> pending (stream entry + our PEL entry)
//   pending --ack: SETTLE (XACK + XDEL)--> gone
//   pending --retry: SETTLE (XACK + XDEL + ZADD delayed, or XADD at once)--> delayed / ready
//   delayed --PROMOTE (XADD + ZREM), when due--> ready
//   pending, idle >= claimIdleMs (its consumer died) --RECLAIM (XAUTOCLAIM + XACK + XDEL + XADD)--> ready
// Each step is all-or-nothing, so a crash can only happen between steps, where the message is in exactly
// one place: never lost. A move out of "pending" happens only if XACK reports the entry was still pending,
// so a zombie's late retry after a reclaim or purge does nothing: never duplicated in the queue. (A slow
// consumer can still process a message that was reclaimed from it; live consumers refresh their entries'
// idle time (heartbeat, XCLAIM JUSTID) to make that rare, and the attempt registry and the idempotent
// ledger make it harmless.) The stream holds only unacked entries: acked ones are deleted, never trimmed.
import type {
  BatchHandler,
  ConsumeOptions,
  Consumer,
  PollableQueue,
  QueueDepth,
} from "../../../handlers/contract/types";
import type { RedisConn } from "./connect";
import { StreamConsumer } from "./consumer";
import type { FlushClock } from "./flush-clock";
import { GROUP, type Keys } from "./keys";
import { Promoter } from "./promoter";
import { DEPTH, WIPE } from "./scripts";
import { Settler } from "./settle";

export interface RedisQueueOptions {
  conn: RedisConn;
  url: string;
  k: Keys;
  consumerName: string;
  claimIdleMs: number;
  promoteEveryMs: number;
  clock: FlushClock;
  queueName?: string;
}

export class RedisQueue<Body> implements PollableQueue<Body> {
  private readonly settler: Settler;
  private readonly promoter: Promoter;
  private consumers = 0;
  private readonly live = new Set<StreamConsumer<Body>>();

  constructor(private readonly o: RedisQueueOptions) {
    this.settler = new Settler(o.conn, o.k, o.clock);
    this.promoter = new Promoter(o.conn, o.k, o.promoteEveryMs, o.clock.entriesPerCall);
  }

  /** One XADD on the shared connection; resolves once Redis stored it. */
  async send(body: Body): Promise<void> {
    await this.o.conn.sendCommand(["XADD", this.o.k.stream, "*", "b", JSON.stringify(body)]);
  }

  consume(handler: BatchHandler<Body>, options: ConsumeOptions): Consumer {
    const n = this.consumers++;
    const name = n === 0 ? this.o.consumerName : `${this.o.consumerName}-${n}`;
    const c: StreamConsumer<Body> = new StreamConsumer<Body>(
      {
        conn: this.o.conn,
        url: this.o.url,
        k: this.o.k,
        queueName: this.o.queueName ?? "payments",
        claimIdleMs: this.o.claimIdleMs,
        settler: this.settler,
        batchMs: this.o.clock.batchMs,
        promoter: this.promoter,
        ensureGroup: () => this.ensureGroup(),
        onStopped: () => this.live.delete(c),
      },
      name,
      handler,
      options,
    );
    this.live.add(c);
    return c;
  }

  /** Stops every consumer still running (store.close()). */
  async stopAll(timeoutMs: number): Promise<void> {
    await Promise.all([...this.live].map((c) => c.stop(timeoutMs)));
  }

  async depth(): Promise<QueueDepth> {
    const [ready, pending, delayed] = (
      await DEPTH.run<number[]>(this.o.conn, [this.o.k.stream, this.o.k.delayed], [GROUP])
    ).map(Number);
    return { ready: ready ?? 0, pending: pending ?? 0, delayed: delayed ?? 0 };
  }

  async clear(): Promise<void> {
    await WIPE.run(this.o.conn, [this.o.k.stream, this.o.k.delayed, this.o.k.dead], [GROUP]);
  }

  /** Creates the group (from the stream's start, so entries sent before any consumer existed are kept). */
  async ensureGroup(): Promise<void> {
    try {
      await this.o.conn.sendCommand(["XGROUP", "CREATE", this.o.k.stream, GROUP, "0", "MKSTREAM"]);
    } catch (err) {
      if (!String(err).includes("BUSYGROUP")) throw err;
    }
  }
}
