import { configDefaults, defineConfig } from "vitest/config";

/**
 * Suites that must have the machine's cores to themselves, so `npm test` runs them afterwards, one at a time
 * (`npm run test:alone`): the overload suite offers 5x the contest's peak (3,000 POST/s) with its own load
 * generator and both processor emulators; the contest smoke runs the whole stack under the compose CPU limits
 * and is scored by the contest's timing rules (a payment counted within ~1.5 s), which a stack starved by
 * other test files fails (seen: lag 470 while the rest of the suite ran beside it). The API kill test counts
 * failed POSTs, which grow with how long requests wait inside a starved instance.
 */
export const ALONE = ["test/contest-smoke.test.ts", "test/overload.test.ts", "test/api-kill.test.ts"];

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, ...(process.env.ALONE === "1" ? [] : ALONE)],
  },
});
