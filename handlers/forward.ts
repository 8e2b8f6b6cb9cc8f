import { log } from "./contract/log";
import type { MessageBatch, PaymentJob, ProcessorName, QueueMessage } from "./contract/types";
import type { AppEnv } from "./env";
import { centsFromProcessor, formatCents } from "./money";
import { asPayAnswer, backoffSeconds, classify, definitelyNotStored, type Outcome } from "./outcome";
import { assess, route } from "./policy";

/** The `queue` handler: forwards each payment of the batch concurrently (no head-of-line blocking). */
export async function handleBatch(batch: MessageBatch<PaymentJob>, env: AppEnv): Promise<void> {
  await env.view.refresh();
  await Promise.all(batch.messages.map((m) => forwardOne(m, env)));
}

/** Most processor calls for one payment in one delivery before it goes back to the queue. */
const MAX_HOPS = 4;

/**
 * Forwards one payment exactly once. The rules (docs/guarantees.md, "Exactly once"):
 * - the attempt registry is claimed before any send, so a correlationId can only ever be at one processor;
 * - requestedAt is stamped right before each send and is what the ledger records;
 * - the ledger is written before the ack; a crash in between only causes a resend, which the processor
 *   answers with 422, and the ledger ignores the repeat;
 * - a timeout leaves the payment "in doubt" at that processor: only that processor is tried again until it
 *   answers 2xx or 422, because the first request may still land there.
 */
export async function forwardOne(msg: QueueMessage<PaymentJob>, env: AppEnv): Promise<void> {
  const { store, config, view, metrics } = env;
  const job = msg.body;
  const retry = (reason: string) => {
    metrics.inc("forward_retries_total", { reason });
    msg.retry({ delaySeconds: backoffSeconds(msg.attempts, config.retry) });
  };

  try {
    // Our own claim from an earlier delivery means an earlier attempt may have landed: in doubt.
    let claim = msg.attempts > 1 ? await store.attempts.get(job.correlationId) : null;
    if (claim && claim.owner !== job.jobId) return duplicate(msg, env);
    let inDoubt = claim !== null;
    let lookedUp = false;
    const heldSince = Date.now();
    // The forwarding pace (pacer.ts): a send takes its turn only once it is decided, so held payments take
    // none; after waiting for its turn it is decided again, on fresh signals, before anything is claimed.
    let paced = false;
    const waitTurn = async () => {
      if (paced) return false;
      paced = true;
      const wait = env.pacer.reserve();
      if (wait <= 0) return false;
      env.paced.waiting++;
      await new Promise((r) => setTimeout(r, wait));
      env.paced.waiting--;
      return true;
    };
    /** Held after all: the turn goes back. */
    const unpace = () => {
      if (paced) env.pacer.refund();
      paced = false;
    };

    for (let hops = 0; hops < MAX_HOPS; ) {
      const now = Date.now();
      let target: ProcessorName;
      let probe = false;

      if (claim) {
        target = claim.processor;
        // In doubt: ask the processor (GET is not delayed) whether an earlier request landed, once per send.
        if (inDoubt && !lookedUp) {
          lookedUp = true;
          if (await recordExisting(env, target, job)) return msg.ack();
        }
        if (assess(view.signals()[target], now, config.router).status === "failing") {
          unpace();
          if (now - heldSince < config.holdWaitMs) {
            await view.next();
            continue;
          }
          return retry("in-doubt-failing");
        }
        if (await waitTurn()) continue;
      } else {
        const d = route(view.signals(), now, now - job.receivedAt, config.router);
        if (d.target === "hold") {
          metrics.inc("router_decisions_total", { target: d.target, probe: String(d.probe) });
          unpace();
          // Waiting here (bounded by maxInFlight) keeps held payments out of the queue's retry churn.
          if (now - heldSince < config.holdWaitMs) {
            await view.next();
            continue;
          }
          return retry("hold");
        }
        // Decided again after the wait: that decision is the one counted. A probe (one send per probe interval,
        // to learn whether a failing processor is back) and a scout (one send after a change) do not wait: they
        // are reserved below in this synchronous step, or every payment deciding meanwhile would be one too.
        if (!d.probe && !d.scout && (await waitTurn())) continue;
        metrics.inc("router_decisions_total", { target: d.target, probe: String(d.probe) });
        target = d.target;
        probe = d.probe;
        if (probe) view.markProbe(target);
        if (d.scout) view.markScout(target);
        claim = await store.attempts.claim(job.correlationId, target, job.jobId);
        if (claim.owner !== job.jobId) return duplicate(msg, env);
        target = claim.processor;
      }

      hops++;
      paced = false;
      lookedUp = false;
      const requestedAt = new Date();
      const outcome = await send(env, target, job, requestedAt, probe);

      if (outcome === "stored") {
        await store.ledger.record({
          correlationId: job.correlationId,
          processor: target,
          requestedAt: requestedAt.getTime(),
          amountCents: job.amountCents,
        });
        metrics.inc("forwarded_total", { processor: target });
        return msg.ack();
      }
      if (outcome === "duplicate") {
        const settled = await recordExisting(env, target, job);
        if (settled) return msg.ack();
        inDoubt = true;
        continue;
      }
      if (outcome === "in-doubt") {
        inDoubt = true;
        metrics.inc("in_doubt_total", { processor: target });
        continue;
      }
      if (definitelyNotStored(outcome, inDoubt)) {
        // Free to go anywhere again; if the release fails we simply stay on this processor (still safe).
        if (await store.attempts.release(job.correlationId, job.jobId)) claim = null;
      }
      if (outcome === "malformed") {
        log("error", "processor_rejected_request_as_malformed", {
          processor: target,
          correlationId: job.correlationId,
          hint: "a bug of ours: the payment is retried slowly until fixed",
        });
        return retry("malformed");
      }
      if (outcome === "busy") {
        await view.next();
      }
    }
    return retry("hops");
  } catch (err) {
    // Store or network trouble outside a processor call: nothing was decided that a redelivery cannot redo.
    metrics.inc("forward_errors_total");
    log("warn", "forward_failed_will_retry", { correlationId: job.correlationId, error: (err as Error).message });
    return retry("error");
  }
}

/** The real processor may answer a timestamp without its zone (a database round trip drops the "Z"): it is UTC. */
export function parseUtc(text: string): number {
  return Date.parse(/(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`);
}

/** Another accepted request for the same correlationId owns it and will see it through. */
function duplicate(msg: QueueMessage<PaymentJob>, env: AppEnv) {
  env.metrics.inc("duplicates_total");
  msg.ack();
}

async function send(
  env: AppEnv,
  p: ProcessorName,
  job: PaymentJob,
  requestedAt: Date,
  probe: boolean,
): Promise<Outcome> {
  const { transport, view, config, metrics } = env;
  const body =
    `{"correlationId":${JSON.stringify(job.correlationId)},"amount":${formatCents(job.amountCents)},` +
    `"requestedAt":"${requestedAt.toISOString()}"}`;
  const token = view.begin(p, probe);
  const t0 = Date.now();
  let outcome: Outcome = "in-doubt";
  try {
    outcome = classify(
      asPayAnswer(await transport.send(p, { method: "POST", path: "/payments", body }, config.payTimeoutMs)),
    );
  } finally {
    view.end(p, token, outcome === "stored" || outcome === "duplicate");
  }
  const t1 = Date.now();
  metrics.inc("processor_responses_total", { processor: p, outcome });
  if (outcome === "stored" || outcome === "duplicate") {
    metrics.observeLatency(p, t1 - t0);
    // A probe's success says "not failing any more"; its latency is the delay the processor had while we
    // thought it failing, so it is not evidence of the latency now.
    void view.observe(p, probe ? { at: t1, ok: true } : { at: t1, ok: true, latencyMs: t1 - t0 }, t0);
  } else if (outcome === "rejected" || outcome === "in-doubt") {
    void view.observe(p, { at: t1, ok: false }, t0);
  }
  return outcome;
}

/**
 * The processor already has this correlationId (an earlier attempt of ours landed): record what it stored.
 * Resolves false when it cannot tell us now.
 */
async function recordExisting(env: AppEnv, p: ProcessorName, job: PaymentJob): Promise<boolean> {
  const a = await env.transport.send(
    p,
    { method: "GET", path: `/payments/${encodeURIComponent(job.correlationId)}` },
    env.config.lookupTimeoutMs,
  );
  if ("error" in a || a.status !== 200) return false;
  const row = JSON.parse(a.body) as { amount?: unknown; requestedAt?: unknown };
  const requestedAt = typeof row.requestedAt === "string" ? parseUtc(row.requestedAt) : NaN;
  if (typeof row.amount !== "number" || Number.isNaN(requestedAt)) {
    log("error", "processor_row_unreadable", {
      processor: p,
      correlationId: job.correlationId,
      body: a.body.slice(0, 200),
    });
    return false;
  }
  await env.store.ledger.record({
    correlationId: job.correlationId,
    processor: p,
    requestedAt,
    amountCents: centsFromProcessor(row.amount),
  });
  env.metrics.inc("recovered_duplicates_total", { processor: p });
  return true;
}
