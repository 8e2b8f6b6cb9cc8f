import type { Config } from "./contract/config";
import { describeMetrics, Metrics } from "./contract/metrics";
import type { Transport } from "./contract/transport";
import type { Store } from "./contract/types";
import { HealthView } from "./health-view";
import { Pacer } from "./pacer";

/** What every handler receives: built once per process by the runtime glue (Node) or per isolate (Workers). */
export interface AppEnv {
  store: Store;
  config: Config;
  transport: Transport;
  view: HealthView;
  metrics: Metrics;
  /** Unique per process/isolate: owner of locks. */
  instanceId: string;
  /** POSTs of this process/isolate waiting for the queue to take their payment (capped by maxPendingAccepts). */
  accepts: { pending: number };
  /** The forwarding pace (FORWARD_RATE), shared by every payment this process forwards. */
  pacer: Pacer;
  /** Payments of this process waiting for their turn in the pace. */
  paced: { waiting: number };
}

/** Builds the env a runtime hands to the handlers. */
export function makeEnv(store: Store, config: Config, transport: Transport, instanceId: string): AppEnv {
  const metrics = new Metrics();
  describeMetrics(metrics);
  const accepts = { pending: 0 };
  metrics.gauge("pending_accepts", () => ({ "": accepts.pending }));
  const paced = { waiting: 0 };
  metrics.gauge("forward_paced_waiting", () => ({ "": paced.waiting }));
  const pacer = new Pacer(config.forwardRate);
  return { store, config, transport, view: new HealthView(store.health), metrics, instanceId, accepts, pacer, paced };
}
