// Exact decimal arithmetic for the emulator. The processor stores amounts as decimals rounded to
// 2 places with banker's rounding, so we round the JSON number TEXT (not a float: 2.675 as a double
// is 2.67499999..., as a decimal it is 2.675 and rounds half-to-even to 2.68) into integer cents.

const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Largest accepted |amount| in cents (1e12 in money): keeps cents and their sums exact in a JS number. */
export const MAX_CENTS = 100_000_000_000_000;

/** An exact decimal: units * 10^-scale. */
export interface Decimal {
  units: bigint;
  scale: number;
}

/** Parses JSON number text (or any plain decimal/exponent text) exactly; undefined if it is not one. */
export function parseDecimal(text: string): Decimal | undefined {
  if (text.length > 400) return undefined; // no amount is that long; keeps BigInt work bounded
  const m = NUMBER_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [, sign, int = "", frac = "", expText] = m;
  const exp = expText === undefined ? 0 : Number(expText);
  // Absurd exponents are not amounts; refusing them keeps the BigInt work bounded.
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) return undefined;
  let units = BigInt(int + frac);
  let scale = frac.length - exp;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === "-" ? -units : units, scale };
}

/**
 * Decimal text -> integer cents, rounded half-to-even. undefined when the text is not a number or
 * the amount is beyond MAX_CENTS.
 */
export function decimalTextToCents(text: string): number | undefined {
  const d = parseDecimal(text);
  if (!d) return undefined;
  const cents = roundHalfEven(d, 2);
  const abs = cents < 0n ? -cents : cents;
  if (abs > BigInt(MAX_CENTS)) return undefined;
  return Number(cents) || 0; // `|| 0` turns -0 into 0
}

/** Rounds d to `places` decimals, half-to-even; returns the integer units at that scale. */
export function roundHalfEven(d: Decimal, places: number): bigint {
  if (d.scale <= places) return d.units * 10n ** BigInt(places - d.scale);
  const div = 10n ** BigInt(d.scale - places);
  const neg = d.units < 0n;
  const abs = neg ? -d.units : d.units;
  let q = abs / div;
  const r = abs % div;
  const twice = r * 2n;
  if (twice > div || (twice === div && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** Formats integer units at a scale as decimal text, e.g. (1990n, 2) -> "19.90", (-5n, 2) -> "-0.05". */
export function formatScaled(units: bigint | number, scale: number): string {
  const u = BigInt(units);
  const neg = u < 0n;
  let digits = (neg ? -u : u).toString();
  if (scale === 0) return (neg ? "-" : "") + digits;
  digits = digits.padStart(scale + 1, "0");
  const cut = digits.length - scale;
  return `${(neg ? "-" : "") + digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/** Integer cents -> "x.yy". */
export function formatCents(cents: number | bigint): string {
  return formatScaled(cents, 2);
}

/** Exact fee on a total: cents * fee, at scale 2 + fee's scale (what a decimal multiply gives). */
export function feeText(totalCents: number | bigint, fee: Decimal): string {
  return formatScaled(BigInt(totalCents) * fee.units, 2 + fee.scale);
}
