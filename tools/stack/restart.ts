// Compose's `restart:` policy as the launcher applies it: whether a service that exited comes back, and after
// how long. Pure; stack.ts does the waiting and the respawn.

export type RestartPolicy = "no" | "always" | "on-failure" | "unless-stopped";

export const RESTART_POLICIES: readonly RestartPolicy[] = ["no", "always", "on-failure", "unless-stopped"];

/** Exponential backoff between restarts, reset once a run lasted `resetAfterMs` (Docker does much the same). */
export const BACKOFF = { initialMs: 100, maxMs: 5000, resetAfterMs: 10_000 } as const;

/** `restart:` as written in compose (absent means "no"); `on-failure:N` keeps only the policy. */
export function parseRestart(value: unknown, service: string): RestartPolicy {
  if (value === undefined || value === null) return "no";
  const text = String(value).replace(/^on-failure:\d+$/, "on-failure");
  if ((RESTART_POLICIES as readonly string[]).includes(text)) return text as RestartPolicy;
  throw new Error(
    `service ${service}: restart ${JSON.stringify(value)} is not a Compose restart policy; ` +
      `use one of ${RESTART_POLICIES.join(", ")}`,
  );
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type RestartDecision = { restart: false; why: string } | { restart: true; delayMs: number; streak: number };

/**
 * After an exit the launcher did not ask for: restart or not, and the delay. `streak` counts the restarts since
 * the service last ran for `resetAfterMs`; `ranMs` is how long this run lasted.
 */
export function decideRestart(policy: RestartPolicy, exit: ExitInfo, streak: number, ranMs: number): RestartDecision {
  const failed = exit.signal !== null || exit.code !== 0;
  if (policy === "no") return { restart: false, why: "restart policy is no" };
  if (policy === "on-failure" && !failed) return { restart: false, why: "exited with code 0 (policy on-failure)" };
  const next = ranMs >= BACKOFF.resetAfterMs ? 0 : streak;
  return { restart: true, delayMs: Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** next), streak: next + 1 };
}
