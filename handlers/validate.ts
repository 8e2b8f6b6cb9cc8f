import * as v from "valibot";
import { MAX_AMOUNT, toCents } from "./money";

export const MAX_BODY_BYTES = 4096;

const PaymentBody = v.object({
  correlationId: v.pipe(v.string("correlationId must be a string"), v.uuid("correlationId must be a UUID")),
  amount: v.pipe(
    v.number("amount must be a number"),
    v.check((n) => toCents(n) !== null, `amount must be > 0, at most ${MAX_AMOUNT}, with at most 2 decimals`),
  ),
}); // valibot's object() drops unknown keys, which is what we want

export interface ValidPayment {
  correlationId: string;
  amountCents: number;
}
export interface Invalid {
  error: string;
  field?: string;
}

/** Parses and checks a POST /payments body (already read as text). */
export function parsePayment(text: string): ValidPayment | Invalid {
  if (text.length === 0) return { error: "request body is empty; send JSON {correlationId, amount}" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "request body is not valid JSON" };
  }
  const r = v.safeParse(PaymentBody, json, { abortEarly: true });
  if (!r.success) {
    const issue = r.issues[0];
    const field = issue.path?.map((p) => String(p.key)).join(".");
    return { error: issue.message, ...(field ? { field } : {}) };
  }
  // UUIDs are case-insensitive (the processors store them as UUIDs): one payment, one spelling in our books.
  return { correlationId: r.output.correlationId.toLowerCase(), amountCents: toCents(r.output.amount)! };
}

// ISO-8601 date-time; the contest sends UTC with milliseconds, but any explicit offset is unambiguous.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

export interface Window {
  from?: number;
  to?: number;
}

/** Date.parse rolls 2025-02-30 over to March; a day past the month's end is a malformed date, not a date. */
function realDate(iso: string): boolean {
  const y = Number(iso.slice(0, 4)),
    m = Number(iso.slice(5, 7)),
    d = Number(iso.slice(8, 10));
  const last = new Date(0);
  last.setUTCFullYear(y, m, 0); // day 0 of the next month = the month's last day (setUTCFullYear keeps years < 100)
  return m >= 1 && m <= 12 && d >= 1 && d <= last.getUTCDate();
}

/** from/to query values -> epoch ms window, or an error naming the bad parameter. */
export function parseWindow(from: string | undefined, to: string | undefined): Window | Invalid {
  const out: Window = {};
  for (const [name, raw] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (raw === undefined || raw === "") continue;
    const ms = ISO.test(raw) && realDate(raw) ? Date.parse(raw) : NaN;
    if (Number.isNaN(ms))
      return { error: `${name} must be an ISO-8601 timestamp like 2025-07-15T12:34:56.000Z`, field: name };
    out[name] = ms;
  }
  if (out.from !== undefined && out.to !== undefined && out.from > out.to) {
    return { error: "from is after to", field: "from" };
  }
  return out;
}

export function isInvalid(x: object): x is Invalid {
  return "error" in x;
}
