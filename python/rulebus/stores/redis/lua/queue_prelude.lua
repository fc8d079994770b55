-- What every queue script shares: the queue's keys, its state strings and the steps that keep
-- its filings (ready, delayed, in flight; a FIFO queue's groups) consistent. Prepended to each
-- queue script by rulebus.stores.redis.scripts.
--
-- Every key of one queue shares the hash tag {q:NAME}, so a Redis Cluster keeps a queue on one
-- node and no script crosses slots. KEYS[1] is the queue's meta hash "<prefix>{q:NAME}:meta";
-- the other keys are named from it. A message is: its immutable part in BODY (JSON written by
-- Python, never read here), its state in ST ("seq|sent|visible_at|receive_count|first|last",
-- numbers as %.17g so that every double survives), and exactly one of READY (by seq), DELAYED
-- (never received, by visible_at) or FLIGHT (received, by visible_at). ALL (by seq) and SENT
-- (by sent time) index every message for peeks and retention.

local META = KEYS[1]
local BASE = string.sub(META, 1, -5)
local BODY = BASE .. 'body'
local ST = BASE .. 'st'
local READY = BASE .. 'ready'
local DELAYED = BASE .. 'delayed'
local FLIGHT = BASE .. 'flight'
local SENT = BASE .. 'sent'
local ALL = BASE .. 'all'
local GROUPS = BASE .. 'groups'     -- FIFO: group -> seq of its first message
local GFLIGHT = BASE .. 'gflight'   -- FIFO: group -> how many of its messages are in flight
local GRP = BASE .. 'grp'           -- FIFO: message id -> group
local DEDUP = BASE .. 'dedup'       -- FIFO: scope \0 deduplication id -> "id|seq|until"
local DEDUPX = BASE .. 'dedupx'     -- FIFO: the same keys by until
local ATTEMPTS = BASE .. 'attempts' -- ReceiveRequestAttemptId -> JSON
local ATTEMPTSX = BASE .. 'attemptsx'
local OUTBOX = BASE .. 'outbox'     -- messages leaving for another queue (see queues.py)

local function fmt(x)
  return string.format('%.17g', x)
end

local function parse(s)
  local seq, sent, vis, rc, first, last =
    string.match(s, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  return {seq = tonumber(seq), sent = tonumber(sent), vis = tonumber(vis), rc = tonumber(rc),
          first = first, last = last}
end

local function pack(m)
  return fmt(m.seq) .. '|' .. fmt(m.sent) .. '|' .. fmt(m.vis) .. '|' .. fmt(m.rc) .. '|' ..
    m.first .. '|' .. m.last
end

local function exists()
  return redis.call('HGET', META, 'exists') == '1'
end

local FIFO = redis.call('HGET', META, 'fifo') == '1'

local function gkey(group)
  return BASE .. 'g:' .. group
end

-- A FIFO group's filing: GROUPS holds it under its first message's seq while it has messages.
local function refile_group(group)
  local head = redis.call('ZRANGE', gkey(group), 0, 0, 'WITHSCORES')
  if #head == 0 then
    redis.call('ZREM', GROUPS, group)
    redis.call('HDEL', GFLIGHT, group)
  else
    redis.call('ZADD', GROUPS, head[2], group)
  end
end

local function group_flight(id, change)
  if FIFO and change ~= 0 then
    local group = redis.call('HGET', GRP, id)
    if group then
      redis.call('HINCRBY', GFLIGHT, group, change)
    end
  end
end

-- File a message by its state: READY when visible at now, else FLIGHT (received) or DELAYED.
-- With hidden, FLIGHT whatever the time (a receive's messages: one receive never returns a
-- message twice, even with a visibility timeout of 0).
local function place(id, m, now, hidden)
  redis.call('ZREM', READY, id)
  redis.call('ZREM', DELAYED, id)
  local was = redis.call('ZREM', FLIGHT, id)
  local flying = 0
  if hidden or (m.vis > now and m.rc > 0) then
    redis.call('ZADD', FLIGHT, fmt(m.vis), id)
    flying = 1
  elseif m.vis > now then
    redis.call('ZADD', DELAYED, fmt(m.vis), id)
  else
    redis.call('ZADD', READY, fmt(m.seq), id)
  end
  group_flight(id, flying - was)
  redis.call('HSET', ST, id, pack(m))
end

-- Remove a message wholly; its state, or nil when it is not here.
local function remove(id)
  local s = redis.call('HGET', ST, id)
  if not s then
    return nil
  end
  redis.call('HDEL', BODY, id)
  redis.call('HDEL', ST, id)
  -- Filed in exactly one of the three: most often in flight (a delete after a receive).
  local flying = redis.call('ZREM', FLIGHT, id)
  if flying == 0 and redis.call('ZREM', READY, id) == 0 then
    redis.call('ZREM', DELAYED, id)
  end
  redis.call('ZREM', SENT, id)
  redis.call('ZREM', ALL, id)
  if FIFO then
    local group = redis.call('HGET', GRP, id)
    redis.call('HDEL', GRP, id)
    if group then
      redis.call('ZREM', gkey(group), id)
      if flying == 1 then
        redis.call('HINCRBY', GFLIGHT, group, -1)
      end
      refile_group(group)
    end
  end
  return parse(s)
end

-- Messages past the retention period are gone: never returned, never counted.
local function cutoff(now)
  return now - tonumber(redis.call('HGET', META, 'retention'))
end

local function expire(now)
  local ids = redis.call('ZRANGEBYSCORE', SENT, '-inf', fmt(cutoff(now)))
  for _, id in ipairs(ids) do
    remove(id)
  end
end

-- Messages whose delay or visibility timeout ended by now become visible (READY).
local function promote(now)
  local bound = fmt(now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', DELAYED, '-inf', bound)) do
    local m = parse(redis.call('HGET', ST, id))
    redis.call('ZREM', DELAYED, id)
    redis.call('ZADD', READY, fmt(m.seq), id)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', FLIGHT, '-inf', bound)) do
    local m = parse(redis.call('HGET', ST, id))
    redis.call('ZREM', FLIGHT, id)
    redis.call('ZADD', READY, fmt(m.seq), id)
    group_flight(id, -1)
  end
end

-- Store a message arriving on this queue: numbered with the queue's next seq, indexed, filed.
-- Returns its seq.
local function insert(id, body, sent, vis, rc, first, last, group, now)
  local seq = redis.call('HINCRBY', META, 'seq', 1)
  local m = {seq = seq, sent = tonumber(sent), vis = tonumber(vis), rc = tonumber(rc), first = first,
             last = last}
  redis.call('HSET', BODY, id, body)
  redis.call('ZADD', ALL, seq, id)
  redis.call('ZADD', SENT, fmt(m.sent), id)
  if FIFO and group ~= '' then
    redis.call('HSET', GRP, id, group)
    redis.call('ZADD', gkey(group), seq, id)
    refile_group(group)
  end
  -- Filed as place() would, without looking for an earlier filing (there is none).
  if m.vis > now and m.rc > 0 then
    redis.call('ZADD', FLIGHT, fmt(m.vis), id)
    group_flight(id, 1)
  elseif m.vis > now then
    redis.call('ZADD', DELAYED, fmt(m.vis), id)
  else
    redis.call('ZADD', READY, seq, id)
  end
  redis.call('HSET', ST, id, pack(m))
  return seq
end
