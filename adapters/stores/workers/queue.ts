import {
  type MessageBatch,
  messageBatch,
  type QueueMessage,
  type QueueProducer,
  type RetryOptions,
} from "../../../handlers/contract/types";
import type { CfMessageBatch, Message, Queue } from "./bindings";

/** Cloudflare's longest message delay (12 h). */
export const MAX_DELAY_SECONDS = 43_200;

/**
 * What travels on the Cloudflare Queue: the body, plus the deliveries it already had as an earlier message
 * when it was sent again to outlive the platform's retry limit (see adaptBatch).
 */
export type Envelope<Body> = Body & { priorAttempts?: number };

/**
 * Our retry delay in the platform's unit. Cloudflare takes whole seconds only, so a fractional delay is
 * rounded UP (0.05 s -> 1 s): a retry never comes back sooner than asked. 0 or none stays 0 (at once).
 */
export function cfDelaySeconds(delaySeconds: number | undefined): number {
  if (delaySeconds === undefined || !(delaySeconds > 0)) return 0;
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(delaySeconds));
}

/** The producer: `send` resolves once the Queue has stored the message, and rejects when it cannot. */
export function queueProducer<Body extends object>(queue: Queue<Envelope<Body>>): QueueProducer<Body> {
  return {
    async send(body) {
      await queue.send(body as Envelope<Body>, { contentType: "json" });
    },
  };
}

export interface AdaptOptions {
  /**
   * The consumer's `max_retries` (Cloudflare's default is 3). A message delivered maxRetries + 1 times would
   * be dropped (or dead-lettered) on its next retry, so that retry sends it again as a new message instead.
   */
  maxRetries: number;
  /** Producer binding of the same queue, for those re-sends. */
  requeue: Queue<Envelope<object>>;
}

export interface AdaptedBatch<Body> {
  batch: MessageBatch<Body>;
  /**
   * Call after the handler returned or threw: retries every message it left unsettled (after
   * `unsettledDelaySeconds`, default 1, so a handler that forgets messages cannot spin), then waits for the
   * re-sends. Resolve it before the `queue` export resolves: the platform reads acks and retries then.
   */
  finish(unsettledDelaySeconds?: number): Promise<void>;
}

/**
 * Wraps a Cloudflare batch in the adapter contract, so the one `queue` handler runs unchanged:
 * - `attempts` counts every delivery, across re-sends (priorAttempts + the platform's attempts);
 * - `retry({ delaySeconds })` rounds up to whole seconds (cfDelaySeconds);
 * - the first ack/retry of a message wins, later calls are ignored (as in the other adapters);
 * - a retry on the last delivery the platform allows re-sends the message (send, then ack): Cloudflare would
 *   otherwise drop it after max_retries, and we never drop a payment;
 * - a message the handler neither acked nor retried is retried (the platform would ack it implicitly).
 */
export function adaptBatch<Body extends object>(
  cf: CfMessageBatch<Envelope<Body>>,
  opts: AdaptOptions,
): AdaptedBatch<Body> {
  const resends: Promise<void>[] = [];
  const unsettled = new Set<Message<Envelope<Body>>>();

  const wrap = (m: Message<Envelope<Body>>): QueueMessage<Body> => {
    unsettled.add(m);
    const { priorAttempts = 0, ...rest } = m.body;
    const body = rest as unknown as Body;
    const attempts = priorAttempts + m.attempts;
    const settle = () => unsettled.delete(m);
    return {
      id: m.id,
      timestamp: m.timestamp,
      body,
      attempts,
      ack() {
        if (settle()) m.ack();
      },
      retry(o?: RetryOptions) {
        if (!settle()) return;
        const delaySeconds = cfDelaySeconds(o?.delaySeconds);
        if (m.attempts <= opts.maxRetries) return m.retry({ delaySeconds });
        resends.push(
          opts.requeue.send({ ...body, priorAttempts: attempts }, { contentType: "json", delaySeconds }).then(
            () => m.ack(),
            (err: Error) => {
              // The platform's own retry is all that is left: its dead-letter queue, if configured, keeps it.
              console.error(
                `queue: re-sending message ${m.id} failed (${err.message}); leaving it to the platform's retry`,
              );
              m.retry({ delaySeconds });
            },
          ),
        );
      },
    };
  };

  const messages = cf.messages.map(wrap);
  const batch = messageBatch(cf.queue, messages);
  return {
    batch,
    async finish(unsettledDelaySeconds = 1) {
      for (const m of messages) m.retry({ delaySeconds: unsettledDelaySeconds }); // no-op for settled ones
      await Promise.all(resends);
    },
  };
}

/**
 * Runs one Cloudflare batch through a handler of the adapter contract: what the Worker's `queue` export
 * does. Messages a handler left unsettled, or did not reach because it threw, are retried after 1 s.
 */
export async function runBatch<Body extends object>(
  cf: CfMessageBatch<Envelope<Body>>,
  opts: AdaptOptions,
  handler: (batch: MessageBatch<Body>) => Promise<void>,
): Promise<void> {
  const adapted = adaptBatch<Body>(cf, opts);
  try {
    await handler(adapted.batch);
  } catch (err) {
    console.error(`queue ${cf.queue}: batch handler threw, retrying its unsettled messages: ${(err as Error).message}`);
  }
  return adapted.finish();
}
