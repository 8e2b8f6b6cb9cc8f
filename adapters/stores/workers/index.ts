// The Cloudflare-native store (Queues + one Durable Object). The Worker entry is
// adapters/runtimes/workers/worker.ts.

export type { BooksApi } from "./books";
export { adaptBatch, cfDelaySeconds, type Envelope, queueProducer, runBatch } from "./queue";
export { BOOKS_NAME, createWorkersStore, type WorkersStoreOptions } from "./store";
