// Builds Worker bundles for the Workers tests into a private temp folder (not dist/, which a concurrent
// `npm run build` may be writing), with the same esbuild settings as dist/worker.js.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { buildWorker } from "../../../tools/build/build-worker.mjs";

const dir = mkdtempSync(join(tmpdir(), "rinha-worker-"));
const built = new Map<string, Promise<string>>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `entry` (default the real Worker entry) once per test file; resolves the bundle's path. */
export function bundle(entry = "adapters/runtimes/workers/worker.ts"): Promise<string> {
  let p = built.get(entry);
  if (!p) {
    p = buildWorker({ entry, outfile: join(dir, `${built.size}-${entry.replace(/[^a-z0-9]+/gi, "_")}.js`) });
    built.set(entry, p);
  }
  return p;
}
