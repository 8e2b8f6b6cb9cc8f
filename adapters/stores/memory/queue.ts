import { log } from "../../../handlers/contract/log";
import {
  type BatchHandler,
  type ConsumeOptions,
  type Consumer,
  messageBatch,
  type PollableQueue,
  type QueueDepth,
  type QueueMessage,
  type RetryOptions,
} from "../../../handlers/contract/types";

interface Entry<Body> {
  id: string;
  body: Body;
  timestamp: Date;
  attempts: number;
}

/**
 * In-process queue with the consumer semantics of the durable adapters: a message handed out stays "pending"
 * until acked or retried; a consumer that stops without settling gives its messages back to the next one.
 */
export function createMemoryQueue<Body>(name = "payments"): PollableQueue<Body> {
  const ready: Entry<Body>[] = [];
  let head = 0; // ready[head..] are waiting; shifting a big array per message would be O(n)
  const pending = new Map<string, Entry<Body>>();
  const delayed = new Map<string, { entry: Entry<Body>; timer: ReturnType<typeof setTimeout> }>();
  const wakers = new Set<() => void>();
  let seq = 0;
  let generation = 0; // bumped by clear(): settling a message from before a purge must not resurrect it

  const wake = () => {
    for (const w of wakers) w();
  };
  const push = (e: Entry<Body>) => {
    ready.push(e);
    wake();
  };
  const take = (): Entry<Body> | undefined => {
    if (head >= ready.length) return undefined;
    const e = ready[head]!;
    ready[head++] = undefined as never;
    if (head > 1024 && head * 2 > ready.length) {
      ready.splice(0, head);
      head = 0;
    }
    return e;
  };

  function consume(handler: BatchHandler<Body>, options: ConsumeOptions): Consumer {
    const { batchSize, maxInFlight } = options;
    const mine = new Set<string>(); // ids this consumer holds unsettled
    const running = new Set<Promise<void>>();
    let stopped = false;
    let wakeLoop: (() => void) | null = null;
    const waker = () => {
      const w = wakeLoop;
      wakeLoop = null;
      w?.();
    };
    wakers.add(waker);

    const settle = (id: string) => {
      if (!mine.delete(id)) return false;
      pending.delete(id);
      waker();
      return true;
    };

    const message = (e: Entry<Body>, gen = generation): QueueMessage<Body> => ({
      id: e.id,
      body: e.body,
      timestamp: e.timestamp,
      attempts: e.attempts,
      ack: () => {
        settle(e.id);
      },
      retry: (o?: RetryOptions) => {
        if (!settle(e.id) || gen !== generation) return;
        const next: Entry<Body> = { ...e, attempts: e.attempts + 1 };
        const ms = Math.max(0, (o?.delaySeconds ?? 0) * 1000);
        if (ms === 0) return push(next);
        const timer = setTimeout(() => {
          delayed.delete(e.id);
          push(next);
        }, ms);
        delayed.set(e.id, { entry: next, timer });
      },
    });

    const loop = async () => {
      while (!stopped) {
        const free = maxInFlight - mine.size;
        if (free <= 0 || head >= ready.length) {
          await new Promise<void>((r) => {
            wakeLoop = r;
          });
          continue;
        }
        const messages: QueueMessage<Body>[] = [];
        for (let i = 0; i < Math.min(batchSize, free); i++) {
          const e = take();
          if (!e) break;
          pending.set(e.id, e);
          mine.add(e.id);
          messages.push(message(e));
        }
        const batch = messageBatch(name, messages);
        // Batches run concurrently: one slow processor call must not hold back the rest.
        const p = handler(batch)
          .catch((err) => {
            log("error", "batch_handler_threw", { queue: name, error: String(err), retryInMs: 1000 });
            batch.retryAll({ delaySeconds: 1 });
          })
          .finally(() => running.delete(p));
        running.add(p);
      }
    };
    const looping = loop();

    return {
      async stop(timeoutMs = 10_000) {
        stopped = true;
        waker();
        wakers.delete(waker);
        await looping;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.allSettled([...running]),
          new Promise((r) => {
            timer = setTimeout(r, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        // Whatever is still unsettled goes back to the front, as a dead consumer's messages would.
        for (const id of mine) {
          const e = pending.get(id);
          pending.delete(id);
          if (e) {
            ready.splice(head, 0, { ...e, attempts: e.attempts + 1 });
          }
        }
        mine.clear();
        wake();
      },
    };
  }

  return {
    async send(body: Body) {
      push({ id: `${Date.now().toString(36)}-${(seq++).toString(36)}`, body, timestamp: new Date(), attempts: 1 });
    },
    consume,
    async depth(): Promise<QueueDepth> {
      return { ready: ready.length - head, pending: pending.size, delayed: delayed.size };
    },
    async clear() {
      generation++;
      ready.length = 0;
      head = 0;
      pending.clear();
      for (const d of delayed.values()) clearTimeout(d.timer);
      delayed.clear();
    },
  };
}
