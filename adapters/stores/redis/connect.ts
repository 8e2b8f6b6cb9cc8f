// One place that turns a URL into a node-redis client, so every connection of the adapter is made alike.
import { createClient } from "redis";
import { log } from "../../../handlers/contract/log";

/** The slice of node-redis the adapter uses: raw commands, so replies have one known (RESP2) shape. */
export interface RedisConn {
  sendCommand<T = unknown>(args: ReadonlyArray<string>): Promise<T>;
}

export interface OwnedConn extends RedisConn {
  close(): Promise<void>;
}

/** `redis://host:port/db`, `rediss://…`, or a unix socket as `/path/redis.sock` or `unix:///path/redis.sock`. */
export function clientOptions(url: string, everConnected: () => boolean) {
  const unixPath = url.startsWith("/") ? url : url.startsWith("unix://") ? url.slice("unix://".length) : undefined;
  // A first connection that fails is an error for the caller; a lost one is retried (backoff up to 1 s).
  const reconnectStrategy = (retries: number, cause: Error) =>
    everConnected() ? Math.min(1000, 50 * (retries + 1)) : cause;
  return {
    ...(unixPath
      ? { socket: { path: unixPath, tls: false as const, reconnectStrategy } }
      : { url, socket: { reconnectStrategy } }),
    // RESP2: arrays stay arrays (RESP3 would turn XREADGROUP replies into maps).
    RESP: 2 as const,
    // Fail fast while disconnected: the accept path must answer 503, not hang in an offline queue.
    disableOfflineQueue: true,
    // node-redis 6 gives every command a 5 s timeout built on AbortSignal.timeout(): a signal and a timer per
    // command, whose expiry still builds a DOMException long after the reply. That was a fifth of the API's
    // CPU per POST. A lost connection already fails commands at once (above); a Redis that accepts and never
    // answers is not guarded against here.
    commandOptions: { timeout: 0 },
  };
}

export async function connect(url: string, role: string): Promise<OwnedConn> {
  let connected = false;
  const client = createClient(clientOptions(url, () => connected));
  // Without a listener node-redis would crash the process on a dropped connection; it reconnects by itself.
  let lastLog = 0;
  client.on("error", (err: unknown) => {
    const now = Date.now();
    if (now - lastLog > 5000) {
      lastLog = now;
      log("warn", "redis_connection_error", { role, url, error: String(err) });
    }
  });
  try {
    await client.connect();
    connected = true;
  } catch (err) {
    client.destroy();
    throw new Error(
      `cannot connect to Redis at ${url} (${role}): ${String(err)}. Is redis-server running? Check REDIS_URL.`,
    );
  }
  return {
    sendCommand: <T>(args: ReadonlyArray<string>) => client.sendCommand(args as string[]) as Promise<T>,
    close: async () => {
      if (client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}
