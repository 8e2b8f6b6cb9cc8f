// Where the repository and its Node bundle are, and whether the bundle is current.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_DIR = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** What `npm run build` writes and `npm start` runs. */
export const NODE_BUNDLE = join(REPO_DIR, "dist", "node.js");

/** What dist/node.js is built from. */
const BUNDLE_SOURCES = ["handlers", "adapters", "tools/build/build.mjs", "package.json", "package-lock.json"];

function newest(path: string): { file: string; mtimeMs: number } {
  if (!existsSync(path)) return { file: path, mtimeMs: 0 };
  const st = statSync(path);
  if (!st.isDirectory()) return { file: path, mtimeMs: st.mtimeMs };
  let best = { file: path, mtimeMs: 0 };
  for (const e of readdirSync(path)) {
    if (e === "node_modules") continue;
    const n = newest(join(path, e));
    if (n.mtimeMs > best.mtimeMs) best = n;
  }
  return best;
}

/** The newest source file when it is newer than dist/node.js (or "missing" without a bundle), else undefined. */
export function bundleStaleness(): string | undefined {
  if (!existsSync(NODE_BUNDLE)) return "missing";
  const built = statSync(NODE_BUNDLE).mtimeMs;
  const src = BUNDLE_SOURCES.map((p) => newest(join(REPO_DIR, p))).reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return src.mtimeMs > built ? src.file.slice(REPO_DIR.length + 1) : undefined;
}

/** Runs `npm run build` when dist/node.js is missing or older than what it is built from; returns its path. */
export function ensureBuilt(log: (m: string) => void): string {
  if (bundleStaleness() === undefined) return NODE_BUNDLE;
  log(`building ${NODE_BUNDLE} (npm run build)...`);
  const r = spawnSync("npm", ["run", "build", "--silent"], {
    cwd: REPO_DIR,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0 || !existsSync(NODE_BUNDLE)) {
    throw new Error(`npm run build failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return NODE_BUNDLE;
}
