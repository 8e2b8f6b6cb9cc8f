// Node entry: `node dist/node.js`. Configuration comes from the environment (docs/configuration.md).
import { startRuntime } from "./runtime";

const runtime = await startRuntime(process.env).catch((err: Error) => {
  console.error(`rinha: cannot start: ${err.message}`);
  process.exit(1);
});

let stopping = false;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    runtime.close().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`rinha: unclean stop: ${err.message}`);
        process.exit(1);
      },
    );
  });
}
