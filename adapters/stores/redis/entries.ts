// Stream entries as the consumer sees them, parsed from RESP2 XREADGROUP replies.

export interface StreamEntry {
  /** This stream entry (changes when a retry or reclaim re-adds the message). */
  id: string;
  /** The message's id, stable across retries and reclaims. */
  messageId: string;
  /** Body as stored (JSON text). */
  raw: string;
  /** Deliveries before this entry (retries and reclaims add one each). */
  prior: number;
  /** Epoch ms of the original send. */
  sentAt: number;
}

type ReadReply = null | Array<[string, Array<[string, string[] | null]>]>;

export function parseRead(reply: unknown): StreamEntry[] {
  const streams = reply as ReadReply;
  if (!streams) return [];
  const out: StreamEntry[] = [];
  for (const [, entries] of streams) {
    for (const [id, fields] of entries) {
      if (!fields) continue; // deleted while pending; only possible when reading history, which we never do
      let raw = "",
        prior = 0,
        sentAt = idTime(id),
        messageId = id;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const f = fields[i],
          v = fields[i + 1]!;
        if (f === "b") raw = v;
        else if (f === "a") prior = Number(v);
        else if (f === "t") sentAt = Number(v);
        else if (f === "i") messageId = v;
      }
      out.push({ id, messageId, raw, prior, sentAt });
    }
  }
  return out;
}

/** Stream ids are "<ms>-<seq>". */
export function idTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
