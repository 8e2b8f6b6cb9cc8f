// The dependency rule (test/support/layout.ts) over every source file of the repository, and the checker itself
// against imports that break it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_DIR } from "../tools/lib/repo";
import { areaOf, type Import, importsOf, violations } from "./support/layout";

const SKIP = new Set(["node_modules", "dist", "results", ".stack", ".git"]);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO_DIR, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) out.push(...sources(rel));
    } else if (/\.(ts|mts|mjs|js)$/.test(e.name)) out.push(rel);
  }
  return out;
}

describe("layout: dependencies point one way", () => {
  const files = sources("");
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(REPO_DIR, f), "utf8")));

  it("reads the whole tree", () => {
    // A checker that saw nothing would pass: make sure every part of the tree was read.
    const areas = new Set(files.map(areaOf));
    for (const a of [
      "contract",
      "handlers",
      "store:memory",
      "store:redis",
      "store:workers",
      "runtime:node",
      "runtime:workers",
      "tools",
      "bench",
      "test",
    ]) {
      expect(areas, a).toContain(a);
    }
    expect(imports.length).toBeGreaterThan(300);
  });

  it("every import of the repository keeps the rule", () => {
    expect(violations(imports)).toEqual([]);
  });

  it("no source line is wider than the formatter's lineWidth (strings and comments included)", () => {
    const width = Number(/"lineWidth":\s*(\d+)/.exec(readFileSync(join(REPO_DIR, "biome.jsonc"), "utf8"))![1]);
    expect(width).toBe(120);
    const wide = files.flatMap((f) =>
      readFileSync(join(REPO_DIR, f), "utf8")
        .split("\n")
        .flatMap((line, i) => (line.length > width ? [`${f}:${i + 1} (${line.length})`] : [])),
    );
    expect(wide).toEqual([]);
  });
});

describe("layout checker", () => {
  const cases: [file: string, specifier: string, broken: boolean][] = [
    ["handlers/contract/config.ts", "./types", false],
    ["handlers/contract/config.ts", "../policy", true],
    ["handlers/contract/log.ts", "node:fs", true],
    ["handlers/contract/types.ts", "hono", true],
    ["handlers/app.ts", "hono", false],
    ["handlers/app.ts", "hono/body-limit", false],
    ["handlers/validate.ts", "valibot", false],
    ["handlers/app.ts", "./contract/types", false],
    ["handlers/app.ts", "../adapters/stores/memory", true],
    ["handlers/app.ts", "../adapters/runtimes/node/runtime", true],
    ["handlers/app.ts", "redis", true],
    ["handlers/app.ts", "node:crypto", true],
    ["handlers/app.ts", "../tools/lib/ports", true],
    ["adapters/stores/memory/queue.ts", "../../../handlers/contract/log", false],
    ["adapters/stores/memory/queue.ts", "../../../handlers/app", true],
    ["adapters/stores/memory/queue.ts", "node:timers", true],
    ["adapters/stores/redis/connect.ts", "redis", false],
    ["adapters/stores/redis/connect.ts", "node:os", false],
    ["adapters/stores/redis/connect.ts", "undici", true],
    ["adapters/stores/redis/queue.ts", "./consumer", false],
    ["adapters/stores/redis/queue.ts", "../memory", true],
    ["adapters/stores/redis/queue.ts", "../../runtimes/node/runtime", true],
    ["adapters/stores/workers/books.ts", "cloudflare:workers", false],
    ["adapters/stores/workers/books.ts", "miniflare", true],
    ["adapters/runtimes/node/runtime.ts", "../../stores/memory", false],
    ["adapters/runtimes/node/runtime.ts", "../../../handlers", false],
    ["adapters/runtimes/node/runtime.ts", "undici", false],
    ["adapters/runtimes/node/runtime.ts", "../../../tools/lib/ports", true],
    ["adapters/runtimes/node/runtime.ts", "../../../test/support/layout", true],
    ["adapters/runtimes/node/runtime.ts", "../workers/local", true],
    ["adapters/runtimes/workers/worker.ts", "../../stores/workers/store", false],
    ["adapters/runtimes/workers/local.ts", "miniflare", false],
    ["tools/stack/stack.ts", "../lib/ports", false],
    ["tools/sim/world.ts", "../../handlers/policy", false],
    ["tools/lib/procs.ts", "../../test/support/layout", true],
    ["tools/lib/procs.ts", "../../bench/accept", true],
    ["bench/soak.ts", "../tools/lib/faults/crash-run", false],
    ["bench/soak.ts", "../test/support/faults/expect", true],
    ["test/crash.test.ts", "../bench/soak", true],
    ["test/crash.test.ts", "../tools/lib/procs", false],
    ["test/x.test.ts", "../../elsewhere/x", true],
  ];
  it.each(cases)("%s importing %s: broken %s", (file, specifier, broken) => {
    expect(violations([{ file, specifier }]).length).toBe(broken ? 1 : 0);
  });

  it("finds imports in every form: multi-line, type-only, re-exports, dynamic", () => {
    const text = [
      'import {\n  a,\n  b,\n} from "./contract/a";',
      'import type { T } from "./contract/t";',
      'export { c } from "../adapters/stores/memory";',
      'export * from "./d";',
      'const m = await import("../adapters/stores/redis");',
      'import "./side-effect";',
      '// a comment with from "../not-an-import" is not an import',
    ].join("\n");
    const found = importsOf("handlers/x.ts", text).map((i: Import) => i.specifier);
    expect(found).toEqual([
      "./contract/a",
      "./contract/t",
      "../adapters/stores/memory",
      "./d",
      "../adapters/stores/redis",
      "./side-effect",
    ]);
    expect(violations(importsOf("handlers/x.ts", text))).toHaveLength(2);
  });
});
