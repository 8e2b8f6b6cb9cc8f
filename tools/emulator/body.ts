// Validation of the JSON bodies the emulator accepts. Pure: text in, value or error out.

import { decimalTextToCents } from "./money";
import { parseTimestampMicros } from "./time";

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface PaymentInput {
  /** Lower-cased: the processor keys on a uuid, so case does not make a new payment. */
  correlationId: string;
  amountCents: number;
  /** Exactly the string that was sent. */
  requestedAt: string;
  requestedAtUs: number;
}

/** Parses text as a JSON object, or explains why it is not one. */
export function parseObject(text: string): Parsed<Record<string, unknown>> {
  if (text.trim() === "") return { ok: false, error: "missing body: send a JSON object" };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, error: "malformed body: not valid JSON" };
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return { ok: false, error: "malformed body: expected a JSON object" };
  }
  return { ok: true, value: v as Record<string, unknown> };
}

export function parsePayment(text: string): Parsed<PaymentInput> {
  const obj = parseObject(text);
  if (!obj.ok) return obj;
  const { correlationId, amount, requestedAt } = obj.value;
  if (typeof correlationId !== "string" || !isUuid(correlationId)) {
    return { ok: false, error: "correlationId: required, a UUID string" };
  }
  if (typeof amount !== "number") return { ok: false, error: "amount: required, a JSON number" };
  // Round the number as written, not the double JSON.parse made of it.
  const raw = rawTopLevelValue(text, "amount");
  const amountCents = raw === undefined ? undefined : decimalTextToCents(raw);
  if (amountCents === undefined) return { ok: false, error: "amount: not a finite decimal within range" };
  if (typeof requestedAt !== "string") {
    return { ok: false, error: "requestedAt: required, an ISO-8601 timestamp string" };
  }
  const requestedAtUs = parseTimestampMicros(requestedAt);
  if (requestedAtUs === undefined) {
    return { ok: false, error: "requestedAt: not an ISO-8601 timestamp, e.g. 2025-07-15T12:34:56.000Z" };
  }
  return { ok: true, value: { correlationId: correlationId.toLowerCase(), amountCents, requestedAt, requestedAtUs } };
}

const WS = new Set([" ", "\t", "\n", "\r"]);

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

/** Index just past the string literal starting at s[i] === '"'. */
function endOfString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  return s.length;
}

/** Index just past the JSON value starting at s[i]. */
function endOfValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return endOfString(s, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') j = endOfString(s, j) - 1;
      else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return s.length;
  }
  let j = i;
  while (j < s.length && s[j] !== "," && s[j] !== "}" && s[j] !== "]" && !WS.has(s[j]!)) j++;
  return j;
}

/**
 * The raw text of a top-level member's value in a JSON object that JSON.parse already accepted.
 * The last occurrence wins, as with JSON.parse. Nested objects and strings are skipped whole, so
 * an "amount" inside another field is never mistaken for the real one.
 */
export function rawTopLevelValue(json: string, key: string): string | undefined {
  let i = skipWs(json, 0);
  if (json[i] !== "{") return undefined;
  const quoted = JSON.stringify(key);
  let found: string | undefined;
  i++;
  for (;;) {
    i = skipWs(json, i);
    if (i >= json.length || json[i] === "}") return found;
    if (json[i] === ",") {
      i++;
      continue;
    }
    const keyEnd = endOfString(json, i);
    const rawKey = json.slice(i, keyEnd);
    i = skipWs(json, keyEnd);
    i = skipWs(json, i + 1); // past ':'
    const valueEnd = endOfValue(json, i);
    if (rawKey === quoted || (rawKey.includes("\\") && JSON.parse(rawKey) === key)) {
      found = json.slice(i, valueEnd);
    }
    i = valueEnd;
  }
}
