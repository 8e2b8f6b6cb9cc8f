// docker-compose.aof.yml merged over docker-compose.yml by the launcher (as `docker compose -f a -f b`): Redis
// SIGKILLed with payments in it comes back by itself (restart: unless-stopped) with every one of them, and the
// stack accepts and forwards again.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../tools/lib/ports";
import { sleep } from "../tools/lib/procs";
import { REPO_DIR } from "../tools/lib/repo";
import { type Stack, startStack } from "../tools/stack/stack";

type Side = { totalRequests: number; totalAmount: number };
type Summary = { default: Side; fallback: Side };
const count = (s: Summary) => s.default.totalRequests + s.fallback.totalRequests;

let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

it("Redis with AOF, SIGKILLed under the launcher: restarted with every payment; accepts again", async () => {
  const messages: string[] = [];
  const [port, pd, pf] = [await freePort(), await freePort(), await freePort()];
  stack = await startStack({
    composeFile: [join(REPO_DIR, "docker-compose.yml"), join(REPO_DIR, "docker-compose.aof.yml")],
    withEmulators: true,
    port,
    processorPorts: { default: pd, fallback: pf },
    log: (m) => messages.push(m),
  });
  const s = stack;
  const redis = s.services.find((x) => x.name === "redis")!;
  expect(redis.argv.join(" ")).toContain("--appendonly yes --appendfsync always");
  const post = async () => {
    const res = await fetch(`${s.url}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ correlationId: randomUUID(), amount: 19.9 }),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const summary = async (): Promise<Summary | undefined> => {
    const res = await fetch(`${s.url}/payments-summary`).catch(() => undefined);
    return res?.status === 200 ? res.json() : undefined;
  };
  const waitFor = async (n: number) => {
    let last: Summary | undefined;
    for (const until = Date.now() + 20_000; Date.now() < until; await sleep(100)) {
      last = await summary();
      if (last && count(last) >= n) break;
    }
    return last;
  };
  expect((await fetch(`${s.url}/purge-payments`, { method: "POST" })).status).toBe(200);
  const statuses = await Promise.all(Array.from({ length: 30 }, post));
  expect(statuses.filter((x) => x !== 202)).toEqual([]);
  const before = await waitFor(30);
  expect(count(before!)).toBe(30);

  const oldPid = redis.pid;
  process.kill(redis.pid, "SIGKILL");
  for (const until = Date.now() + 15_000; (redis.pid === oldPid || redis.exit) && Date.now() < until; ) await sleep(50);
  expect(redis.restarts, messages.slice(-3).join("\n")).toBe(1);
  const after = await waitFor(30);
  expect(after, "the summary after Redis came back").toEqual(before);

  let accepted = 0;
  for (const until = Date.now() + 15_000; accepted === 0 && Date.now() < until; await sleep(100)) {
    if ((await post()) === 202) accepted++;
  }
  expect(accepted, "a POST accepted again after Redis came back").toBe(1);
  expect(count((await waitFor(31))!)).toBe(31);
}, 90_000);
