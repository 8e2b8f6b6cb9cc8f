import { DurableObject } from "cloudflare:workers";
import { needsArming, nextAlarmAt } from "./alarm";

/** The name of the one Ticker object of a deployment. */
export const TICKER_NAME = "ticker";

/** What the Ticker object answers over RPC. */
export interface TickerApi {
  /** The watchdog: sets the alarm when it is missing or stuck, and then runs a tick at once. True if it did. */
  arm(): Promise<boolean>;
}

/** What the runtime gives the Ticker: the window, and the tick itself (the handlers' `scheduled`). */
export interface TickerDeps<Env> {
  windowMs(env: Env): number;
  /** Runs one health tick; `waitUntil` keeps work it leaves behind alive past the alarm. */
  tick(env: Env, waitUntil: (p: Promise<unknown>) => void): Promise<void>;
  /** Told when a tick threw (the next window's tick is the retry). */
  onError(err: Error): void;
}

/**
 * The Ticker Durable Object class: runs the health tick from its alarm, once per window, for the whole
 * deployment. A Cron Trigger fires at most once a minute on Cloudflare, and the router wants a poll every
 * window; the Cron Trigger is only the watchdog that arms the alarm (first deploy, or a chain that broke).
 * The tick's polling locks still make sure no two polls of a processor share a window, whoever runs them.
 * A class factory, so the tick (which lives in the handlers) is the runtime's to give.
 */
export function tickerClass<Env>(deps: TickerDeps<Env>) {
  return class Ticker extends DurableObject<Env> implements TickerApi {
    async arm(): Promise<boolean> {
      if (!needsArming(await this.ctx.storage.getAlarm(), Date.now(), deps.windowMs(this.env))) return false;
      await this.alarm();
      return true;
    }

    async alarm(): Promise<void> {
      // The next alarm first: a tick that throws or hangs does not end the chain.
      await this.ctx.storage.setAlarm(nextAlarmAt(Date.now(), deps.windowMs(this.env)));
      try {
        await deps.tick(this.env, (p) => this.ctx.waitUntil(p));
      } catch (err) {
        // A failed alarm would be retried by the platform with backoff; the next window's alarm is the retry.
        deps.onError(err as Error);
      }
    }
  };
}
