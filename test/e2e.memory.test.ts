import { startRuntime } from "../adapters/runtimes/node/runtime";
import { testPipeline } from "./support/e2e/suite";

// The handlers in this Node process with the embedded memory adapter (what `npm start` runs).
testPipeline("node + memory", async (env) => {
  const rt = await startRuntime({ ...env, STORE: "memory", PORT: "0", HOST: "127.0.0.1" }, { quiet: true });
  return { url: rt.url, close: () => rt.close() };
});
