// Caddy's active health check with the shipped upstream settings (caddy/proxy.caddy) and unix-socket upstreams,
// as in docker-compose.yml: an instance that is dead (its socket file left behind, as after a SIGKILL) stays out
// of the rotation while it stays dead, and comes back once it answers /healthz again. Without a new connection per
// check, Caddy 2.6.2 let one request a second through to the dead instance (the passive check's 1 s).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../tools/lib/ports";
import { sleep } from "../tools/lib/procs";
import { REPO_DIR } from "../tools/lib/repo";

const dir = mkdtempSync(join(tmpdir(), "caddy-health-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A process answering every request with its name on a unix socket; resolves once it listens. */
function upstream(name: string): Promise<ChildProcess> {
  const code =
    `const s=require("node:http").createServer((q,r)=>r.end(${JSON.stringify(name)}));` +
    `try{require("node:fs").unlinkSync(process.argv[1])}catch{}s.listen(process.argv[1],()=>console.log("up"))`;
  const child = spawn(process.execPath, ["-e", code, join(dir, `${name}.sock`)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((ok, fail) => {
    child.stdout!.once("data", () => ok(child));
    child.once("exit", (c, s) => fail(new Error(`upstream ${name} exited (${s ?? c}) before listening`)));
  });
}

async function post(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/payments`, { method: "POST", body: "{}", signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? await res.text() : String(res.status);
  } catch (err) {
    return (err as Error).name;
  }
}

it("a dead unix-socket upstream stays out of the rotation until /healthz answers again", async () => {
  await upstream("api1");
  const api2 = await upstream("api2");
  api2.kill("SIGKILL"); // leaves api2.sock behind: connect() is refused, as after a SIGKILL under load
  await new Promise((r) => api2.once("exit", r));
  const port = await freePort();
  const caddyfile = join(dir, "Caddyfile");
  writeFileSync(
    caddyfile,
    `{\n\tadmin off\n}\n:${port} {\n\treverse_proxy unix/${join(dir, "api1.sock")} unix/${join(dir, "api2.sock")} ` +
      `{\n\t\timport ${join(REPO_DIR, "caddy", "proxy.caddy")}\n\t}\n}\n`,
  );
  const caddy = spawn("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], { stdio: "ignore" });
  children.push(caddy);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && (await post(url)) !== "api1"; i++) await sleep(50);
  await sleep(600); // past the first round of active checks

  // 3 s of requests: the passive check alone (1 s) would let about 3 through to the dead instance.
  const whileDead: string[] = [];
  for (const until = Date.now() + 3000; Date.now() < until; await sleep(50)) whileDead.push(await post(url));
  expect(
    whileDead.filter((r) => r !== "api1"),
    "requests that reached the dead instance",
  ).toEqual([]);

  await upstream("api2");
  await sleep(1200); // two active checks
  const after: string[] = [];
  for (let i = 0; i < 10; i++) after.push(await post(url));
  expect(new Set(after), `answers once api2 is back: ${after.join(",")}`).toEqual(new Set(["api1", "api2"]));
}, 20_000);
