// The backend as separate processes (API-only instances and workers) on one Redis, wired to two processor
// emulators that run in the test process (so the checks can read their rows directly).

import { type Emulator, startEmulator } from "../../emulator/server";
import { FAST_ENV } from "../fast-env";
import { type NodeProc, startNode, type Teardown } from "../procs";

export interface Processors {
  def: Emulator;
  fb: Emulator;
}

/** The preview's fees; a 300 ms health window by default so fast-timing backends can poll it often. */
export async function startProcessors(t: Teardown, opts: { healthWindowMs?: number } = {}): Promise<Processors> {
  const healthWindowMs = opts.healthWindowMs ?? 300;
  const def = await startEmulator({ fee: 0.05, healthWindowMs });
  t.add(() => def.close());
  const fb = await startEmulator({ fee: 0.15, healthWindowMs });
  t.add(() => fb.close());
  return { def, fb };
}

let stackSeq = 0;

/** Environment shared by every process of one backend: same Redis and prefix, the fast test timings. */
export function backendEnv(
  redisUrl: string,
  urls: { default: string; fallback: string },
  extra: Record<string, string> = {},
) {
  return {
    ...FAST_ENV,
    STORE: "redis",
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `faults-${process.pid}-${Date.now()}-${stackSeq++}:`,
    // A killed worker's messages come back after 2 s instead of 5 s: shorter drains, same paths.
    REDIS_CLAIM_IDLE_MS: "2000",
    PROCESSOR_DEFAULT_URL: urls.default,
    PROCESSOR_FALLBACK_URL: urls.fallback,
    ...extra,
  };
}

export class Backend {
  readonly apis: NodeProc[] = [];
  readonly workers: NodeProc[] = [];
  private n = 0;
  constructor(readonly env: Record<string, string>) {}

  async api(port?: number): Promise<NodeProc> {
    const p = await startNode(`api-${++this.n}`, { ...this.env, ROLE: "api", ...(port ? { PORT: String(port) } : {}) });
    this.apis.push(p);
    return p;
  }

  async worker(): Promise<NodeProc> {
    const p = await startNode(`worker-${++this.n}`, { ...this.env, ROLE: "worker" });
    this.workers.push(p);
    return p;
  }

  /** First API process still alive. */
  liveApi(): string {
    const a = this.apis.find((p) => p.alive());
    if (!a) throw new Error("no API process is alive");
    return a.url;
  }

  /** Output of every process, for a failure message. */
  output(): string {
    return [...this.apis, ...this.workers]
      .map((p) => `--- ${p.name} (pid ${p.pid}, ${p.alive() ? "alive" : "exited"})\n${p.output().slice(-1500)}`)
      .join("\n");
  }
}
