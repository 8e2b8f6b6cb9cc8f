// The documents: every relative link resolves, the README stays a front page, and nothing in the repository
// points outside it (the contest facts are docs/contest.md, in the project's own words).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_DIR } from "../tools/lib/repo";

const SKIP = new Set(["node_modules", "dist", "results", ".stack", ".git"]);
function files(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(join(REPO_DIR, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : files(rel, keep);
    return keep(e.name) ? [rel] : [];
  });
}

const markdown = files("", (n) => n.endsWith(".md"));

describe("documents", () => {
  it.each(markdown)("%s: every relative link points at a file of the repository", (file) => {
    const text = readFileSync(join(REPO_DIR, file), "utf8");
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:|^#/.test(l));
    const broken = links.filter((l) => !existsSync(join(REPO_DIR, dirname(file), l.split("#")[0]!)));
    expect(broken).toEqual([]);
  });

  it("README.md is a front page: at most 8 KB", () => {
    expect(readFileSync(join(REPO_DIR, "README.md")).length).toBeLessThanOrEqual(8192);
  });

  it("no file points outside the repository for its facts", () => {
    const text = files("", (n) => /\.(ts|mjs|js|md|yml|json|caddy)$|^(Dockerfile|Caddyfile|run)$/.test(n));
    const outside = text.filter((f) =>
      /\.\.\/shared\/|\/work\/shared|CONTEST\.md/.test(readFileSync(join(REPO_DIR, f), "utf8")),
    );
    expect(outside).toEqual([]);
  });
});
