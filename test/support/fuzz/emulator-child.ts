// One processor emulator in its own process for the overload suite: `node --import tsx emulator-child.ts <port> <fee>`.
// Besides HTTP it answers IPC questions from its parent ({id, op: "rows" | "stats"}), so a test can compare
// every stored correlationId without tens of thousands of GET /payments/{id}.
import { startEmulator } from "../../../tools/emulator/server";

const [port, fee] = process.argv.slice(2).map(Number);
if (!Number.isInteger(port) || !(fee! >= 0)) throw new Error("usage: emulator-child.ts <port> <fee>");

const emu = await startEmulator({ port, fee: fee! });
process.on("message", (m: { id: number; op: string }) => {
  const value =
    m.op === "rows"
      ? emu.rows().map((r) => ({ correlationId: r.correlationId, amountCents: r.amountCents }))
      : m.op === "stats"
        ? emu.stats()
        : null;
  process.send?.({ id: m.id, value });
});
process.on("SIGTERM", () => {
  void emu.close().then(() => process.exit(0));
});
// The parent's IPC channel closing means the parent is gone: do not outlive it.
process.on("disconnect", () => process.exit(0));
console.log(`emulator ${emu.url} fee=${fee}`);
