// Bundles the TypeScript entries into plain JavaScript (no TypeScript at run time).
import { build } from "esbuild";

await build({
  entryPoints: { node: "adapters/runtimes/node/main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external", // node_modules stay as they are; the image ships them
  sourcemap: true,
  logLevel: "warning",
});
