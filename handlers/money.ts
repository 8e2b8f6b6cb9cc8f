// Money is integer cents inside; decimals only at the edges (JSON in, JSON out).

/** Largest accepted amount: keeps any realistic sum of cents far below Number.MAX_SAFE_INTEGER. */
export const MAX_AMOUNT = 1_000_000;

/**
 * Cents for a JSON amount, or null when it is not a positive amount with at most 2 decimals.
 * JSON.parse("19.90") and 1990 / 100 are both the double nearest to 19.9 (IEEE division rounds correctly),
 * so equality is exact; a third decimal, or float noise such as 0.30000000000000004, fails it.
 */
export function toCents(amount: number): number | null {
  if (!Number.isFinite(amount) || amount <= 0 || amount > MAX_AMOUNT) return null;
  const cents = Math.round(amount * 100);
  return cents >= 1 && cents / 100 === amount ? cents : null;
}

/** "1234.50": exact, no float formatting involved. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const frac = abs % 100;
  return `${sign}${(abs - frac) / 100}.${frac < 10 ? "0" : ""}${frac}`;
}

/** Cents from an amount a processor reports (already rounded to 2 decimals there). */
export function centsFromProcessor(amount: number): number {
  return Math.round(amount * 100);
}
