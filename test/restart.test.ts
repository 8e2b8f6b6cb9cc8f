// The launcher's restart policy (tools/stack/restart.ts) and compose file merging (tools/stack/compose.ts):
// tables of cases; test/stack.test.ts shows both on the real stack.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_DIR } from "../tools/lib/repo";
import { loadCompose, mergeCompose } from "../tools/stack/compose";
import { BACKOFF, decideRestart, parseRestart, type RestartPolicy } from "../tools/stack/restart";

const KILLED = { code: null, signal: "SIGKILL" as const };
const CLEAN = { code: 0, signal: null };
const FAILED = { code: 1, signal: null };

describe("restart decisions", () => {
  it.each([
    ["no", KILLED, false],
    ["no", FAILED, false],
    ["on-failure", CLEAN, false],
    ["on-failure", FAILED, true],
    ["on-failure", KILLED, true],
    ["always", CLEAN, true],
    ["unless-stopped", CLEAN, true],
    ["unless-stopped", KILLED, true],
  ] as const)("policy %s, exit %j: restart %s", (policy, exit, restart) => {
    expect(decideRestart(policy, exit, 0, 50).restart).toBe(restart);
  });

  it.each([
    // streak, ran for (ms), delay, next streak
    [0, 50, 100, 1],
    [1, 50, 200, 2],
    [3, 9_999, 800, 4],
    [6, 50, 5000, 7],
    [20, 50, 5000, 21],
    [6, BACKOFF.resetAfterMs, 100, 1],
  ])("streak %d, ran %d ms: waits %d ms, streak becomes %d", (streak, ranMs, delayMs, next) => {
    expect(decideRestart("unless-stopped", KILLED, streak, ranMs)).toEqual({ restart: true, delayMs, streak: next });
  });

  it.each([
    [undefined, "no"],
    ["no", "no"],
    ["always", "always"],
    ["unless-stopped", "unless-stopped"],
    ["on-failure", "on-failure"],
    ["on-failure:3", "on-failure"],
  ])("compose restart %j reads as %s", (text, policy) => {
    expect(parseRestart(text, "api1")).toBe(policy as RestartPolicy);
  });

  it("an unknown restart policy is an error naming the service and the choices", () => {
    expect(() => parseRestart("sometimes", "api1")).toThrow(/service api1: restart "sometimes".*unless-stopped/);
  });
});

describe("compose files merged like docker compose -f a -f b", () => {
  it.each([
    ["scalars: the later wins", { a: 1, b: 2 }, { b: 3 }, { a: 1, b: 3 }],
    ["maps merge key by key", { x: { a: 1 } }, { x: { b: 2 } }, { x: { a: 1, b: 2 } }],
    [
      "a command list is replaced",
      { services: { r: { command: ["a", "b"] } } },
      { services: { r: { command: ["c"] } } },
      { services: { r: { command: ["c"] } } },
    ],
    [
      "service volumes merge by target",
      { services: { r: { volumes: ["s:/sockets", "old:/data"] } } },
      { services: { r: { volumes: ["new:/data"] } } },
      { services: { r: { volumes: ["s:/sockets", "new:/data"] } } },
    ],
    [
      "service ports are appended",
      { services: { r: { ports: ["1:1"] } } },
      { services: { r: { ports: ["2:2"] } } },
      { services: { r: { ports: ["1:1", "2:2"] } } },
    ],
  ])("%s", (_, base, override, merged) => {
    expect(mergeCompose(base, override)).toEqual(merged);
  });

  it("docker-compose.aof.yml turns on fsynced AOF with a volume at /data and keeps everything else", () => {
    const files = ["docker-compose.yml", "docker-compose.aof.yml"].map((f) => join(REPO_DIR, f));
    const [base, merged] = [loadCompose(files[0]!), loadCompose(files)];
    const redis = merged.services.find((s) => s.name === "redis")!;
    const flag = (f: string) => redis.command![redis.command!.indexOf(f) + 1];
    expect([flag("--appendonly"), flag("--appendfsync"), flag("--dir")]).toEqual(["yes", "always", "/data"]);
    expect(redis.mounts.map((m) => `${m.source}:${m.target}`).sort()).toEqual(["redis-data:/data", "sockets:/sockets"]);
    expect(Object.keys(merged.volumes).sort()).toEqual(["redis-data", "sockets"]);
    const rest = (c: typeof base) => c.services.filter((s) => s.name !== "redis");
    expect(rest(merged)).toEqual(rest(base));
  });

  it("a file whose top level is not a map is an error naming the file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "compose-")), "bad.yml");
    writeFileSync(file, "- a\n");
    expect(() => loadCompose([join(REPO_DIR, "docker-compose.yml"), file])).toThrow(/bad\.yml: the top level/);
  });
});
