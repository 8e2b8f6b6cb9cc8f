import { expect } from "vitest";
import { type Books, type CheckReport, checkBooks } from "../../../tools/lib/faults/books";

/** The three checks for a vitest case: fails listing every difference found. */
export async function expectThreeChecks(
  b: Books,
  opts: { windows?: number; drainTimeoutMs?: number } = {},
): Promise<CheckReport> {
  const { report, problems } = await checkBooks(b, opts);
  expect(problems, "the three checks (exactly once, books equal, never at both)").toEqual([]);
  return report;
}
