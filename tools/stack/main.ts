// `npm run stack -- [options]`: docker-compose.yml's topology as local processes (see stack.ts).
// Ctrl-C / SIGTERM stops everything it started and prints each service's peak memory and CPU use.

import { parseArgs } from "node:util";
import { procStat } from "../lib/procs";
import { MiB } from "./compose";
import { type Stack, type StopReport, startStack } from "./stack";

const HELP = `usage: npx tsx tools/stack/main.ts [options]

  --compose <file>           compose file (default: docker-compose.yml); repeat to merge several, as
                             docker compose -f a -f b does (e.g. --compose docker-compose.yml
                             --compose docker-compose.aof.yml for Redis with AOF)
  --with-emulators           also start the two processor emulators (not limited: they are external)
  --port <n>                 port the load balancer listens on (default: the one compose publishes, 9999)
  --processor-ports <a,b>    processors' ports, default 8001,8002 (emulators started there with --with-emulators)
  --fee-default <f>          emulator fee, also FEE_DEFAULT for compose (default 0.05, the preview's; final: 0.07)
  --fee-fallback <f>         emulator fee, also FEE_FALLBACK for compose (default 0.15; final: 0.10)
  --emulator-cmd "<cmd>"     emulator program (default: tsx tools/emulator/main.ts); gets --port P --fee F
  --entry <file>             Node entry for build: services instead of dist/node.js (no build)
  --no-build                 do not rebuild dist/node.js when it is stale
  --no-limits                do not apply cgroup CPU / memory limits
  --no-restart               ignore compose restart: policies (default: a service that exits is restarted
                             with backoff 0.1 s doubling to 5 s as its policy says, and the launcher says so)
  --keep-going               keep the stack up when a service dies and is not restarted (default: stop all)
  --verbose                  echo every service's output, prefixed with its name
  --keep-run-dir             keep sockets, logs and the generated Caddyfile after stopping
  --ready-timeout <ms>       per-service start timeout (default 30000)`;

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${flag}: not a number: ${value}`);
  return n;
}

const fmtStats = (r: StopReport) =>
  r.services
    .map(({ name, stats: s, exit, restarts }) => {
      const parts = [`  ${name.padEnd(18)} exit ${exit?.signal ?? exit?.code ?? "?"}`];
      if (restarts) parts.push(`restarted ${restarts} times`);
      if (s?.peakRssBytes !== undefined) parts.push(`peak rss ${(s.peakRssBytes / MiB).toFixed(1)}MB`);
      if (s?.peakMemoryBytes !== undefined) parts.push(`peak mem+cache ${(s.peakMemoryBytes / MiB).toFixed(1)}MB`);
      if (s?.memoryLimitHits) parts.push(`at its memory limit ${s.memoryLimitHits} times (cache reclaimed)`);
      if (s?.cpuSeconds !== undefined) parts.push(`cpu ${s.cpuSeconds.toFixed(2)}s`);
      if (s?.throttledPeriods !== undefined)
        parts.push(`throttled ${s.throttledPeriods} periods (${(s.throttledSeconds ?? 0).toFixed(2)}s)`);
      if (s?.oomKills) parts.push(`OOM kills ${s.oomKills}`);
      return parts.join("  ");
    })
    .join("\n");

async function main() {
  const { values } = parseArgs({
    options: {
      compose: { type: "string", multiple: true },
      "no-restart": { type: "boolean" },
      "with-emulators": { type: "boolean" },
      port: { type: "string" },
      "processor-ports": { type: "string" },
      "fee-default": { type: "string" },
      "fee-fallback": { type: "string" },
      "emulator-cmd": { type: "string" },
      entry: { type: "string" },
      "no-build": { type: "boolean" },
      "no-limits": { type: "boolean" },
      verbose: { type: "boolean" },
      "keep-going": { type: "boolean" },
      "keep-run-dir": { type: "boolean" },
      "ready-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const ports = values["processor-ports"]?.split(",").map((p) => number(p, "--processor-ports")!);
  if (ports && ports.length !== 2) throw new Error("--processor-ports: give two ports, e.g. 8001,8002");

  let exiting = false;
  let stack: Stack | undefined;
  let interrupted = false;
  // Signals during start: remember, and stop once start has finished or failed (it cleans up after itself).
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      if (stack) void shutdown(0);
      else interrupted = true;
    });
  }
  stack = await startStack({
    composeFile: values.compose,
    restart: !values["no-restart"],
    withEmulators: values["with-emulators"],
    port: number(values.port, "--port"),
    processorPorts: ports ? { default: ports[0]!, fallback: ports[1]! } : undefined,
    fees:
      values["fee-default"] || values["fee-fallback"]
        ? {
            default: number(values["fee-default"], "--fee-default"),
            fallback: number(values["fee-fallback"], "--fee-fallback"),
          }
        : undefined,
    emulatorCommand: values["emulator-cmd"]?.split(/\s+/).filter(Boolean),
    entry: values.entry,
    build: !values["no-build"],
    limits: !values["no-limits"],
    keepRunDir: values["keep-run-dir"],
    readyTimeoutMs: number(values["ready-timeout"], "--ready-timeout"),
    onLine: values.verbose ? (name, line) => console.log(`[${name}] ${line}`) : undefined,
    // A service dying for good (no restart policy) takes the stack down: a half stack gives misleading numbers.
    onExit: values["keep-going"] ? undefined : () => void shutdown(1),
  });

  async function shutdown(code: number) {
    if (exiting || !stack) return;
    exiting = true;
    console.log("stopping...");
    const report = await stack.stop();
    console.log(fmtStats(report));
    for (const p of report.problems) console.log(`problem: ${p}`);
    console.log(`stopped${stack.limitsApplied ? "; cgroups removed" : ""}`);
    process.exit(report.problems.length ? 1 : code);
  }
  if (interrupted) return void shutdown(0);
  watchAncestors(() => void shutdown(0));
  console.log(
    `logs in ${stack.runDir}/logs${values["keep-run-dir"] ? "" : " (removed on stop; --keep-run-dir keeps them)"}`,
  );
  console.log(`stack ready on :${new URL(stack.url).port}`);
}

/**
 * `npm run stack` puts npm, sh and tsx between the terminal and us, and npm does not pass a SIGTERM on to its
 * script: when any process above us goes away, stop instead of running on as an orphan.
 */
function watchAncestors(onGone: () => void) {
  const startTime = (pid: number) => {
    try {
      return procStat(pid)[19]; // field 22: start time
    } catch {
      return undefined;
    }
  };
  const parentOf = (pid: number) => Number(procStat(pid)[1]);
  const ancestors: [number, string | undefined][] = [];
  try {
    for (let pid = process.ppid; pid > 1; pid = parentOf(pid)) ancestors.push([pid, startTime(pid)]);
  } catch {
    return; // no /proc: nothing to watch
  }
  const timer = setInterval(() => {
    const gone = ancestors.find(([pid, start]) => startTime(pid) !== start);
    if (gone) {
      clearInterval(timer);
      console.log(`parent process ${gone[0]} is gone; stopping`);
      onGone();
    }
  }, 1000);
  timer.unref();
}

main().catch((err) => {
  console.error(`stack: ${(err as Error).message}`);
  process.exit(1);
});
