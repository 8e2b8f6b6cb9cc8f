// Lua scripts: each one is a single atomic step on the server, which is what makes the queue moves
// (ack, retry, promote, reclaim) impossible to half-apply, and lets one round trip do a whole ledger write.
import { createHash } from "node:crypto";
import { COARSE_LEVELS } from "../../../handlers/contract/coarsen";
import type { RedisConn } from "./connect";

export class Script {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** EVALSHA, falling back to EVAL when the server lost its script cache (restart, SCRIPT FLUSH). */
  async run<T>(conn: RedisConn, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await conn.sendCommand<T>(["EVALSHA", this.sha, ...tail]);
    } catch (err) {
      if (!String(err).includes("NOSCRIPT")) throw new Error(`redis script ${this.name} failed: ${String(err)}`);
      return conn.sendCommand<T>(["EVAL", this.source, ...tail]);
    }
  }
}

// Server clock, so every process agrees on "due" whatever its own clock says.
const NOW_MS = `local _t = redis.call('TIME')
local now = tonumber(_t[1]) * 1000 + math.floor(tonumber(_t[2]) / 1000)
`;

// ---------------------------------------------------------------------------------------------
// Queue. Stream entry fields: b = body (JSON), a = deliveries before this entry (absent = 0),
// t = ms of the original send (absent = the entry id's time), i = the message id, stable across retries
// and reclaims (absent = the entry id). Delayed members: "<entry id> <i> <a> <t> <body>".

/**
 * Settles delivered entries. ARGV[1] = group, then groups of 7: kind ('a' ack | 'r' retry | 'd' dead),
 * entry id, delayMs, a (for the new entry), t, i, body. A retry moves the entry only if XACK says we still held it:
 * when a reclaim or a purge took it first, the retry does nothing, so the message is never duplicated.
 */
export const SETTLE = new Script(
  "settle",
  `${NOW_MS}
local stream, delayed, dead, group = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
for i = 2, #ARGV, 7 do
  local kind, id = ARGV[i], ARGV[i + 1]
  local held = redis.call('XACK', stream, group, id) == 1
  redis.call('XDEL', stream, id)
  if held and kind == 'r' then
    local delay, a, t, mid, body = tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
    if delay <= 0 then
      redis.call('XADD', stream, '*', 'b', body, 'a', a, 't', t, 'i', mid)
    else
      redis.call('ZADD', delayed, now + delay, id .. ' ' .. mid .. ' ' .. a .. ' ' .. t .. ' ' .. body)
    end
  elseif held and kind == 'd' then
    redis.call('RPUSH', dead, ARGV[i + 6])
  end
end
return 1
`,
);

/** Moves due delayed entries back to the stream. Returns {moved, ms until the next one is due or -1}. */
export const PROMOTE = new Script(
  "promote",
  `${NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, m in ipairs(due) do
  local _, mid, a, t, body = string.match(m, '^(%S+) (%S+) (%d+) (%d+) (.*)$')
  redis.call('XADD', KEYS[1], '*', 'b', body, 'a', a, 't', t, 'i', mid)
  redis.call('ZREM', KEYS[2], m)
end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then wait = math.max(0, tonumber(nxt[2]) - now) end
return {#due, wait}
`,
);

/**
 * Reclaims entries idle in the pending list for >= ARGV[3] ms (their consumer died): each is acked,
 * deleted and re-added as a new entry with one more delivery counted, all in this one atomic step.
 * ARGV: group, consumer, minIdleMs, cursor, count. Returns {next cursor, reclaimed}.
 */
export const RECLAIM = new Script(
  "reclaim",
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', 0} end
local r = redis.pcall('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
if r.err then return {'0-0', 0} end
local moved = 0
for _, e in ipairs(r[2]) do
  local id, f = e[1], e[2]
  redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  if type(f) == 'table' then
    local b, a, t, mid = nil, 0, string.match(id, '^(%d+)'), id
    for j = 1, #f, 2 do
      local v = f[j + 1]
      if f[j] == 'b' then b = v elseif f[j] == 'a' then a = tonumber(v)
      elseif f[j] == 't' then t = v elseif f[j] == 'i' then mid = v end
    end
    if b then
      redis.call('XADD', KEYS[1], '*', 'b', b, 'a', a + 1, 't', t, 'i', mid)
      moved = moved + 1
    end
  end
end
return {r[1], moved}
`,
);

/** {ready, pending, delayed}. The stream holds exactly the unacked entries, so ready = XLEN - pending. */
export const DEPTH = new Script(
  "depth",
  `
local len = redis.call('XLEN', KEYS[1])
local pending = 0
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(p) == 'table' and not p.err then pending = p[1] end
return {len - pending, pending, redis.call('ZCARD', KEYS[2])}
`,
);

/** Deletes KEYS and recreates the consumer group on KEYS[1] (the stream) in the same atomic step. */
export const WIPE = new Script(
  "wipe",
  `
redis.call('DEL', unpack(KEYS))
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
return 1
`,
);

/** Forgets a stopped consumer's name, but only when it holds nothing (DELCONSUMER drops its pending list). */
export const FORGET_CONSUMER = new Script(
  "forget-consumer",
  `
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if type(p) == 'table' and not p.err and #p == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`,
);

// ---------------------------------------------------------------------------------------------
// Ledger. Per processor: a sorted set of "correlationId:cents" by requestedAt ms (counts come from ZCOUNT,
// exact and O(log n)), and a hash of cents per node of a 16-ary tree over buckets of B ms: field "l:j" is
// the sum of bucket range [j*16^l, (j+1)*16^l). A record adds to one node per level (L levels); the cents
// before any bucket are the left siblings at each level (at most 15 per level), so a summary's cost does
// not depend on how many payments it covers. Only the bucket holding a window's end is scanned exactly.

/** HMGET arguments for the coarsening cuts 1..9 (the tree's levels 0..8 can be dropped; the top one stays). */
const levelFields = Array.from({ length: COARSE_LEVELS }, (_, i) => `'${i + 1}'`).join(", ");

const TREE = `
local B, F, L = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- Lua prints numbers with %.14g: exact digits for integers below 1e14 (bucket indices and ms stay below).
local function num(x) if x < 1e14 and x > -1e14 then return '' .. x end return string.format('%.0f', x) end
local function node(l, j) return l .. ':' .. j end
`;

/**
 * Records many entries; ARGV = B, F, L, then groups of 4: processor, correlationId, requestedAt ms, cents.
 * KEYS = ids, entries default, cents default, entries fallback, cents fallback, horizon. Returns per entry
 * 1 (recorded), 0 (correlationId already recorded) or 2 (older than the folded horizon: refused).
 * allow-oom: a record follows a payment a processor already took (its claim, refused under OOM, came first), so
 * it must not be refused; what it can add above maxmemory is bounded by the payments in flight.
 */
export const RECORD = new Script(
  "record",
  `#!lua flags=allow-oom
${TREE}
local keys = { default = {KEYS[2], KEYS[3]}, fallback = {KEYS[4], KEYS[5]} }
local deltas = { default = {}, fallback = {} }
local horizon = tonumber(redis.call('GET', KEYS[6]) or '-1')
local out = {}
for j = 4, #ARGV, 4 do
  local proc, id, cents = ARGV[j], ARGV[j + 1], tonumber(ARGV[j + 3])
  local k, d = keys[proc], deltas[proc]
  if k and tonumber(ARGV[j + 2]) < horizon then
    out[#out + 1] = 2
  elseif k and redis.call('HSETNX', KEYS[1], id, proc .. ':' .. ARGV[j + 3]) == 1 then
    redis.call('ZADD', k[1], ARGV[j + 2], id .. ':' .. ARGV[j + 3])
    local idx = math.floor(tonumber(ARGV[j + 2]) / B)
    for l = 0, L - 1 do
      local f = node(l, idx)
      d[f] = (d[f] or 0) + cents
      idx = math.floor(idx / F)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
-- Summed per node first: a bulk load touches each shared upper node once.
for proc, d in pairs(deltas) do
  for f, cents in pairs(d) do redis.call('HINCRBY', keys[proc][2], f, num(cents)) end
end
return out
`,
);

/**
 * ARGV = B, F, L, lo, hi: totals over requestedAt in (lo, hi]; '' = open end.
 * KEYS = per processor (default, then fallback): entries, cents, folded counts; then the horizon, the cuts.
 * Returns {default count, default cents, fallback count, fallback cents}. Counts are the entries still held
 * plus the folded buckets in (floor(lo/B), floor(hi/B)]; the cents tree holds every payment.
 */
export const SUMMARY = new Script(
  "summary",
  `${TREE}
local function sum(ck, fields)
  if #fields == 0 then return 0 end
  local c = 0
  for _, v in ipairs(redis.call('HMGET', ck, unpack(fields))) do c = c + (tonumber(v) or 0) end
  return c
end
-- Cents in buckets [0, b).
local function before(ck, b)
  local fields, idx = {}, b
  for l = 0, L - 1 do
    local d = idx % F
    for j = idx - d, idx - 1 do fields[#fields + 1] = node(l, j) end
    idx = math.floor(idx / F)
  end
  return sum(ck, fields)
end
-- Cents over requestedAt <= t (nil = everything).
local function upto(zk, ck, t)
  if t == nil then
    local top = {}
    for j = 0, F - 1 do top[#top + 1] = node(L - 1, j) end
    return sum(ck, top)
  end
  if t < 0 then return 0 end
  -- The bucket holding t is scanned from whichever side holds fewer entries: its start up to t, or
  -- (t, its end] subtracted from the next bucket boundary.
  local b = math.floor(t / B)
  local first, last, at = num(b * B), num((b + 1) * B - 1), num(t)
  local c, sign, scan
  -- Ties take the second side: for t at a bucket's end that is before(b + 1), right even once b is folded.
  if redis.call('ZCOUNT', zk, first, at) < redis.call('ZCOUNT', zk, '(' .. at, last) then
    c, sign, scan = before(ck, b), 1, redis.call('ZRANGEBYSCORE', zk, first, at)
  else
    c, sign, scan = before(ck, b + 1), -1, redis.call('ZRANGEBYSCORE', zk, '(' .. at, last)
  end
  for _, m in ipairs(scan) do c = c + sign * tonumber(string.match(m, ':(%d+)$')) end
  return c
end
local lo, hi = tonumber(ARGV[4]), tonumber(ARGV[5])
-- An edge older than the horizon moves to the end of its bucket, or of its group where the tree's lower levels
-- are dropped (COARSEN): a folded payment counts iff its group's start is in the window, and the entries not
-- yet folded there follow the same rule.
local horizon = tonumber(redis.call('GET', KEYS[7]) or '-1')
local cuts = redis.call('HMGET', KEYS[8], ${levelFields})
local function edge(t)
  if not t or t >= horizon then return t end
  local b, g = math.floor(t / B), 1
  for l = L - 1, 1, -1 do
    if b < (tonumber(cuts[l]) or 0) then g = F ^ l; break end
  end
  return (math.floor(b / g) * g + g) * B - 1
end
lo, hi = edge(lo), edge(hi)
local zlo, zhi = '-inf', '+inf'
if lo then zlo = '(' .. num(lo) end
if hi then zhi = num(hi) end
-- Folded entries in buckets [0, floor(t / B)] (nil = all).
local function folded(nk, t)
  if t == nil then
    local top = {}
    for j = 0, F - 1 do top[#top + 1] = node(L - 1, j) end
    return sum(nk, top)
  end
  if t < 0 then return 0 end
  return before(nk, math.floor(t / B) + 1)
end
local out = {}
for base = 0, 3, 3 do
  local zk, ck, nk = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3]
  local n = redis.call('ZCOUNT', zk, zlo, zhi) + folded(nk, hi)
  if lo then n = n - folded(nk, lo) end
  out[#out + 1] = n
  local c = upto(zk, ck, hi)
  if lo then c = c - upto(zk, ck, lo) end
  out[#out + 1] = c
end
return out
`,
);

/**
 * Folds entries older than the retention into the count tree: ARGV = B, F, L, retentionMs, limit.
 * KEYS = ids, horizon, then per processor (default, fallback): entries, folded counts. The horizon (server
 * clock - retention, down to a bucket boundary) only moves forward and is set first, so a record older than it
 * is refused from now on. Each entry leaves the sorted set and the id set and enters the count tree in this one
 * step, so it is counted exactly once. allow-oom: it frees more than it writes. Returns {folded, more, horizon}.
 */
export const COMPACT = new Script(
  "compact",
  `#!lua flags=allow-oom
${NOW_MS}${TREE}
local h = math.floor((now - tonumber(ARGV[4])) / B) * B
local held = tonumber(redis.call('GET', KEYS[2]) or '-1')
if h > held then redis.call('SET', KEYS[2], num(h)) else h = held end
local limit, done, more = tonumber(ARGV[5]), 0, 0
for base = 3, 5, 2 do
  local zk, nk = KEYS[base], KEYS[base + 1]
  local old = redis.call('ZRANGEBYSCORE', zk, '-inf', '(' .. num(h), 'WITHSCORES', 'LIMIT', 0, limit - done)
  local d, members = {}, {}
  for i = 1, #old, 2 do
    local m = old[i]
    members[#members + 1] = m
    redis.call('HDEL', KEYS[1], string.match(m, '^(.*):%d+$'))
    local idx = math.floor(tonumber(old[i + 1]) / B)
    for l = 0, L - 1 do
      local f = node(l, idx)
      d[f] = (d[f] or 0) + 1
      idx = math.floor(idx / F)
    end
  end
  for i = 1, #members, 1000 do
    redis.call('ZREM', zk, unpack(members, i, math.min(i + 999, #members)))
  end
  for f, n in pairs(d) do redis.call('HINCRBY', nk, f, n) end
  done = done + #members
end
if done >= limit then more = 1 end
return {done, more, num(h)}
`,
);

/**
 * Drops the tree's lower levels under old buckets, one sibling group (16 nodes) at a time: their sums are in the
 * level above, so a summary edge there acts at that level's resolution (coarsen.ts). ARGV = B, F, L, budget,
 * then the cuts (coarseCuts: cut k = bucket index below which levels 0..k-1 go). KEYS = the cuts held, then per
 * processor: cents, folded counts. A cut never moves back nor above the finer one held; a group whose parent
 * is absent holds nothing, so runs without payments (and the first run from bucket 0) are skipped a whole
 * absent ancestor at a time. Only for buckets already folded (below the horizon). Returns 1 while the budget
 * (steps) ran out first. allow-oom: it only frees.
 */
export const COARSEN = new Script(
  "coarsen",
  `#!lua flags=allow-oom
${TREE}
local budget, steps, more = tonumber(ARGV[4]), 0, 0
local held = redis.call('HMGET', KEYS[1], ${levelFields})
local above = math.huge
for k = 1, L - 1 do
  local l, group = k - 1, F ^ k
  local cut = tonumber(held[k]) or 0
  local want = math.floor(math.min(tonumber(ARGV[4 + k]) or 0, above) / group) * group
  if want > cut then
    local span0 = F ^ l
    local i, stop = cut / span0, want / span0
    while i < stop do
      if steps >= budget then more = 1; break end
      steps = steps + 1
      local skip = math.huge
      for p = 2, #KEYS, 2 do
        local s = 0
        for a = L - 1, k, -1 do
          local span = F ^ (a - l)
          if i % span == 0 and redis.call('HEXISTS', KEYS[p], node(a, i / span)) == 0 then s = span; break end
        end
        if s < skip then skip = s end
      end
      if skip > 0 then
        i = math.min(i + skip, stop)
      else
        local fields = {}
        for j = i, i + F - 1 do fields[#fields + 1] = node(l, j) end
        for p = 2, #KEYS do redis.call('HDEL', KEYS[p], unpack(fields)) end
        i = i + F
      end
    end
    cut = i * span0
    redis.call('HSET', KEYS[1], k, num(cut))
  end
  above = cut
  if more == 1 then break end
end
return more
`,
);

// ---------------------------------------------------------------------------------------------
// Attempts: one string per claim, "processor|owner", with the idempotency window as its TTL.

export const RELEASE = new Script(
  "release",
  `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local bar = string.find(v, '|', 1, true)
if bar and string.sub(v, bar + 1) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);

// ---------------------------------------------------------------------------------------------
// Health: applyObservation (handlers/contract/types.ts) done on the server, so concurrent observers never lose
// an update. ARGV = ok ('1'|'0'), at, latencyMs ('' = unknown).

export const OBSERVE = new Script(
  "observe",
  `
local k, at = KEYS[1], tonumber(ARGV[2])
if ARGV[1] == '1' then
  if at > (tonumber(redis.call('HGET', k, 'lastOkAt')) or 0) then redis.call('HSET', k, 'lastOkAt', ARGV[2]) end
  redis.call('HSET', k, 'errorStreak', 0)
  if ARGV[3] ~= '' then redis.call('HSET', k, 'lastLatencyMs', ARGV[3]) end
else
  if at > (tonumber(redis.call('HGET', k, 'lastErrorAt')) or 0) then redis.call('HSET', k, 'lastErrorAt', ARGV[2]) end
  redis.call('HINCRBY', k, 'errorStreak', 1)
end
return 1
`,
);

export const ALL_SCRIPTS = [
  SETTLE,
  PROMOTE,
  RECLAIM,
  DEPTH,
  WIPE,
  FORGET_CONSUMER,
  RECORD,
  SUMMARY,
  COMPACT,
  COARSEN,
  RELEASE,
  OBSERVE,
];

/** Loads every script once at start so the first EVALSHA of each hits. */
export async function loadScripts(conn: RedisConn): Promise<void> {
  await Promise.all(ALL_SCRIPTS.map((s) => conn.sendCommand(["SCRIPT", "LOAD", s.source])));
}
