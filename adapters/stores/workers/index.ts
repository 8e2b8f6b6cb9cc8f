// The Cloudflare-native store (Queues + Books Durable Objects, sharded by correlationId). The Worker entry is
// adapters/runtimes/workers/worker.ts.

export type { BooksApi } from "./books";
export { adaptBatch, cfDelaySeconds, type Envelope, queueProducer, runBatch } from "./queue";
export { shardName, shardOf, sumSummaries } from "./shards";
export { BOOKS_NAME, createWorkersStore, type WorkersStoreOptions } from "./store";
