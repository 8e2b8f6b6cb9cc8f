// What one generated request is, and what the API must do with it.

/**
 * A request body: text or bytes (sent with a content-length), `chunks` (sent chunked, no content-length),
 * or `big` bytes of padding around a valid payment, made only when sent (multi-MB).
 */
export type Body = string | Buffer | { chunks: Buffer[] } | { big: number; chunked: boolean; payment: string };

export type Expectation =
  /** 4xx with content-type application/json and a body {"error": "..."}. */
  | "reject"
  /** 4xx from Node's HTTP parser, before the app runs (e.g. 431 for a URL over 16 KiB): no JSON promised. */
  | "reject-any"
  /** 202, then forwarded exactly once as `payment`. */
  | "accept"
  /** A judgement call either way (see the kind's note): 202 and forwarded as `payment`, or "reject". */
  | "lenient"
  /** 200 with {"default":{totalRequests,totalAmount},"fallback":{...}}. */
  | "summary"
  /** "summary" or "reject" (see the kind's note). */
  | "summary-lenient";

export interface FuzzCase {
  /** The generator that made it: failures are reported per kind. */
  kind: string;
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Body;
  expect: Expectation;
  /** The payment the body carries, as the processor would store it (lower-case id, cents), if it were accepted. */
  payment?: { id: string; cents: number };
  /**
   * A body (or URL) too large to read: the server may also refuse it by answering early and closing the
   * connection, which the client may see as a reset while it is still sending.
   */
  mayClose?: boolean;
}

/** One generator: `count` cases of one kind. */
export interface Generator {
  kind: string;
  count: number;
  expect: Expectation;
  /** Why a lenient kind is lenient, or what the kind covers. */
  note?: string;
  make(rng: import("../../../tools/lib/rng").Rng, i: number): Omit<FuzzCase, "kind" | "expect">;
}

export const JSON_TYPE = { "content-type": "application/json" };

/** A short printable description of a case for failure messages. */
export function describeCase(c: FuzzCase): string {
  const b = c.body;
  let body = "";
  if (typeof b === "string") body = JSON.stringify(b.length > 100 ? `${b.slice(0, 100)}…(${b.length} chars)` : b);
  else if (Buffer.isBuffer(b))
    body = `bytes ${b.subarray(0, 60).toString("hex")}${b.length > 60 ? `…(${b.length} bytes)` : ""}`;
  else if (b && "chunks" in b) body = `chunked ${b.chunks.reduce((n, x) => n + x.length, 0)} bytes`;
  else if (b) body = `${b.big} bytes${b.chunked ? " chunked" : ""}`;
  const path = c.path.length > 120 ? `${c.path.slice(0, 120)}…(${c.path.length} chars)` : c.path;
  return `${c.method} ${path} ${JSON.stringify(c.headers)} ${body}`;
}
