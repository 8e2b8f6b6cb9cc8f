// The Cloudflare-native store (Queues + one Durable Object). The Worker entry is
// adapters/runtimes/workers/worker.ts.
export { createWorkersStore, BOOKS_NAME, type WorkersStoreOptions } from "./store";
export { adaptBatch, cfDelaySeconds, queueProducer, runBatch, type Envelope } from "./queue";
export type { BooksApi } from "./books";
