// One consumer of the stream's group: blocking reads on its own connection, flow control by maxInFlight,
// a heartbeat that keeps its live messages from being reclaimed, and the reclaimer for dead consumers' ones.

import { log } from "../../../handlers/contract/log";
import {
  type BatchHandler,
  type ConsumeOptions,
  type Consumer,
  messageBatch,
  type QueueMessage,
  type RetryOptions,
} from "../../../handlers/contract/types";
import { IDS_PER_CLAIM, inSequence } from "./chunks";
import { connect, type OwnedConn, type RedisConn } from "./connect";
import { parseRead, type StreamEntry } from "./entries";
import { GROUP, type Keys } from "./keys";
import type { Promoter } from "./promoter";
import { FORGET_CONSUMER, RECLAIM } from "./scripts";
import type { SettleKind, Settler } from "./settle";

export interface ConsumerContext {
  conn: RedisConn;
  url: string;
  k: Keys;
  queueName: string;
  claimIdleMs: number;
  settler: Settler;
  /** Pause after a read that did not fill its batch, so the next one carries several payments. */
  batchMs: number;
  promoter: Promoter;
  ensureGroup(): Promise<void>;
  onStopped(): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class StreamConsumer<Body> implements Consumer {
  /** Handed out and not yet confirmed settled by Redis: what maxInFlight counts and the heartbeat touches. */
  private readonly inflight = new Map<string, StreamEntry>();
  /** Handed out and not yet acked/retried by the handler (first call wins). */
  private readonly open = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private waiters: Array<() => void> = [];
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private blocking: OwnedConn | undefined;
  private blockingId: string | undefined;
  private readonly loop: Promise<void>;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private reclaimCursor = "0-0";

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly name: string,
    private readonly handler: BatchHandler<Body>,
    private readonly opts: ConsumeOptions,
  ) {
    if (!(opts.batchSize >= 1 && opts.maxInFlight >= 1)) {
      throw new Error(`consume: batchSize and maxInFlight must be >= 1 (got ${opts.batchSize}, ${opts.maxInFlight})`);
    }
    ctx.promoter.acquire();
    const every = (ms: number, f: () => Promise<void>) => {
      let busy = false;
      this.timers.push(
        setInterval(
          () => {
            if (busy) return;
            busy = true;
            f()
              .catch((err) => log("warn", "redis_consumer_timer_failed", { consumer: name, error: String(err) }))
              .finally(() => {
                busy = false;
              });
          },
          Math.max(20, ms),
        ),
      );
    };
    every(ctx.claimIdleMs / 3, () => this.heartbeat());
    every(ctx.claimIdleMs / 2, () => this.reclaim());
    this.loop = this.run();
  }

  stop(timeoutMs = 10_000): Promise<void> {
    this.stopped ??= this.shutdown(timeoutMs);
    return this.stopped;
  }

  // -------------------------------------------------------------------------------------------

  private async run() {
    while (!this.stopping && !this.blocking) {
      try {
        this.blocking = await connect(this.ctx.url, `consumer ${this.name}`);
        this.blockingId = String(await this.blocking.sendCommand(["CLIENT", "ID"]));
      } catch (err) {
        log("warn", "redis_consumer_connect_failed", { consumer: this.name, error: String(err), retryInMs: 1000 });
        await this.blocking?.close();
        this.blocking = undefined;
        await sleep(1000);
      }
    }
    let failures = 0;
    while (!this.stopping && this.blocking) {
      const free = this.opts.maxInFlight - this.inflight.size;
      if (free <= 0) {
        await this.changed();
        continue;
      }
      let reply: unknown;
      try {
        reply = await this.blocking.sendCommand([
          "XREADGROUP",
          "GROUP",
          GROUP,
          this.name,
          "COUNT",
          String(Math.min(this.opts.batchSize, free)),
          "BLOCK",
          String(this.opts.pollMs ?? 1000),
          "STREAMS",
          this.ctx.k.stream,
          ">",
        ]);
        failures = 0;
      } catch (err) {
        if (String(err).includes("NOGROUP")) {
          await this.ctx.ensureGroup().catch(() => {});
        } else {
          // The client reconnects by itself; back off so a Redis outage is not a busy loop.
          failures++;
          log("warn", "redis_consumer_read_failed", { consumer: this.name, error: String(err) });
          await sleep(Math.min(1000, 50 * failures));
        }
        continue;
      }
      // Even when stopping: these are ours now, so they are handed out and stop() waits for them.
      const entries = parseRead(reply);
      if (entries.length > 0) this.dispatch(entries);
      // At a few hundred payments/s a blocking read returns with one entry; pausing lets a few gather, so the
      // worker (and Redis) pay the read, the claims and the settles once per several payments.
      if (entries.length > 0 && entries.length < this.opts.batchSize && this.ctx.batchMs > 0) {
        await sleep(this.ctx.batchMs);
      }
    }
  }

  private dispatch(entries: StreamEntry[]) {
    const messages: QueueMessage<Body>[] = [];
    for (const e of entries) {
      let body: Body;
      try {
        body = JSON.parse(e.raw) as Body;
      } catch {
        log("error", "redis_entry_not_json", {
          consumer: this.name,
          id: e.id,
          movedTo: this.ctx.k.dead,
          raw: e.raw.slice(0, 200),
        });
        this.inflight.set(e.id, e);
        this.open.add(e.id);
        this.settle(e, "d");
        continue;
      }
      this.inflight.set(e.id, e);
      this.open.add(e.id);
      messages.push({
        id: e.messageId,
        timestamp: new Date(e.sentAt),
        body,
        attempts: e.prior + 1,
        ack: () => this.settle(e, "a"),
        retry: (o?: RetryOptions) => this.settle(e, "r", (o?.delaySeconds ?? 0) * 1000),
      });
    }
    if (messages.length === 0) return;
    const batch = messageBatch(this.ctx.queueName, messages);
    // Batches run concurrently: a slow processor call must not hold back the next batch.
    const p: Promise<void> = Promise.resolve()
      .then(() => this.handler(batch))
      .catch((err) => {
        log("error", "batch_handler_threw", { consumer: this.name, error: String(err), retryInMs: 1000 });
        batch.retryAll({ delaySeconds: 1 });
      })
      .finally(() => {
        this.running.delete(p);
        this.notify();
      });
    this.running.add(p);
  }

  private settle(e: StreamEntry, kind: SettleKind, delayMs = 0) {
    if (!this.open.delete(e.id)) return; // already acked/retried: first call wins
    this.ctx.settler
      .push(kind, e, delayMs)
      .then(
        () => {
          if (kind === "r" && delayMs > 0) this.ctx.promoter.soon(delayMs);
        },
        // Still pending in Redis under our name; without our heartbeat it is reclaimed after claimIdleMs.
        (err) =>
          log("warn", "redis_settle_failed", {
            consumer: this.name,
            id: e.id,
            error: String(err),
            // biome-ignore lint/suspicious/noThenProperty: a field of the log line, not a thenable
            then: "reclaimed after claimIdleMs",
          }),
      )
      .finally(() => {
        this.inflight.delete(e.id);
        this.notify();
      });
  }

  /** Resets the idle time of our live messages so the reclaimer only takes those of dead consumers. */
  private async heartbeat() {
    if (this.inflight.size === 0) return;
    const { conn, k } = this.ctx;
    await inSequence([...this.inflight.keys()], IDS_PER_CLAIM, (ids) =>
      conn.sendCommand(["XCLAIM", k.stream, GROUP, this.name, "0", ...ids, "JUSTID"]),
    );
  }

  /** Re-enqueues what dead consumers left pending (see RECLAIM); follows the XAUTOCLAIM cursor. */
  private async reclaim() {
    for (let i = 0; i < 20; i++) {
      const [cursor] = await RECLAIM.run<[string, number]>(
        this.ctx.conn,
        [this.ctx.k.stream],
        [GROUP, this.name, Math.ceil(this.ctx.claimIdleMs), this.reclaimCursor, 100],
      );
      this.reclaimCursor = String(cursor);
      if (this.reclaimCursor === "0-0") return;
    }
  }

  private changed(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (timeoutMs !== undefined) setTimeout(resolve, timeoutMs);
    });
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async shutdown(timeoutMs: number) {
    this.stopping = true;
    this.notify();
    // A blocked XREADGROUP returns at once (as on timeout) when unblocked; retry in case it was not sent yet.
    let done = false;
    void this.loop.finally(() => {
      done = true;
    });
    while (!done) {
      if (this.blockingId) await this.ctx.conn.sendCommand(["CLIENT", "UNBLOCK", this.blockingId]).catch(() => {});
      await Promise.race([this.loop, sleep(20)]);
    }
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) await this.changed(deadline - Date.now());
    // Like a dead consumer's, unsettled messages go back to the queue (one more delivery counted), but now
    // rather than after claimIdleMs. A late ack/retry from the abandoned handler is then ignored.
    for (const id of [...this.open]) {
      const e = this.inflight.get(id);
      if (e) this.settle(e, "r", 0);
    }
    const flushDeadline = Date.now() + 2000;
    while (this.inflight.size > 0 && Date.now() < flushDeadline) await this.changed(flushDeadline - Date.now());
    for (const t of this.timers) clearInterval(t);
    this.ctx.promoter.release();
    await this.blocking?.close();
    await FORGET_CONSUMER.run(this.ctx.conn, [this.ctx.k.stream], [GROUP, this.name]).catch(() => {});
    this.ctx.onStopped();
  }
}
