// The dependency rule of the tree, as a pure checker over (file, import specifier) pairs:
//   handlers/contract   imports nothing outside itself;
//   handlers            imports handlers/** and its packages (hono, valibot);
//   adapters/stores/X   imports handlers/contract and its own folder, plus its packages;
//   adapters/runtimes/X imports handlers, stores and its own folder, plus its packages;
//   tools, bench, test  may import the product; tools never import bench or test; bench and test never each other.
import { posix } from "node:path";
import ts from "typescript";

export interface Import {
  /** Importing file, relative to the repository, with forward slashes. */
  file: string;
  specifier: string;
}

/** The import specifiers of a TS/JS source: static, re-exports, `import type`, dynamic import(). */
export function importsOf(file: string, text: string): Import[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => ({ file, specifier: f.fileName }));
}

/** Which part of the tree a repository path belongs to: "contract", "handlers", "store:redis", "runtime:node", ... */
export function areaOf(path: string): string {
  const [top, second, third] = path.split("/");
  if (top === "handlers") return second === "contract" ? "contract" : "handlers";
  if (top === "adapters" && second === "stores" && third) return `store:${third}`;
  if (top === "adapters" && second === "runtimes" && third) return `runtime:${third}`;
  if (top === "adapters") return "adapters";
  if (top === "tools" || top === "bench" || top === "test") return top;
  return "root";
}

/** Packages (and runtime modules) each area may import; areas not listed may import any package. */
const PACKAGES: Record<string, (pkg: string) => boolean> = {
  contract: () => false,
  handlers: (p) => p === "hono" || p.startsWith("hono/") || p === "valibot",
  "store:memory": () => false,
  "store:redis": (p) => p === "redis" || p.startsWith("node:"),
  "store:workers": (p) => p === "cloudflare:workers",
  "runtime:node": (p) => p === "@hono/node-server" || p === "undici" || p.startsWith("node:"),
  "runtime:workers": (p) => p === "miniflare" || p.startsWith("node:"),
};

/** Areas each area may import from (its own area is always allowed). */
function mayImport(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === "contract") return false;
  if (from === "handlers") return to === "contract";
  if (from.startsWith("store:")) return to === "contract";
  if (from.startsWith("runtime:")) return to === "contract" || to === "handlers" || to.startsWith("store:");
  if (from === "tools") return to !== "bench" && to !== "test";
  if (from === "bench") return to !== "test";
  if (from === "test") return to !== "bench";
  return true;
}

/** One line per import that breaks the rule; empty when the tree keeps it. */
export function violations(imports: Import[]): string[] {
  const out: string[] = [];
  for (const { file, specifier } of imports) {
    const from = areaOf(file);
    if (specifier.startsWith(".")) {
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (target.startsWith("..")) {
        out.push(`${file}: imports ${specifier}, outside the repository`);
        continue;
      }
      const to = areaOf(target);
      if (!mayImport(from, to)) out.push(`${file}: ${from} must not import ${to} (${specifier})`);
    } else {
      const allowed = PACKAGES[from];
      if (allowed && !allowed(specifier)) out.push(`${file}: ${from} must not import the package ${specifier}`);
    }
  }
  return out;
}
