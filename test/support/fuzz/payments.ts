// Generators for POST /payments. Each kind is malformed by construction (the comment says why it cannot be
// valid), except the "valid" kinds (the API must accept them) and the "lenient" ones (a judgement call, see note).

import type { Rng } from "../../../tools/lib/rng";
import { type Generator, JSON_TYPE } from "./cases";

const POST = "POST";
const PATH = "/payments";
const MAX_BODY = 4096;

/** Valid cents: mostly small, some near the 1,000,000.00 ceiling. */
function cents(rng: Rng): number {
  const r = rng.next();
  if (r < 0.3) return rng.int(1, 99);
  if (r < 0.8) return rng.int(100, 9_999);
  if (r < 0.95) return rng.int(10_000, 10_000_000);
  return rng.int(10_000_000, 100_000_000);
}

/** One of several exact decimal spellings of cents/100: "19.90", "19.9", "1990e-2", "1.99e+1". */
function amountText(rng: Rng, c: number): string {
  const fixed = `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`;
  switch (rng.int(0, 5)) {
    case 0:
    case 1:
      return fixed;
    case 2:
      return String(c / 100);
    case 3:
      return `${c}e-2`;
    case 4:
      return (c / 100).toExponential();
    default:
      return c % 100 === 0 ? `${c / 100}.0` : fixed;
  }
}

const payload = (id: string, amount: string) => `{"correlationId":"${id}","amount":${amount}}`;
/** `n` random decimal digits. */
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.int(0, 9)).join("");

/** A fresh valid payment: its text and what the processor would store. */
function valid(rng: Rng) {
  const id = rng.uuid(),
    c = cents(rng),
    a = amountText(rng, c);
  return { id, c, a, text: payload(id, a), payment: { id, cents: c } };
}

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  "application/json;charset=UTF-8",
];

/** Mutations of a UUID that can never match 8-4-4-4-12 hex digits. */
function nearUuid(rng: Rng): string {
  const s = mutateUuid(rng);
  // A mutation that happens to leave a UUID (e.g. "replace the first 0" in a UUID without one) is made invalid.
  return UUID.test(s) ? `${s}!` : s;
}

const UUID = /^[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}$/i;

function mutateUuid(rng: Rng): string {
  const u = rng.uuid();
  const at = (s: string, i: number, put: string, del = 1) => s.slice(0, i) + put + s.slice(i + del);
  const hexAt = () => {
    let i: number;
    do i = rng.int(0, 35);
    while (u[i] === "-");
    return i;
  };
  switch (rng.int(0, 27)) {
    case 0:
      return at(u, rng.int(0, 35), ""); // 35 chars
    case 1:
      return at(u, rng.int(0, 36), rng.pick([..."0123456789abcdef"]), 0); // 37 chars
    case 2:
      return at(u, hexAt(), rng.pick([..."ghijklmnopqrstuvwxyzGXZ_.+ "])); // a non-hex digit
    case 3:
      return at(u, rng.pick([8, 13, 18, 23]), rng.pick(["0", "a", "_", ":", " "])); // a dash replaced
    case 4:
      return u.replaceAll("-", ""); // 32 hex digits, no dashes
    case 5:
      return `{${u}}`;
    case 6:
      return `urn:uuid:${u}`;
    case 7:
      return ` ${u}`;
    case 8:
      return `${u} `;
    case 9:
      return `${u}\n`;
    case 10:
      return `${u}\t`;
    case 11:
      return at(u, rng.int(0, 36), "\u0000", 0);
    case 12:
      return at(u, rng.int(1, 35), "\u200b", 0); // zero-width space
    case 13: {
      const i = hexAt();
      return /\d/.test(u[i]!) ? at(u, i, String.fromCharCode(0xff10 + Number(u[i]))) : at(u, i, "\uff41");
    } // full-width
    case 14:
      return u.replace(/[a-f]/, (c) => String.fromCharCode(0x0430 + c.charCodeAt(0) - 97)); // Cyrillic look-alike
    case 15:
      return u.replace(/0/, "O");
    case 16:
      return `${u}-${rng.uuid().slice(0, 4)}`; // an extra group
    case 17:
      return u.slice(0, rng.int(0, 30));
    case 18:
      return "";
    case 19:
      return rng.uuid().repeat(rng.int(2, 60)); // long, up to ~2 KB
    case 20:
      return rng.ascii(36);
    case 21:
      return at(u, hexAt(), rng.pick(["😀", "é", "\u0301", "\u202e", "\ud800"]));
    case 22:
      return u.replace(/-/g, () => rng.pick(["-", "_"])).replace(/^([^_]*)$/, "$1_"); // at least one "_"
    case 23: {
      const g = u.split("-");
      return [g[0], g[1], g[2], g[3] + g[4]!.slice(0, 1), g[4]!.slice(1)].join("-");
    } // groups 8-4-4-5-11
    case 24:
      return `${u.slice(0, 8)}-${u.slice(8)}`.slice(0, 36); // the first dash doubled, cut back to 36 chars
    case 25:
      return u.toUpperCase().replace(/[0-9A-F]/, "Z");
    case 26:
      return `${u};`;
    default:
      return `${u.split("").reverse().join("").replace(/-/g, "")}----`; // 32 hex then 4 dashes
  }
}

/** A number that is not allowed in JSON (so the body is never valid JSON). */
const BAD_NUMBERS = [
  "NaN",
  "-NaN",
  "Infinity",
  "-Infinity",
  "+Infinity",
  "+1",
  "+19.90",
  ".5",
  "-.5",
  "1.",
  "01",
  "00",
  "019.90",
  "0x10",
  "0b1",
  "1e",
  "1e+",
  "1e-",
  "--1",
  "1_000",
  "19,90",
  "undefined",
  "None",
  "nil",
  "19.90.1",
  "1e1.5",
  "∞",
  "1 000",
  "1.2.3",
  "Inf",
  "nan",
  "1d",
  "19.90f",
  "-",
  "1e5e5",
  "½",
  "١٩.٩٠",
  "１９.９０",
  "0.5.",
  "True",
  "'19.90'",
];

/** Values of the wrong JSON type for each field (all valid JSON, so the type check must catch them). */
const NOT_STRINGS = [
  "123",
  "1.5",
  "true",
  "false",
  "null",
  "{}",
  "[]",
  "0",
  "-1",
  "1e10",
  '{"id":"%U"}',
  '["%U"]',
  '[["%U"]]',
  '{"$uuid":"%U"}',
];
const NOT_NUMBERS = [
  '"19.90"',
  '"abc"',
  '""',
  "true",
  "false",
  "null",
  "{}",
  "[]",
  "[19.9]",
  '{"value":19.9}',
  '"1e2"',
  '"NaN"',
  '"Infinity"',
  '["19.90"]',
  '{"amount":19.9}',
];

/** Spellings of the keys that are not the keys (JSON keys are case- and space-sensitive). */
const NOT_ID_KEYS = [
  "CorrelationId",
  "correlationID",
  "correlation_id",
  "correlationid",
  "correlationId ",
  " correlationId",
  "id",
  "uuid",
  "correlation-id",
  "correlationId\u0000",
  "correlatіonId",
];
const NOT_AMOUNT_KEYS = [
  "Amount",
  "AMOUNT",
  "amout",
  "value",
  "amount ",
  " amount",
  "price",
  "amounts",
  "amount\u200b",
  "аmount",
];

/** A second "amount" that is not one. */
const BAD_AMOUNTS = ["-1", "0", '"19.90"', "1.001", "null", "1e400"];

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc3],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xb0],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

/** The overlong UTF-8 spelling of an ASCII character: a decoder that normalised it would see the character. */
const overlong = (ch: string) => [0xc0 | (ch.charCodeAt(0) >> 6), 0x80 | (ch.charCodeAt(0) & 0x3f)];

const utf8 = (s: string) => Buffer.from(s, "utf8");

function utf16be(s: string): Buffer {
  const b = Buffer.from(s, "utf16le");
  for (let i = 0; i < b.length; i += 2) [b[i], b[i + 1]] = [b[i + 1]!, b[i]!];
  return b;
}

/** `text` split into random chunks (sent chunked, without a content-length). */
function chunks(rng: Rng, text: string | Buffer): { chunks: Buffer[] } {
  const b = typeof text === "string" ? utf8(text) : text;
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; ) {
    const n = rng.int(1, 4096);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return { chunks: out };
}

/** A valid payment padded with an ignored field to exactly `bytes` bytes, `unit` repeated (1 to 4 bytes). */
function padded(rng: Rng, bytes: number, unit = "x") {
  const v = valid(rng);
  const head = `${v.text.slice(0, -1)},"pad":"`;
  const tail = '"}';
  const room = bytes - utf8(head).length - tail.length;
  const u = utf8(unit).length;
  const fill = unit.repeat(Math.floor(room / u)) + "x".repeat(room % u);
  return { text: head + fill + tail, payment: v.payment };
}

export const PAYMENT_GENERATORS: Generator[] = [
  // ----------------------------------------------------------------- valid: must be 202 and forwarded
  {
    kind: "valid payment",
    count: 200,
    expect: "accept",
    make(rng) {
      const v = valid(rng);
      return {
        method: POST,
        path: PATH,
        headers: { "content-type": rng.pick(JSON_TYPES) },
        body: v.text,
        payment: v.payment,
      };
    },
  },
  {
    kind: "valid payment, unusual spelling",
    count: 120,
    expect: "accept",
    note: "key order, whitespace, extra fields (dropped), upper-case UUID, \\u escapes, exponents",
    make(rng) {
      const v = valid(rng);
      const ws = () => rng.pick(["", " ", "\n", "\t", "\r\n  "]);
      let id: string = v.id;
      const style = rng.int(0, 4);
      if (style === 1) id = v.id.toUpperCase();
      if (style === 2)
        id = v.id.replace(/[0-9a-f]/g, (c) => (rng.chance(0.3) ? `\\u00${c.charCodeAt(0).toString(16)}` : c));
      const extra = rng.pick([
        "",
        `"note":"hi"`,
        `"n":1`,
        `"x":null`,
        `"meta":{"a":[1,2,{"b":"c"}]}`,
        `"list":[]`,
        `"requestedAt":"2025-07-15T12:00:00.000Z"`,
      ]);
      const fields = [`"correlationId"${ws()}:${ws()}"${id}"`, `"amount"${ws()}:${ws()}${v.a}`];
      if (extra) fields.push(extra);
      rng.shuffle(fields);
      const text = `${ws()}{${ws()}${fields.join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
      return { method: POST, path: PATH, headers: JSON_TYPE, body: text, payment: v.payment };
    },
  },

  // ----------------------------------------------------------------- lenient: either answer is defensible
  {
    kind: "UTF-8 BOM before a valid body",
    count: 20,
    expect: "lenient",
    note: "RFC 8259 §8.1: a parser MAY ignore a byte order mark; Node's Request.text() strips one, or even several",
    make(rng) {
      const v = valid(rng);
      const boms = Buffer.from(rng.chance(0.5) ? [0xef, 0xbb, 0xbf] : [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]);
      return {
        method: POST,
        path: PATH,
        headers: JSON_TYPE,
        body: Buffer.concat([boms, utf8(v.text)]),
        payment: v.payment,
      };
    },
  },
  {
    kind: "duplicate keys, the last one valid",
    count: 20,
    expect: "lenient",
    note: "RFC 8259 §4: names SHOULD be unique; JSON.parse keeps the last one, which is what gets forwarded",
    make(rng) {
      const v = valid(rng);
      const text = rng.chance(0.5)
        ? `{"correlationId":${JSON.stringify(nearUuid(rng))},"amount":${v.a},"correlationId":"${v.id}"}`
        : `{"correlationId":"${v.id}","amount":-1,"amount":${v.a}}`;
      return { method: POST, path: PATH, headers: JSON_TYPE, body: text, payment: v.payment };
    },
  },
  {
    kind: "invalid UTF-8 inside a field the API drops",
    count: 20,
    expect: "lenient",
    note: "decoded to U+FFFD inside an unknown field that is never forwarded",
    make(rng) {
      const v = valid(rng);
      const body = Buffer.concat([
        utf8(`${v.text.slice(0, -1)},"note":"a`),
        Buffer.from(rng.pick(INVALID_UTF8)),
        utf8('b"}'),
      ]);
      return { method: POST, path: PATH, headers: JSON_TYPE, body, payment: v.payment };
    },
  },

  // ----------------------------------------------------------------- malformed: must be 4xx with a JSON error
  {
    kind: "truncated JSON",
    count: 1200,
    expect: "reject",
    // A JSON object cut anywhere before its closing brace is incomplete.
    make(rng) {
      const v = valid(rng);
      return { method: POST, path: PATH, headers: JSON_TYPE, body: v.text.slice(0, rng.int(1, v.text.length - 1)) };
    },
  },
  {
    kind: "JSON syntax errors",
    count: 800,
    expect: "reject",
    make(rng) {
      const v = valid(rng),
        b = v.text;
      // Starts with a non-space.
      const garbage = () => String.fromCharCode(rng.int(0x21, 0x7e)) + rng.ascii(rng.int(0, 8));
      const bad = [
        () => b.slice(0, -1),
        () => `${b.slice(0, -1)},}`,
        () => b.replaceAll('"', "'"),
        () => `{correlationId:"${v.id}",amount:${v.a}}`,
        () => b.replace('":', '" '),
        () => b.replace(",", ";"),
        () => `{/*c*/${b.slice(1)}`,
        () => `// x\n${b}`,
        () => b + b,
        () => b + garbage(),
        () => garbage() + b,
        () => `{"correlationId":"${v.id},"amount":${v.a}}`,
        () => `{"correlationId":"${v.id.slice(0, 10)}\n${v.id.slice(10)}","amount":${v.a}}`,
        () => `{"correlationId":"\\x41${v.id.slice(1)}","amount":${v.a}}`,
        () => `{"correlationId":,"amount":${v.a}}`,
        () => `{"correlationId":"${v.id}" "amount":${v.a}}`,
        () => `{"correlationId"="${v.id}","amount"=${v.a}}`,
        () => `{"correlationId":"${v.id}","amount"}`,
        () => `{${b}}`,
        () => `[${b.slice(1, -1)}]`,
        () => `{"correlationId":"${v.id}","amount":${v.a}`,
        () => `{"correlationId":"${v.id}",,"amount":${v.a}}`,
        () => `{"correlationId":"${v.id}","amount":${v.a}}}`,
        () => `{"correlationId":"${v.id}"\u00a0,"amount":${v.a}}`, // NBSP is not JSON whitespace
        () => `\u000b${b}`, // nor is a vertical tab
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(bad)() };
    },
  },
  {
    kind: "amount: not a JSON number (NaN, Infinity, +1, .5, hex...)",
    count: 400,
    expect: "reject",
    make(rng) {
      return { method: POST, path: PATH, headers: JSON_TYPE, body: payload(rng.uuid(), rng.pick(BAD_NUMBERS)) };
    },
  },
  {
    kind: "not a JSON object",
    count: 300,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const n = rng.int(10, 2000);
      const texts = [
        "null",
        "true",
        "false",
        "0",
        "42",
        "19.90",
        '"string"',
        `"${v.id}"`,
        "[]",
        `[${v.text}]`,
        `[[${v.text}]]`,
        JSON.stringify(v.text),
        "[".repeat(n) + "]".repeat(n),
        "[".repeat(n),
      ]; // deep arrays: closed (not an object), unclosed (not JSON)
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(texts) };
    },
  },
  {
    kind: "correlationId of the wrong type",
    count: 400,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      return {
        method: POST,
        path: PATH,
        headers: JSON_TYPE,
        body: `{"correlationId":${rng.pick(NOT_STRINGS).replaceAll("%U", v.id)},"amount":${v.a}}`,
      };
    },
  },
  {
    kind: "amount of the wrong type",
    count: 400,
    expect: "reject",
    make(rng) {
      return { method: POST, path: PATH, headers: JSON_TYPE, body: payload(rng.uuid(), rng.pick(NOT_NUMBERS)) };
    },
  },
  {
    kind: "missing or misnamed fields",
    count: 400,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const texts = [
        "{}",
        `{"correlationId":"${v.id}"}`,
        `{"amount":${v.a}}`,
        `{${JSON.stringify(rng.pick(NOT_ID_KEYS))}:"${v.id}","amount":${v.a}}`,
        `{"correlationId":"${v.id}",${JSON.stringify(rng.pick(NOT_AMOUNT_KEYS))}:${v.a}}`,
        `{${JSON.stringify(rng.pick(NOT_ID_KEYS))}:"${v.id}",${JSON.stringify(rng.pick(NOT_AMOUNT_KEYS))}:${v.a}}`,
        `{"correlationId":null,"amount":${v.a}}`,
        `{"correlationId":"${v.id}","amount":null}`,
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(texts) };
    },
  },
  {
    kind: "nested objects and arrays",
    count: 200,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const deep = (inner: string, n: number) => "[".repeat(n) + inner + "]".repeat(n);
      const deepObj = (inner: string, n: number) => '{"a":'.repeat(n) + inner + "}".repeat(n);
      const texts = [
        `{"payment":${v.text}}`,
        `{"data":{"correlationId":"${v.id}","amount":${v.a}}}`,
        `{"correlationId":{"correlationId":"${v.id}"},"amount":${v.a}}`,
        `{"correlationId":"${v.id}","amount":{"amount":${v.a}}}`,
        `{"correlationId":${deep(`"${v.id}"`, rng.int(1, 1500))},"amount":${v.a}}`,
        `{"correlationId":"${v.id}","amount":${deep(v.a, rng.int(1, 1500))}}`,
        `{"correlationId":${deepObj(`"${v.id}"`, rng.int(1, 600))},"amount":${v.a}}`,
        `{"correlationId":["${v.id}"],"amount":[${v.a}]}`,
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(texts) };
    },
  },
  {
    kind: "prototype keys (__proto__, constructor)",
    count: 50,
    expect: "reject",
    // JSON.parse makes "__proto__" an own property: the fields under it are not the payment's.
    make(rng) {
      const v = valid(rng);
      const texts = [
        `{"__proto__":${v.text}}`,
        `{"correlationId":"${v.id}","__proto__":{"amount":${v.a}}}`,
        `{"__proto__":{"correlationId":"${v.id}"},"amount":${v.a}}`,
        `{"constructor":{"prototype":{"amount":${v.a}}},"correlationId":"${v.id}"}`,
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(texts) };
    },
  },
  {
    kind: "correlationId not a UUID (near misses, lengths, unicode)",
    count: 1500,
    expect: "reject",
    make(rng) {
      return {
        method: POST,
        path: PATH,
        headers: JSON_TYPE,
        body: `{"correlationId":${JSON.stringify(nearUuid(rng))},"amount":${amountText(rng, cents(rng))}}`,
      };
    },
  },
  {
    kind: "amount zero or negative (incl. -0)",
    count: 400,
    expect: "reject",
    make(rng) {
      const a = rng.chance(0.4)
        ? rng.pick([
            "0",
            "0.0",
            "0.00",
            "-0",
            "-0.0",
            "-0.00",
            "0e0",
            "0E10",
            "-0e-5",
            "0.000",
            "-0.01",
            "-1",
            "-19.90",
            "-1e400",
            "-1000000",
            "-1000000.01",
          ])
        : `-${amountText(rng, cents(rng))}`;
      return { method: POST, path: PATH, headers: JSON_TYPE, body: payload(rng.uuid(), a) };
    },
  },
  {
    kind: "amount with more than 2 decimals",
    count: 600,
    expect: "reject",
    // A last decimal digit that is not 0 at the 3rd..6th place: at most 1e-6 from a cent, far above double
    // precision here.
    make(rng) {
      const a = rng.chance(0.2)
        ? rng.pick([
            "0.001",
            "0.005",
            "0.009",
            "1.0001",
            "19.999",
            "19.901",
            "19.905",
            "0.015",
            "1e-3",
            "5e-324",
            "1e-7",
            "1.2345e1",
            "0.0000001",
            "2.675",
          ])
        : `${rng.int(0, 999_999)}.${digits(rng, rng.int(2, 5))}${rng.int(1, 9)}`;
      return { method: POST, path: PATH, headers: JSON_TYPE, body: payload(rng.uuid(), a) };
    },
  },
  {
    kind: "amount too large or not finite (1e400, 1e21, > 1,000,000)",
    count: 400,
    expect: "reject",
    make(rng) {
      const a = rng.chance(0.5)
        ? rng.pick([
            "1e400",
            "1E400",
            "1e308",
            "1.7976931348623157e308",
            "1e21",
            "9007199254740993",
            "1000000.01",
            "1000001",
            "99999999999",
            "1e7",
            "123456789012345678901234567890",
            `1${"0".repeat(400)}`,
            "2e6",
            "1000000.001",
            `1${"0".repeat(20)}.5`,
          ])
        : `${rng.int(1_000_001, 1e15)}${rng.chance(0.5) ? `.${rng.int(0, 99)}` : ""}`;
      return { method: POST, path: PATH, headers: JSON_TYPE, body: payload(rng.uuid(), a) };
    },
  },
  {
    kind: "oversized body (over 4 KiB, with content-length)",
    count: 150,
    expect: "reject",
    // An otherwise valid payment: only the size is wrong.
    make(rng) {
      const p = padded(rng, rng.int(MAX_BODY + 1, 4 * MAX_BODY), rng.pick(["x", "x", "é", "€", "😀"]));
      return { method: POST, path: PATH, headers: JSON_TYPE, body: p.text, payment: p.payment, mayClose: true };
    },
  },
  {
    kind: "oversized body (over 4 KiB, chunked: no content-length)",
    count: 100,
    expect: "reject",
    make(rng) {
      const p = padded(rng, rng.int(MAX_BODY + 1, 4 * MAX_BODY));
      return {
        method: POST,
        path: PATH,
        headers: JSON_TYPE,
        body: chunks(rng, p.text),
        payment: p.payment,
        mayClose: true,
      };
    },
  },
  {
    kind: "oversized body in multi-byte characters (over 4 KiB but under 4096 characters, chunked)",
    count: 20,
    expect: "reject",
    // The limit is in bytes (what a body costs on the wire and in memory), not in UTF-16 code units.
    make(rng) {
      const p = padded(rng, rng.int(MAX_BODY + 200, 2 * MAX_BODY), rng.pick(["€", "😀"]));
      return {
        method: POST,
        path: PATH,
        headers: JSON_TYPE,
        body: chunks(rng, p.text),
        payment: p.payment,
        mayClose: true,
      };
    },
  },
  {
    kind: "multi-MB body (5 MiB, with and without content-length)",
    count: 2,
    expect: "reject",
    make(rng, i) {
      const v = valid(rng);
      return {
        method: POST,
        path: PATH,
        headers: JSON_TYPE,
        body: { big: 5 * 1024 * 1024, chunked: i % 2 === 1, payment: v.text },
        payment: v.payment,
        mayClose: true,
      };
    },
  },
  {
    kind: "empty or blank body",
    count: 100,
    expect: "reject",
    make(rng) {
      const headers: Record<string, string> = rng.chance(0.8) ? { "content-type": rng.pick(JSON_TYPES) } : {};
      return { method: POST, path: PATH, headers, body: rng.pick(["", "", " ", "\n", "\t\r\n", "  \n  "]) };
    },
  },
  {
    kind: "valid body with a wrong or missing content type",
    count: 300,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const type = rng.pick([
        undefined,
        "text/plain",
        "text/plain; charset=utf-8",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "text/xml",
        "application/octet-stream",
        "*/*",
        "json",
        "application/javascript",
        "application/x-json",
        "text/html",
        "image/png",
        "application/x-ndjson",
        "APPLICATION/XML",
        "",
        "application/",
        "application",
        "text/application/json",
      ]);
      const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
      return { method: POST, path: PATH, headers, body: v.text, payment: v.payment };
    },
  },
  {
    kind: "valid body with a content type that only starts like application/json",
    count: 20,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const type = rng.pick([
        "application/jsonp",
        "application/json-seq",
        "application/jsonx",
        "application/json5",
        "application/jsonlines",
      ]);
      return { method: POST, path: PATH, headers: { "content-type": type }, body: v.text, payment: v.payment };
    },
  },
  {
    kind: "duplicate keys, the last one invalid",
    count: 200,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const texts = [
        `{"correlationId":"${v.id}","amount":${v.a},"correlationId":${JSON.stringify(nearUuid(rng))}}`,
        `{"correlationId":"${v.id}","amount":${v.a},"amount":${rng.pick(BAD_AMOUNTS)}}`,
        `{"correlationId":"${v.id}","correlationId":123,"amount":${v.a}}`,
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(texts) };
    },
  },
  {
    kind: "BOM and UTF-16 bodies",
    count: 100,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const bodies = [
        () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(v.text, "utf16le")]),
        () => Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(v.text)]),
        () => Buffer.from(v.text, "utf16le"),
        () => Buffer.concat([bom, utf8(v.text.slice(0, -1))]),
        () => Buffer.concat([utf8(v.text), bom]),
        () => utf8(v.text.replace(v.id, `${v.id.slice(0, 8)}\ufeff${v.id.slice(8)}`)),
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(bodies)() };
    },
  },
  {
    kind: "invalid UTF-8 bytes",
    count: 300,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const b = utf8(v.text);
      const idStart = b.indexOf(v.id);
      const splice = (at: number, bytes: number[], del = 1) =>
        Buffer.concat([b.subarray(0, at), Buffer.from(bytes), b.subarray(at + del)]);
      const i = idStart + rng.int(0, 35);
      const bodies = [
        () => splice(i, rng.pick(INVALID_UTF8)), // a character of the id replaced by bad bytes
        () => splice(i, overlong(v.id[i - idStart]!)), // ...by its overlong spelling
        () => splice(b.indexOf(",") + 1, rng.pick(INVALID_UTF8), 0), // between tokens
        // inside the amount
        () => splice(b.lastIndexOf(":") + 1 + rng.int(0, v.a.length - 1), rng.pick(INVALID_UTF8), 0),
        () => splice(0, rng.pick(INVALID_UTF8), 0), // before the object
      ];
      return { method: POST, path: PATH, headers: JSON_TYPE, body: rng.pick(bodies)() };
    },
  },
  {
    kind: "random bytes",
    count: 300,
    expect: "reject",
    make(rng) {
      const n = rng.int(1, 600);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = rng.int(0, 255);
      return { method: POST, path: PATH, headers: JSON_TYPE, body: b };
    },
  },
  {
    kind: "valid body to a wrong method or path",
    count: 100,
    expect: "reject",
    make(rng) {
      const v = valid(rng);
      const [method, path] = rng.pick([
        ["GET", PATH],
        ["DELETE", PATH],
        ["PUT", PATH],
        ["PATCH", PATH],
        ["OPTIONS", PATH],
        ["POST", "/payments/"],
        ["POST", "/Payments"],
        ["POST", "/PAYMENTS"],
        ["POST", `/payments/${v.id}`],
        ["POST", "/payment"],
        ["POST", "/payments-summary"],
        ["POST", "/v1/payments"],
        ["POST", "/payments.json"],
        ["POST", "//payments"],
      ] as const);
      const withBody = method !== "GET" && method !== "DELETE" && method !== "OPTIONS";
      return { method, path, headers: JSON_TYPE, ...(withBody ? { body: v.text, payment: v.payment } : {}) };
    },
  },
];
