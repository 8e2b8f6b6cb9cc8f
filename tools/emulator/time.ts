// ISO-8601 timestamps -> epoch MICROseconds. The processor keeps requested_at in Postgres, which
// has microsecond precision, so a sub-millisecond requestedAt must compare like it does there (not
// be cut to the ms by Date.parse). A missing zone is read as UTC.

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Epoch microseconds of an ISO-8601 timestamp, or undefined when it is not one. */
export function parseTimestampMicros(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4] ?? 0);
  const mi = Number(m[5] ?? 0);
  const s = Number(m[6] ?? 0);
  if (mo < 1 || mo > 12 || d < 1) return undefined;
  if (d > (mo === 2 && !isLeap(y) ? 28 : DAYS[mo - 1]!)) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  let ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (y < 100) ms = new Date(ms).setUTCFullYear(y); // Date.UTC maps years 0..99 to 19xx
  // Digits past the microsecond are truncated, as a 100 ns .NET DateTime -> Postgres µs would be.
  const us = Number(`${m[7] ?? ""}000000`.slice(0, 6));
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return ms * 1000 + us - offsetMin * 60_000_000;
}
