// Exact decimal arithmetic for money and percentages: BigInt fixed point with 8 decimals.
// Why: the official script used big.js, and summing 90k amounts or multiplying by 0.07 in
// floats drifts in the last digits; 8 decimals hold cents x 4-decimal fees x 2-decimal factors.

export type Dec = bigint;
const SCALE = 100_000_000n;
const DIGITS = 8;

/** Parses the shortest decimal form of a number (what big.js does with `new Big(x)`). */
export function dec(x: number | string): Dec {
  const s = typeof x === "number" ? numberToPlain(x) : x.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`not a decimal number: ${JSON.stringify(x)}`);
  const neg = m[1] === "-";
  const frac = m[3] ?? "";
  let v = BigInt((m[2] || "0") + frac.slice(0, DIGITS).padEnd(DIGITS, "0"));
  // Half-up on the first dropped digit (digits beyond 8 never occur in our inputs, but be exact anyway).
  if (frac.length > DIGITS && frac.charCodeAt(DIGITS) >= 53 /* '5' */) v += 1n;
  return neg ? -v : v;
}

/** Number -> plain decimal string without exponent, from its shortest round-trip form. */
function numberToPlain(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  const s = String(x);
  const e = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!e) return s;
  const digits = e[2]! + (e[3] ?? "");
  const exp = Number(e[4]);
  if (exp < 0) return `${e[1]}0.${"0".repeat(-exp - 1)}${digits}`;
  return e[1] + digits.padEnd(exp + 1, "0");
}

export function add(...xs: Dec[]): Dec {
  return xs.reduce((a, b) => a + b, 0n);
}

/** a*b rounded half-up (away from zero on .5, like big.js ROUND_HALF_UP) to 8 decimals. */
export function mul(a: Dec, b: Dec): Dec {
  return divRound(a * b, SCALE);
}

function divRound(n: bigint, d: bigint): bigint {
  const neg = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (an * 2n + ad) / (ad * 2n);
  return neg ? -q : q;
}

/** Rounds half-up to `places` decimals. */
export function round(a: Dec, places: number): Dec {
  const unit = 10n ** BigInt(DIGITS - places);
  return divRound(a, unit) * unit;
}

/** Nearest double to the exact decimal (its String() is the decimal itself for money-sized values). */
export function toNumber(a: Dec): number {
  return Number(a) / Number(SCALE);
}

/** Integer percent -> Dec fraction (20 -> 0.20). */
export function percent(p: number): Dec {
  return (BigInt(p) * SCALE) / 100n;
}

export const ONE: Dec = SCALE;
