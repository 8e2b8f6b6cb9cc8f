// The whole generated corpus for one seed, and how one case is sent and judged.
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { Rng } from "../../../tools/lib/rng";
import type { FuzzCase, Generator } from "./cases";
import { PAYMENT_GENERATORS } from "./payments";
import { SUMMARY_GENERATORS } from "./summary";

export const GENERATORS: Generator[] = [...PAYMENT_GENERATORS, ...SUMMARY_GENERATORS];

/** Every case of every generator, in a seeded random order. Same seed, same corpus. */
export function buildCorpus(seed: number): FuzzCase[] {
  const rng = new Rng(seed);
  const all: FuzzCase[] = [];
  for (const g of GENERATORS) {
    for (let i = 0; i < g.count; i++) all.push({ kind: g.kind, expect: g.expect, ...g.make(rng, i) });
  }
  return rng.shuffle(all);
}

export interface Outcome {
  status: number;
  contentType: string;
  text: string;
  /** The request failed without an HTTP answer (reset, timeout...). */
  error?: string;
}

function bodyOf(c: FuzzCase): string | Buffer | Readable | undefined {
  const b = c.body;
  if (b === undefined || typeof b === "string" || Buffer.isBuffer(b)) return b;
  if ("chunks" in b) return Readable.from(b.chunks); // a stream: sent chunked, without a content-length
  const head = `${b.payment.slice(0, -1)},"pad":"`;
  const pad = b.big - head.length - 2;
  if (!b.chunked) return Buffer.concat([Buffer.from(head), Buffer.alloc(pad, "x"), Buffer.from('"}')]);
  const piece = Buffer.alloc(64 * 1024, "x");
  return Readable.from(
    (function* () {
      yield Buffer.from(head);
      for (let left = pad; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
      yield Buffer.from('"}');
    })(),
  );
}

export async function send(d: Dispatcher, c: FuzzCase, timeoutMs = 10_000): Promise<Outcome> {
  try {
    const res = await d.request({
      method: c.method as Dispatcher.HttpMethod,
      path: c.path,
      headers: c.headers,
      body: bodyOf(c),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const ct = res.headers["content-type"];
    return {
      status: res.statusCode,
      contentType: Array.isArray(ct) ? ct.join(",") : (ct ?? ""),
      text: await res.body.text(),
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { status: 0, contentType: "", text: "", error: `${e.code ?? e.name}: ${e.message}` };
  }
}

/**
 * Sends `cases`, `concurrency` at a time; outcomes in the same order. Cases the server may refuse by closing the
 * connection (`mayClose`) go over `isolated`: a server that answers 413 before it
 * has read the body may close that keep-alive connection just as the client reuses it for the next request,
 * which would then fail for a reason that is not its own.
 */
export async function sendAll(
  d: Dispatcher,
  isolated: Dispatcher,
  cases: FuzzCase[],
  concurrency = 16,
): Promise<Outcome[]> {
  const out: Outcome[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cases.length) {
        const i = next++;
        const c = cases[i]!;
        out[i] = await send(c.mayClose ? isolated : d, c);
      }
    }),
  );
  return out;
}

function rejectProblem(o: Outcome): string | null {
  if (o.status < 400 || o.status > 499)
    return `status ${o.status}, expected 4xx (body ${JSON.stringify(o.text.slice(0, 120))})`;
  if (!/^application\/json\b/i.test(o.contentType))
    return `status ${o.status} with content-type ${JSON.stringify(o.contentType)}, expected application/json`;
  let v: unknown;
  try {
    v = JSON.parse(o.text);
  } catch {
    return `status ${o.status} with a body that is not JSON: ${JSON.stringify(o.text.slice(0, 120))}`;
  }
  if (
    typeof v !== "object" ||
    v === null ||
    typeof (v as { error?: unknown }).error !== "string" ||
    !(v as { error: string }).error
  ) {
    return `status ${o.status} with a JSON body without a non-empty "error" string: ${o.text.slice(0, 120)}`;
  }
  return null;
}

function summaryProblem(o: Outcome): string | null {
  if (o.status !== 200) return `status ${o.status}, expected 200 (body ${JSON.stringify(o.text.slice(0, 120))})`;
  try {
    const v = JSON.parse(o.text) as Record<string, { totalRequests?: unknown; totalAmount?: unknown }>;
    for (const p of ["default", "fallback"]) {
      if (typeof v[p]?.totalRequests !== "number" || typeof v[p]?.totalAmount !== "number")
        return `summary without ${p}.totalRequests/totalAmount: ${o.text}`;
    }
  } catch {
    return `summary body is not JSON: ${JSON.stringify(o.text.slice(0, 120))}`;
  }
  return null;
}

/** What is wrong with this answer to this case, or null. */
export function problem(c: FuzzCase, o: Outcome): string | null {
  if (o.error) {
    if (c.mayClose && /UND_ERR_SOCKET|EPIPE|ECONNRESET|other side closed/i.test(o.error)) return null;
    return `no HTTP answer: ${o.error}`;
  }
  switch (c.expect) {
    case "reject":
      return rejectProblem(o);
    case "reject-any":
      return o.status >= 400 && o.status <= 499 ? null : `status ${o.status}, expected 4xx`;
    case "accept":
      return o.status === 202
        ? null
        : `status ${o.status}, expected 202 (body ${JSON.stringify(o.text.slice(0, 160))})`;
    case "lenient":
      return o.status === 202 ? null : rejectProblem(o);
    case "summary":
      return summaryProblem(o);
    case "summary-lenient":
      return o.status === 200 ? summaryProblem(o) : rejectProblem(o);
  }
}
