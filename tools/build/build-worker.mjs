// Bundles the Workers entry (adapters/runtimes/workers/worker.ts) into one ES module for workerd: dist/worker.js.
// `node tools/build/build-worker.mjs [outfile]`, or import { buildWorker } from it.

import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Builds the Worker bundle; resolves the absolute path of the file written. */
export async function buildWorker({
  outfile = resolve(root, "dist/worker.js"),
  entry = "adapters/runtimes/workers/worker.ts",
  minify = false,
} = {}) {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true, // hono and valibot go inside: workerd has no node_modules
    format: "esm",
    platform: "neutral", // no Node built-ins: an import of one fails the build instead of failing in workerd
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*"], // workerd's own modules
    target: "es2022",
    minify,
    sourcemap: true,
    logLevel: "warning",
  });
  return resolve(root, outfile);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = await buildWorker(process.argv[2] ? { outfile: resolve(process.argv[2]) } : {});
  console.log(`built ${out}`);
}
