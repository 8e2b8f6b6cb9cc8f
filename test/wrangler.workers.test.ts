// The Cloudflare deployment: wrangler.jsonc agrees with what the Miniflare runs use, and the real tools accept it
// offline: the Worker build (`npm run build:worker`'s script) and `wrangler deploy --dry-run`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { COMPATIBILITY_DATE, QUEUE_CONSUMER } from "../adapters/runtimes/workers/local";
import { loadConfig, varsUsedBy } from "../handlers/contract/config";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "rinha-wrangler-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The part of wrangler.jsonc this test reads. */
interface WranglerConfig {
  $schema?: string;
  compatibility_date: string;
  queues: {
    producers: { binding: string; queue: string }[];
    consumers: Record<string, unknown>[];
  };
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { tag: string; new_sqlite_classes?: string[] }[];
  vars: Record<string, string>;
  [key: string]: unknown;
}

/** wrangler.jsonc as data: its comments are whole lines (a `//` inside a string, as in a URL, stays). */
function readWranglerConfig(): WranglerConfig {
  const text = readFileSync("wrangler.jsonc", "utf8");
  return JSON.parse(
    text
      .split("\n")
      .filter((l) => !/^\s*\/\//.test(l))
      .join("\n"),
  );
}

describe("wrangler.jsonc", () => {
  const cfg = readWranglerConfig();

  it("pins wrangler exactly, and its miniflare is ours", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.devDependencies.wrangler).toBe("4.86.0");
    const wranglerPkg = JSON.parse(readFileSync("node_modules/wrangler/package.json", "utf8"));
    expect(wranglerPkg.dependencies.miniflare).toBe(pkg.devDependencies.miniflare);
  });

  it("matches the settings the Miniflare runs use", () => {
    expect(cfg.compatibility_date).toBe(COMPATIBILITY_DATE);
    const [consumer] = cfg.queues.consumers;
    expect(consumer).toEqual({
      queue: cfg.queues.producers[0]!.queue,
      max_batch_size: QUEUE_CONSUMER.maxBatchSize,
      max_batch_timeout: QUEUE_CONSUMER.maxBatchTimeout,
      max_retries: QUEUE_CONSUMER.maxRetries,
    });
    expect(cfg.vars.QUEUE_MAX_RETRIES).toBe(String(QUEUE_CONSUMER.maxRetries));
    expect(cfg.queues.producers[0]!.binding).toBe("PAYMENTS");
  });

  it("declares every Durable Object class in a SQLite migration", () => {
    const classes = cfg.durable_objects.bindings.map((b) => b.class_name).sort();
    expect(classes).toEqual(["Books", "Ticker"]);
    expect(cfg.migrations.flatMap((m) => m.new_sqlite_classes ?? []).sort()).toEqual(classes);
  });

  it("sets only variables the Workers runtime reads, each valid", () => {
    const workers = new Set<string>(varsUsedBy("workers"));
    for (const name of Object.keys(cfg.vars)) expect(workers.has(name), name).toBe(true);
    expect(() => loadConfig(cfg.vars)).not.toThrow();
  });

  it("builds, and `wrangler deploy --dry-run` accepts the bundle with every binding", async () => {
    const bundle = join(dir, "worker.js");
    await run(process.execPath, ["tools/build/build-worker.mjs", bundle]);
    // The same configuration, pointed at this test's bundle (dist/ may be rebuilt by a concurrent build).
    const { $schema: _, ...rest } = cfg;
    writeFileSync(join(dir, "wrangler.json"), JSON.stringify({ ...rest, main: bundle }));
    const env = { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(dir, "logs") };
    const wrangler = join("node_modules", "wrangler", "bin", "wrangler.js");
    const args = [
      wrangler,
      "deploy",
      "--dry-run",
      "--config",
      join(dir, "wrangler.json"),
      "--outdir",
      join(dir, "out"),
    ];
    const { stdout } = await run(process.execPath, args, { env });
    for (const binding of ["env.BOOKS (Books)", "env.TICKER (Ticker)", "env.PAYMENTS (payments)", "env.BOOKS_SHARDS"])
      expect(stdout).toContain(binding);
    expect(stdout).toContain("--dry-run: exiting now.");
    // The module exports the classes the migration declares.
    const exports = /export \{([^}]*)\}/.exec(readFileSync(join(dir, "out", "worker.js"), "utf8"))?.[1] ?? "";
    for (const c of ["Books", "Ticker"]) expect(exports).toMatch(new RegExp(`\\b${c}\\b`));
  }, 120_000);
});
