import type { Store } from "../adapters/types";
import type { Config } from "./config";
import { HealthView } from "./health-view";
import { describeMetrics, Metrics } from "./metrics";
import type { Transport } from "./transport";

/** What every handler receives: built once per process by the runtime glue (Node) or per isolate (Workers). */
export interface AppEnv {
  store: Store;
  config: Config;
  transport: Transport;
  view: HealthView;
  metrics: Metrics;
  /** Unique per process/isolate: owner of locks. */
  instanceId: string;
}

/** Builds the env a runtime hands to the handlers. */
export function makeEnv(store: Store, config: Config, transport: Transport, instanceId: string): AppEnv {
  const metrics = new Metrics();
  describeMetrics(metrics);
  return { store, config, transport, view: new HealthView(store.health), metrics, instanceId };
}
