import { createApp } from "./app";
import type { MessageBatch, PaymentJob } from "./contract/types";
import type { AppEnv } from "./env";
import { handleBatch } from "./forward";
import { tick } from "./tick";

export { loadConfig } from "./contract/config";
export type { AppEnv } from "./env";
export { makeEnv } from "./env";

/**
 * The three handlers in the Workers module shape. Each runtime adapts its own env to AppEnv and calls these;
 * nothing here knows which runtime it is in.
 */
export function createHandlers() {
  const app = createApp();
  return {
    fetch: (request: Request, env: AppEnv): Response | Promise<Response> => app.fetch(request, env),
    scheduled: (env: AppEnv): Promise<void> => tick(env),
    queue: (batch: MessageBatch<PaymentJob>, env: AppEnv): Promise<void> => handleBatch(batch, env),
  };
}

export type Handlers = ReturnType<typeof createHandlers>;
