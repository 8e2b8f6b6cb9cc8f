// GET /payments/{correlationId}: what the books know of one payment. Reads only (a ledger lookup, then the
// attempt claim), so the accept path does no extra work for it.
import type { AttemptClaim, LedgerEntry } from "./contract/types";
import { formatCents } from "./money";

export interface LookupAnswer {
  status: 200 | 404;
  body: string;
}

/**
 * The answer for what the ledger and the attempt registry hold. Recorded: processed at that processor, with the
 * requestedAt it stored and the amount. Claimed only: being forwarded to, or in doubt at, that processor.
 * Neither: 404, which does not mean "never sent": a payment still queued has no claim yet.
 */
export function lookupAnswer(
  correlationId: string,
  entry: LedgerEntry | null,
  claim: AttemptClaim | null,
): LookupAnswer {
  const id = JSON.stringify(correlationId);
  if (entry) {
    return {
      status: 200,
      body:
        `{"correlationId":${id},"status":"processed","processor":"${entry.processor}",` +
        `"requestedAt":"${new Date(entry.requestedAt).toISOString()}","amount":${formatCents(entry.amountCents)}}`,
    };
  }
  if (claim)
    return { status: 200, body: `{"correlationId":${id},"status":"claimed","processor":"${claim.processor}"}` };
  return {
    status: 404,
    body: JSON.stringify({
      error:
        "no payment known for this correlationId: a payment still queued is not visible yet (retry shortly), " +
        "and one older than the retention window is no longer held one by one",
    }),
  };
}
