// The conformance suite against the embedded memory adapter.
import { createMemoryStore } from "../adapters/stores/memory";
import { testStore } from "./support/conformance/suite";

testStore("memory", async () => createMemoryStore(), { retained: async (r) => createMemoryStore(r) });
