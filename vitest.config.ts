import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The overload suite offers 5x the contest's peak (3,000 POST/s) with its own load generator and both
    // processor emulators on the same 2 cores; that saturates this machine, so it is a measurement run
    // on demand (`npm run test:overload`), not part of `npm test`. README states what it showed.
    exclude: [...configDefaults.exclude, ...(process.env.OVERLOAD === "1" ? [] : ["test/overload.test.ts"])],
  },
});
