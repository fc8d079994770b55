-- ReceiveMessage: ARGV now, visibility timeout, max messages, in-flight limit ("" none), the
-- dead-letter queue's name ("" when the queue has no usable one), maxReceiveCount, the
-- ReceiveRequestAttemptId ("" none), the attempt window, then one receipt token per message
-- that may be returned. Returns {messages waiting on the outbox, then id, body, state, token per
-- message}: the caller delivers the outbox (this receive's dead-letter moves, and any an earlier
-- caller did not finish).
--
-- The rules are those of rulebus.stores.semantics, step for step: expired messages go and due
-- ones become visible first; a standard queue gives its oldest visible messages; a FIFO queue
-- its groups by their first message's place, skipping every group with a message in flight,
-- each group's messages in order up to the first one not visible; a message that would pass
-- maxReceiveCount leaves for the dead-letter queue through the outbox instead of being
-- returned; a retried attempt whose messages are unchanged returns them again.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
local now, vt, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, dlq, max_rc = ARGV[4], ARGV[5], tonumber(ARGV[6])
local attempt, window = ARGV[7], tonumber(ARGV[8])
local TOKENS = 9

expire(now)
promote(now)

if limit ~= '' then
  local room = tonumber(limit) - redis.call('ZCARD', FLIGHT)
  if room <= 0 then
    return redis.error_reply('RULEBUS_IN_FLIGHT_LIMIT')
  end
  if room < max then
    max = room
  end
end

local out = {0}
local entries = {}
local function emit(id, m, token)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', BODY, id)
  out[#out + 1] = pack(m)
  out[#out + 1] = token
  entries[#entries + 1] = {id, token, fmt(m.vis), fmt(m.rc)}
end

if attempt ~= '' then
  for _, old in ipairs(redis.call('ZRANGEBYSCORE', ATTEMPTSX, '-inf', fmt(now - window))) do
    redis.call('HDEL', ATTEMPTS, old)
    redis.call('ZREM', ATTEMPTSX, old)
  end
  local remembered = redis.call('HGET', ATTEMPTS, attempt)
  if remembered then
    local record = cjson.decode(remembered)
    local unchanged = #record.entries > 0
    for _, e in ipairs(record.entries) do
      local s = redis.call('HGET', ST, e[1])
      if not s then
        unchanged = false
        break
      end
      local m = parse(s)
      if m.vis ~= tonumber(e[3]) or m.rc ~= tonumber(e[4]) then
        unchanged = false
        break
      end
    end
    if unchanged then
      for _, e in ipairs(record.entries) do
        local m = parse(redis.call('HGET', ST, e[1]))
        m.vis = now + vt
        place(e[1], m, now, true)
        emit(e[1], m, e[2])
      end
      redis.call('HSET', ATTEMPTS, attempt, cjson.encode({at = record.at, entries = entries}))
      out[1] = redis.call('LLEN', OUTBOX)
      return out
    end
  end
end

local taken = 0
local function consider(id, m)
  if dlq ~= '' and m.rc >= max_rc then
    local body = redis.call('HGET', BODY, id)
    remove(id)
    redis.call('RPUSH', OUTBOX, cjson.encode({'dlq', dlq, id, body, pack(m), fmt(now)}))
    return
  end
  m.rc = m.rc + 1
  if m.first == '' then
    m.first = fmt(now)
  end
  m.last = fmt(now)
  m.vis = now + vt
  -- From READY (every candidate is filed there) to FLIGHT: place(id, m, now, true) in short.
  redis.call('ZREM', READY, id)
  redis.call('ZADD', FLIGHT, fmt(m.vis), id)
  group_flight(id, 1)
  redis.call('HSET', ST, id, pack(m))
  emit(id, m, ARGV[TOKENS + taken] or '')
  taken = taken + 1
end

if not FIFO then
  -- Each message considered leaves READY; one filed visible that is not (the clock went back
  -- since) stays, and the walk steps over it.
  local skipped = 0
  while taken < max do
    local ids = redis.call('ZRANGE', READY, skipped, skipped + max - taken - 1)
    if #ids == 0 then
      break
    end
    for _, id in ipairs(ids) do
      local m = parse(redis.call('HGET', ST, id))
      if m.vis > now then
        skipped = skipped + 1
      else
        consider(id, m)
      end
    end
  end
else
  local visited = {}
  local after = '-inf'
  while taken < max do
    local groups = redis.call('ZRANGEBYSCORE', GROUPS, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 64)
    if #groups == 0 then
      break
    end
    for i = 1, #groups, 2 do
      local group = groups[i]
      after = '(' .. groups[i + 1]
      if taken >= max then
        break
      end
      if not visited[group] and tonumber(redis.call('HGET', GFLIGHT, group) or '0') <= 0 then
        visited[group] = true
        local key = gkey(group)
        local from = '-inf'
        local blocked = false
        while not blocked and taken < max do
          local ids = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', 0, max - taken)
          if #ids == 0 then
            break
          end
          for j = 1, #ids, 2 do
            from = '(' .. ids[j + 1]
            local m = parse(redis.call('HGET', ST, ids[j]))
            if m.vis > now or taken >= max then
              blocked = true
              break
            end
            consider(ids[j], m)
          end
        end
      end
      visited[group] = true
    end
  end
end

if attempt ~= '' then
  redis.call('HSET', ATTEMPTS, attempt, cjson.encode({at = fmt(now), entries = entries}))
  redis.call('ZADD', ATTEMPTSX, fmt(now), attempt)
end
out[1] = redis.call('LLEN', OUTBOX)
return out
