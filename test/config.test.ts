// The one definition of the environment variables (handlers/contract/config.ts): a good, an empty and bad values
// for every variable, generated from the definition; the defects that made this reader, case by case; the
// generated docs table; and that no other product file reads a variable itself.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startRuntime } from "../adapters/runtimes/node/runtime";
import { describeAllowed, loadConfig, readVars, VARS, type VarDef, type VarName } from "../handlers/contract/config";
import { CONFIG_DOC, renderConfigDocs } from "../tools/build/config-docs";
import { nodeEntry, spawnChild } from "../tools/lib/procs";
import { REPO_DIR } from "../tools/lib/repo";

const DEFS = Object.entries(VARS) as [VarName, VarDef][];

/** A value each definition accepts, other than its default where it can be, and what it reads as. */
function good(d: VarDef): [string, string | number] {
  switch (d.kind) {
    case "integer": {
      const n = d.max === undefined || d.min + 1 <= d.max ? d.min + 1 : d.min;
      return [` ${n} `, n]; // surrounding spaces are trimmed
    }
    case "number":
      return ["0.5", 0.5];
    case "url":
      return d.protocols.includes("http:")
        ? ["http://example.test:8080/", "http://example.test:8080"]
        : ["redis://example.test:6380", "redis://example.test:6380"];
    case "enum":
      return [d.values.at(-1)!.toUpperCase(), d.values.at(-1)!]; // case does not matter
    case "string":
      return ["example-1", "example-1"];
    case "path":
      return ["/tmp/rinha.sock", "/tmp/rinha.sock"];
  }
}

/** Values each kind of definition must refuse. */
function bad(d: VarDef): string[] {
  switch (d.kind) {
    case "integer":
      return ["abc", "1.5", "1e3", "12ms", String(d.min - 1), ...(d.max === undefined ? [] : [String(d.max + 1)])];
    case "number":
      return ["abc", "1,5", "0x1", String(d.min - 1), ...(d.max === undefined ? [] : [String(d.max + 1)])];
    case "url":
      return ["notaurl", "ftp://example.test", "localhost:8001"];
    case "enum":
      return ["nope", `${d.values[0]}s`];
    case "string":
      return ["has space", "tab\there"];
    case "path":
      return [`/${"x".repeat(d.maxBytes + 1)}`];
  }
}

/** The message `f` throws with ("no error" when it does not throw). */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return "no error";
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("every variable: a good, an empty and bad values", () => {
  const goodRows = DEFS.map(([name, d]) => [name, ...good(d)] as const);
  it.each(goodRows)("%s=%j reads as %j", (name, raw, want) => {
    expect(readVars({ [name]: raw })[name]).toBe(want);
  });

  it.each(DEFS.map(([name, d]) => [name, d.default] as const))("%s= (empty) is unset: %j", (name, want) => {
    expect(readVars({ [name]: "" })[name]).toBe(want);
    expect(readVars({})[name]).toBe(want);
  });

  const badRows = DEFS.flatMap(([name, d]) => bad(d).map((raw) => [name, raw, d] as const));
  it.each(badRows)("%s=%j is refused, naming the variable, the value and what is allowed", (name, raw, d) => {
    const shown = /^[\x21-\x7e]+$/.test(raw) ? raw : JSON.stringify(raw);
    const unset = d.default !== undefined ? `unset it for the default ${d.default}` : "unset it ";
    expect(() => readVars({ [name]: raw })).toThrow(
      new RegExp(`^${literal(`${name}=${shown}: expected ${describeAllowed(d)}; ${unset}`)}`),
    );
  });
});

describe("the defects this reader fixed", () => {
  it("TICK_MS=abc stops the start instead of ticking every millisecond", () => {
    expect(() => loadConfig({ TICK_MS: "abc" })).toThrow(
      /^TICK_MS=abc: expected a whole number of milliseconds >= 1; unset it for the default 1000$/,
    );
  });
  it("PORT= (empty) listens on 9999, not on a random port", () => {
    expect(loadConfig({ PORT: "" }).listen.port).toBe(9999);
  });
  it("MAX_IN_FLIGHT=-5 and SHED_LAG_MS=abc are refused, both named in one message", () => {
    expect(messageOf(() => loadConfig({ MAX_IN_FLIGHT: "-5", SHED_LAG_MS: "abc" })).split("\n")).toEqual([
      "MAX_IN_FLIGHT=-5: expected a whole number of payments >= 1; unset it for the default 1500",
      "SHED_LAG_MS=abc: expected a whole number of milliseconds >= 0; unset it for the default 250",
    ]);
  });
  it("PROCESSOR_DEFAULT_URL=notaurl names the variable", () => {
    expect(messageOf(() => loadConfig({ PROCESSOR_DEFAULT_URL: "notaurl" }))).toBe(
      "PROCESSOR_DEFAULT_URL=notaurl: expected a URL (http:// or https://); " +
        "unset it for the default http://localhost:8001",
    );
  });
  it("variables it does not define are left alone", () => {
    expect(() => loadConfig({ NODE_ENV: "production", SOMETHING_MS: "abc" })).not.toThrow();
  });
  it("the runtime refuses a bad value before it listens or opens a store", async () => {
    await expect(
      startRuntime({ TICK_MS: "abc", STORE: "redis", REDIS_URL: "redis://127.0.0.1:1" }, { quiet: true }),
    ).rejects.toThrow(/^TICK_MS=abc/);
  });
});

describe("the built entry (dist/node.js) exits 1 with `rinha: cannot start: <message>`", () => {
  it.each([
    ["TICK_MS", "abc", "TICK_MS=abc: expected a whole number of milliseconds >= 1; unset it for the default 1000"],
    [
      "PROCESSOR_DEFAULT_URL",
      "notaurl",
      "PROCESSOR_DEFAULT_URL=notaurl: expected a URL (http:// or https://); unset it for the default " +
        "http://localhost:8001",
    ],
  ])(
    "%s=%s",
    async (name, value, message) => {
      const child = spawnChild("node dist/node.js", process.execPath, [nodeEntry()], {
        env: { PORT: "0", HOST: "127.0.0.1", [name]: value },
      });
      const timer = setTimeout(() => child.proc.kill("SIGKILL"), 15_000); // it started after all: fail, do not hang
      const { code } = await child.exited;
      clearTimeout(timer);
      expect(child.output()).toBe(`! rinha: cannot start: ${message}`);
      expect(code).toBe(1);
    },
    20_000,
  );
});

describe("docs/configuration.md", () => {
  it("is what `npm run docs:config` generates from the definition", () => {
    expect(readFileSync(CONFIG_DOC, "utf8"), "run `npm run docs:config` and commit docs/configuration.md").toBe(
      renderConfigDocs(),
    );
  });
});

describe("no product file reads a variable but handlers/contract/config.ts", () => {
  const product = (dir: string): string[] =>
    readdirSync(join(REPO_DIR, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? product(`${dir}/${e.name}`) : /\.ts$/.test(e.name) ? [`${dir}/${e.name}`] : [],
    );
  const names = Object.keys(VARS).join("|");
  // vars.TICK_MS, env["PORT"], process.env.ROLE, bindings.QUEUE_MAX_RETRIES, ... (writing a key is fine).
  const read = new RegExp(`(?:\\.|\\[\\s*["'\`])(${names})\\b(?!\\s*:)`);
  it.each([...product("handlers"), ...product("adapters")].filter((f) => f !== "handlers/contract/config.ts"))(
    "%s",
    (file) => {
      const hits = readFileSync(join(REPO_DIR, file), "utf8")
        .split("\n")
        .filter((line) => read.test(line) && !/^\s*(\/\/|\*)/.test(line));
      expect(hits).toEqual([]);
    },
  );
});
