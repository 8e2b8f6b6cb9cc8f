// The conformance suite against the embedded memory adapter.
import { createMemoryStore } from "../adapters/memory";
import { testStore } from "./conformance/suite";

testStore("memory", async () => createMemoryStore());
