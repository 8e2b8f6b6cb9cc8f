// How a processor's answer is read. These rules are what keep our books equal to the processors'.
import type { TransportAnswer } from "./contract/transport";

export type PayAnswer = { status: number } | { error: "timeout" | "network"; message: string };

export type Outcome =
  /** 2xx: stored there with the requestedAt we sent. */
  | "stored"
  /** 422: a row with this correlationId already exists there (an earlier attempt landed). */
  | "duplicate"
  /** 500 and other 4xx/5xx: not stored by this request. */
  | "rejected"
  /** 429: the processor is full; not stored, and not a sign that it is failing. */
  | "busy"
  /** 400: the processor says our request is malformed; not stored. A bug of ours: retried slowly, loudly. */
  | "malformed"
  /** Timeout or connection error: it may have landed, or may still land. */
  | "in-doubt";

/** The part of a transport answer that classify() reads. */
export function asPayAnswer(a: TransportAnswer): PayAnswer {
  return "error" in a ? a : { status: a.status };
}

export function classify(a: PayAnswer): Outcome {
  if ("error" in a) return "in-doubt";
  const s = a.status;
  if (s >= 200 && s < 300) return "stored";
  if (s === 422) return "duplicate";
  if (s === 429) return "busy";
  if (s === 400) return "malformed";
  return "rejected";
}

/** Whether this outcome proves the payment is NOT at that processor (so the claim can be released). */
export function definitelyNotStored(o: Outcome, inDoubt: boolean): boolean {
  // A rejection of a retry says nothing of an earlier request that timed out: that one may still land.
  return !inDoubt && (o === "rejected" || o === "busy" || o === "malformed");
}

/** Bounded exponential backoff with jitter, in seconds, for the queue's retry({ delaySeconds }). */
export function backoffSeconds(
  attempts: number,
  opts: { baseMs: number; maxMs: number },
  rand: number = Math.random(),
): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 20)));
  // Half fixed, half random: spreads a herd of held payments without ever waiting longer than maxMs.
  return Math.round(exp / 2 + (exp / 2) * rand) / 1000;
}
