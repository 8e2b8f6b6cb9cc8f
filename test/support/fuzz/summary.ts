// Generators for GET /payments-summary?from&to. Values are percent-encoded unless the kind is about raw encoding.

import type { Rng } from "../../../tools/lib/rng";
import type { FuzzCase, Generator } from "./cases";

const GET = "GET";
const enc = encodeURIComponent;
const q = (params: [string, string][], raw = false) =>
  `/payments-summary?${params.map(([k, v]) => `${k}=${raw ? v : enc(v)}`).join("&")}`;

/** A time in 2020..2030, in ms. */
const someMs = (rng: Rng) => Date.UTC(2020, 0, 1) + Math.floor(rng.next() * 10 * 365 * 86_400_000);

/** Zones that are not one, or not where they may stand. */
const BAD_ZONES = ["+24:00", "+99:99", "+00:60", "+1", "+123", "+12:3", "UTC", "GMT", "+00:00Z", "ZZ", " UTC"];

/** `ms` as ISO-8601 with a random (exact) offset, 0..9 fraction digits or no seconds: never later than `ms`. */
function isoVariant(rng: Rng, ms: number): string {
  const offMin = rng.chance(0.6) ? 0 : rng.int(-12 * 60, 14 * 60);
  const d = new Date(ms + offMin * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const day = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  const date = `${day}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
  const digits = rng.int(-1, 9);
  const frac = `${p(d.getUTCMilliseconds(), 3)}000000`;
  const time = digits < 0 ? "" : `:${p(d.getUTCSeconds())}${digits === 0 ? "" : `.${frac.slice(0, digits)}`}`;
  if (offMin === 0 && rng.chance(0.7)) return `${date}${time}Z`;
  const sign = offMin < 0 ? "-" : "+",
    a = Math.abs(offMin);
  return `${date}${time}${sign}${p(Math.floor(a / 60))}${rng.chance(0.8) ? ":" : ""}${p(a % 60)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Text that can never pass as an ISO-8601 timestamp (near misses of a real one). */
function nearIso(rng: Rng): string {
  const t = iso(someMs(rng)); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const [date, rest] = t.split("T") as [string, string];
  const set = (from: number, to: number, v: string) => t.slice(0, from) + v + t.slice(to);
  return rng.pick([
    () => date,
    () => t.slice(0, -1), // no zone
    () => t.replace("T", " "),
    () => t.replace("T", "t"),
    () => t.replace("Z", "z"),
    () => t.slice(2),
    () => `+0${t}`,
    () => set(5, 7, rng.pick(["13", "00", "99"])),
    () => set(8, 10, rng.pick(["32", "00", "99"])),
    () => set(11, 13, rng.pick(["25", "99"])),
    () => set(14, 16, rng.pick(["60", "99"])),
    () => set(17, 19, rng.pick(["60", "61", "99"])),
    () => `${t.slice(0, -1)}${rng.pick(BAD_ZONES)}`,
    () => t.replace(/\.\d+/, "."),
    () => t.replace(/\.\d+/, `.${"1".repeat(rng.int(10, 30))}`),
    () => t.replace(".", ","),
    () => t.replace(/:\d\d\./, "."),
    () => `${t}${String.fromCharCode(rng.int(0x21, 0x7e))}`,
    () => ` ${t}`,
    () => `${t} `,
    () => `${t}\n`,
    () => `${date.replaceAll("-", "/")}T${rest}`,
    () => String(Date.parse(t)),
    () => String(Math.floor(Date.parse(t) / 1000)),
    () => t.replace(/^(\d{4})-\d(\d)/, "$1-$2"), // a one-digit month
    () => `${date}T`,
    () => `${date}T${rest.slice(0, 2)}Z`,
    () => t.replace(/^(\d{4})/, (y) => String(Number(y)).slice(0, 3)),
    () => t.replace(/T(\d\d)/, (_, h) => `T${Number(h) % 10}`),
  ])();
}

const GARBAGE_WORDS = [
  "null",
  "undefined",
  "now",
  "today",
  "yesterday",
  "-1",
  "0",
  "true",
  "[]",
  "{}",
  "NaN",
  "Infinity",
  "latest",
  "*",
  "'; DROP TABLE payments; --",
  "<script>",
  "$" + "{from}",
  "%s%s%s",
]; // a template placeholder, as text

/** Text that is not a timestamp at all: ASCII, words, unicode. */
function garbage(rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return rng.ascii(rng.int(1, 40));
    case 1:
      return rng.pick(GARBAGE_WORDS);
    case 2:
      return Array.from({ length: rng.int(1, 20) }, () =>
        String.fromCodePoint(rng.pick([rng.int(0xa0, 0x2fff), rng.int(0x1f300, 0x1f64f), rng.int(0x4e00, 0x9fff)])),
      ).join("");
    default:
      return `${rng.ascii(rng.int(0, 5))}\u0000${rng.ascii(rng.int(0, 5))}`;
  }
}

/** A bad value in `from` or `to` (or both); the other one valid or absent. */
function oneBad(rng: Rng, bad: string, raw = false): Pick<FuzzCase, "method" | "path" | "headers"> {
  const good = isoVariant(rng, someMs(rng));
  const which = rng.int(0, 4);
  const params: [string, string][] =
    which === 0
      ? [["from", bad]]
      : which === 1
        ? [["to", bad]]
        : which === 2
          ? [
              ["from", bad],
              ["to", good],
            ]
          : which === 3
            ? [
                ["from", good],
                ["to", bad],
              ]
            : [
                ["from", bad],
                ["to", bad],
              ];
  if (raw)
    return {
      method: GET,
      path: `/payments-summary?${params.map(([k, v]) => `${k}=${v === bad ? v : enc(v)}`).join("&")}`,
      headers: {},
    };
  return { method: GET, path: q(params), headers: {} };
}

export const SUMMARY_GENERATORS: Generator[] = [
  {
    kind: "summary: valid window",
    count: 150,
    expect: "summary",
    note:
      "no bounds, one bound, both (from <= to, both ends may be equal), offsets, 0..9 fraction digits, empty " +
      "values, extra params",
    make(rng) {
      const a = someMs(rng),
        b = a + (rng.chance(0.2) ? 0 : rng.int(0, 86_400_000 * 30));
      const shapes: [string, string][][] = [
        // isoVariant(ms) lies in (ms - 60 s, ms]: `to` is spelled from b + 60 s so that it never falls before `from`.
        [],
        [["from", isoVariant(rng, a)]],
        [["to", isoVariant(rng, b)]],
        [
          ["from", isoVariant(rng, a)],
          ["to", isoVariant(rng, b + 60_000)],
        ],
        [
          ["to", isoVariant(rng, b + 60_000)],
          ["from", isoVariant(rng, a)],
        ],
        [
          ["from", ""],
          ["to", ""],
        ],
        [
          ["from", iso(a)],
          ["to", iso(a)],
        ],
        [
          ["from", iso(a)],
          ["to", iso(b)],
          ["page", "2"],
        ],
        [
          ["from", iso(a)],
          ["to", ""],
        ],
      ];
      const params = rng.pick(shapes);
      return { method: GET, path: params.length ? q(params) : "/payments-summary", headers: {} };
    },
  },
  {
    kind: "summary: repeated params, one of them valid",
    count: 40,
    expect: "summary-lenient",
    note:
      "URLSearchParams-style APIs take one of the values (Hono: the first): a 200 for the valid one or a 400 are " +
      "both defensible",
    make(rng) {
      const good = iso(someMs(rng)),
        bad = garbage(rng);
      const name = rng.pick(["from", "to"]);
      return {
        method: GET,
        path: q(
          rng.chance(0.5)
            ? [
                [name, good],
                [name, bad],
              ]
            : [
                [name, bad],
                [name, good],
              ],
        ),
        headers: {},
      };
    },
  },
  {
    kind: "summary: garbage from/to",
    count: 500,
    expect: "reject",
    make(rng) {
      return oneBad(rng, garbage(rng));
    },
  },
  {
    kind: "summary: near-ISO from/to (no zone, date only, out-of-range fields, bad offsets...)",
    count: 600,
    expect: "reject",
    make(rng) {
      return oneBad(rng, nearIso(rng));
    },
  },
  {
    kind: "summary: a calendar date that does not exist (Feb 30, Apr 31, Feb 29 in 2025)",
    count: 30,
    expect: "reject",
    make(rng) {
      const day = rng.pick([
        "2025-02-29",
        "2025-02-30",
        "2025-02-31",
        "2024-02-30",
        "2025-04-31",
        "2025-06-31",
        "2025-09-31",
        "2025-11-31",
        "2100-02-29",
      ]);
      // Alone, so that nothing else about the window (e.g. its order) can be why it is refused.
      return {
        method: GET,
        path: q([[rng.pick(["from", "to"]), `${day}T${iso(someMs(rng)).slice(11)}`]]),
        headers: {},
      };
    },
  },
  {
    kind: "summary: percent-encoding garbage (raw in the URL)",
    count: 100,
    expect: "reject",
    make(rng) {
      const t = iso(someMs(rng));
      const bad = rng.pick([
        "%zz",
        "%",
        "%E0%A4%A",
        "%ff",
        "%00",
        "%C0%AF",
        `${enc(t)}%00`,
        "%2",
        "%%",
        `%${enc(t)}`,
        "%u2025",
        "%E2%80%AE",
        `${enc(t)}%0A`,
      ]);
      return oneBad(rng, bad, true);
    },
  },
  {
    kind: "summary: reversed window (from after to)",
    count: 300,
    expect: "reject",
    make(rng) {
      const to = someMs(rng),
        from = to + rng.pick([1, 1000, rng.int(2, 86_400_000 * 365)]);
      // isoVariant never rounds up; so give `from` full precision and `to` its own spelling a full second earlier.
      return {
        method: GET,
        path: q(
          rng.chance(0.5)
            ? [
                ["from", iso(from)],
                ["to", isoVariant(rng, to - 1000)],
              ]
            : [
                ["to", iso(to)],
                ["from", iso(from)],
              ],
        ),
        headers: {},
      };
    },
  },
  {
    kind: "summary: very long from/to (1-8 KB)",
    count: 100,
    expect: "reject",
    make(rng) {
      const t = iso(someMs(rng));
      // One long value (ASCII at most 3.5 KB: percent-encoding may triple it), under Node's 16 KiB header limit.
      const bad = rng.pick([
        () => rng.ascii(rng.int(1000, 3500)),
        () => t.replace(/\.\d+/, `.${"0".repeat(rng.int(1000, 8000))}`),
        () => t + "Z".repeat(rng.int(1000, 8000)),
        () => "2".repeat(rng.int(1000, 8000)),
      ])();
      const good = iso(someMs(rng));
      return {
        method: GET,
        path: q(
          rng.pick([
            [["from", bad]],
            [["to", bad]],
            [
              ["from", bad],
              ["to", good],
            ],
            [
              ["from", good],
              ["to", bad],
            ],
          ] as [string, string][][]),
        ),
        headers: {},
      };
    },
  },
  {
    kind: "summary: URL beyond Node's 16 KiB header limit",
    count: 3,
    expect: "reject-any",
    note:
      "Node's HTTP parser answers 431 and closes, maybe while the client is still writing: a 4xx (not our JSON) " +
      "or a closed connection",
    make(_rng, i) {
      return {
        method: GET,
        path: q([["from", "9".repeat([20_000, 64_000, 200_000][i % 3]!)]]),
        headers: {},
        mayClose: true,
      };
    },
  },
  {
    kind: "summary: repeated params, all bad",
    count: 100,
    expect: "reject",
    make(rng) {
      const name = rng.pick(["from", "to"]);
      const params: [string, string][] = Array.from({ length: rng.int(2, 6) }, () => [
        name,
        rng.chance(0.5) ? garbage(rng) : nearIso(rng),
      ]);
      return { method: GET, path: q(params), headers: {} };
    },
  },
  {
    kind: "summary: unicode digits and invisible characters in a timestamp",
    count: 100,
    expect: "reject",
    make(rng) {
      const t = iso(someMs(rng));
      const bad = rng.pick([
        () => t.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))), // full-width
        () => t.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d))), // Arabic-Indic
        () => t.replace(/\d/, (d) => String.fromCharCode(0x0966 + Number(d))), // one Devanagari digit
        () => {
          const i = rng.int(1, t.length - 1);
          return t.slice(0, i) + rng.pick(["\u200b", "\u200e", "\u202e", "\ufeff", "\u00ad"]) + t.slice(i);
        },
        () => t.replace("T", "\u0422"), // Cyrillic Te
        () => t.replace(/-/g, "\u2010"),
      ])();
      return oneBad(rng, bad);
    },
  },
  {
    kind: "summary: wrong method",
    count: 20,
    expect: "reject",
    make(rng) {
      return {
        method: rng.pick(["POST", "PUT", "DELETE", "PATCH"]),
        path: q([["from", iso(someMs(rng))]]),
        headers: {},
      };
    },
  },
];
