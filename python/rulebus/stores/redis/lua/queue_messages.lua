-- DeleteMessage(Batch), ChangeMessageVisibility(Batch), the counts, peeks and move-task takes:
-- ARGV[1] names the step. Each answers as rulebus.stores.base.QueueStore says.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
local step = ARGV[1]

if step == 'delete' then
  -- ARGV in_flight_at ("" none), ids...: 'deleted', 'gone' or 'expired' (a FIFO handle whose
  -- message is visible again) for each.
  local at = ARGV[2]
  local results = {}
  for i = 3, #ARGV do
    local s = redis.call('HGET', ST, ARGV[i])
    if not s then
      results[#results + 1] = 'gone'
    elseif at ~= '' and parse(s).vis <= tonumber(at) then
      results[#results + 1] = 'expired'
    else
      remove(ARGV[i])
      results[#results + 1] = 'deleted'
    end
  end
  return results
end

if step == 'visibility' then
  -- ARGV now, the 12-hour limit, then (id, timeout) pairs: 'changed', 'not_found' or
  -- 'beyond_limit' for each.
  local now, most = tonumber(ARGV[2]), tonumber(ARGV[3])
  local cut = cutoff(now)
  local results = {}
  for i = 4, #ARGV, 2 do
    local s = redis.call('HGET', ST, ARGV[i])
    local timeout = tonumber(ARGV[i + 1])
    local m = s and parse(s)
    if not m or m.sent <= cut then
      results[#results + 1] = 'not_found'
    elseif m.last ~= '' and now + timeout > tonumber(m.last) + most then
      results[#results + 1] = 'beyond_limit'
    else
      m.vis = now + timeout
      place(ARGV[i], m, now, false)
      results[#results + 1] = 'changed'
    end
  end
  return results
end

if step == 'purge' then
  -- ARGV now, the minimum interval: 1 when purged, 0 when the last purge was too recent.
  local last = redis.call('HGET', META, 'purged')
  if last and tonumber(ARGV[2]) - tonumber(last) < tonumber(ARGV[3]) then
    return 0
  end
  for _, group in ipairs(redis.call('ZRANGE', GROUPS, 0, -1)) do
    redis.call('DEL', gkey(group))
  end
  redis.call('DEL', BODY, ST, READY, DELAYED, FLIGHT, SENT, ALL, GROUPS, GFLIGHT, GRP)
  redis.call('HSET', META, 'purged', ARGV[2])
  return 1
end

if step == 'counts' then
  -- ARGV now: visible, in flight, delayed.
  local now = tonumber(ARGV[2])
  expire(now)
  promote(now)
  return {redis.call('ZCARD', READY), redis.call('ZCARD', FLIGHT), redis.call('ZCARD', DELAYED)}
end

if step == 'peek' then
  -- ARGV now, how many: the first messages in send order, expired ones left out, unchanged.
  local cut = cutoff(tonumber(ARGV[2]))
  local most = tonumber(ARGV[3])
  local out = {}
  local from = 0
  while #out < 3 * most do
    local ids = redis.call('ZRANGE', ALL, from, from + most - 1)
    if #ids == 0 then
      break
    end
    from = from + #ids
    for _, id in ipairs(ids) do
      local s = redis.call('HGET', ST, id)
      if #out < 3 * most and parse(s).sent > cut then
        out[#out + 1] = id
        out[#out + 1] = redis.call('HGET', BODY, id)
        out[#out + 1] = s
      end
    end
  end
  return out
end

if step == 'first' then
  -- ARGV now: the oldest visible message (id, body, state), or nothing; for a move task.
  local now = tonumber(ARGV[2])
  expire(now)
  promote(now)
  local from = 0
  while true do
    local ids = redis.call('ZRANGE', READY, from, from + 15)
    if #ids == 0 then
      return {}
    end
    for _, id in ipairs(ids) do
      local s = redis.call('HGET', ST, id)
      if parse(s).vis <= now then
        return {id, redis.call('HGET', BODY, id), s}
      end
    end
    from = from + #ids
  end
end

if step == 'take' then
  -- ARGV now, id, target, new id: a move task takes the message it was shown, if it is still
  -- visible, into the outbox (its delivery to the target follows). 1 when taken.
  local now = tonumber(ARGV[2])
  promote(now)
  local id = ARGV[3]
  if not redis.call('ZSCORE', READY, id) then
    return 0
  end
  local body, state = redis.call('HGET', BODY, id), redis.call('HGET', ST, id)
  remove(id)
  redis.call('RPUSH', OUTBOX, cjson.encode({'move', ARGV[4], id, body, state, ARGV[2], ARGV[5]}))
  return 1
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
