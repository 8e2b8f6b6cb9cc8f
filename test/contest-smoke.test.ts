// CI smoke of the contest: a shortened preview (about 20 s, 100 VUs) through the whole local stack (Caddy, two
// API instances, the worker, Redis, under the compose limits) against two emulators, with the official
// scoring. The preview is used because its last stage is benign: a shortened final ends 2 s into "default at
// 2000 ms", where payments are legitimately still in flight at the teardown.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../tools/lib/ports";
import { startStack } from "../tools/stack/stack";

let stop: (() => Promise<void>) | undefined;
const out = mkdtempSync(join(tmpdir(), "contest-smoke-"));
afterAll(async () => {
  await stop?.();
  rmSync(out, { recursive: true, force: true });
});

it("a shortened preview through the local stack: no inconsistency, lag 0, no failed POST", async () => {
  const [port, pd, pf] = [await freePort(), await freePort(), await freePort()];
  const stack = await startStack({
    withEmulators: true,
    port,
    processorPorts: { default: pd, fallback: pf },
    log: () => {},
  });
  stop = async () => {
    await stack.stop();
  };
  const args = [
    "--import",
    "tsx",
    "tools/contest/main.ts",
    "--scenario",
    "preview",
    "--duration-scale",
    "0.35",
    "--max-vus",
    "100",
    "--emulators",
    "running",
    "--default-url",
    `http://127.0.0.1:${pd}`,
    "--fallback-url",
    `http://127.0.0.1:${pf}`,
    "--target",
    `http://127.0.0.1:${port}`,
    "--out",
    out,
    "--assert-clean",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => {
    output += String(d);
  });
  child.stderr.on("data", (d) => {
    output += String(d);
  });
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  console.log(output.split("\n").slice(-25).join("\n"));
  expect(results.multa.composicao.num_inconsistencias, output).toBe(0);
  expect(results.lag.lag, output).toBe(0);
  expect(results.pagamentos_solicitados.qtd_falha, output).toBe(0);
  expect(results.pagamentos_solicitados.qtd_sucesso).toBeGreaterThan(300);
  expect(code, output).toBe(0);
}, 120_000);
