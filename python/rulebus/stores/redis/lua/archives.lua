-- EventBridge archives: KEYS[1] is the archive's meta hash "<prefix>{a:NAME}:meta" (exists,
-- record JSON, seq, count, size); EVENTS (seq -> JSON [event_time, archived_at, event]), SIZES
-- (seq -> UTF-8 size), BYTIME (seqs zero-padded, by event time: equal times sort by seq),
-- BYARRIVAL (seqs by archived_at). ARGV[1] names the step.
local EVENTS, SIZES, BYTIME, BYARRIVAL = BASE .. 'events', BASE .. 'sizes', BASE .. 'bytime', BASE .. 'byarrival'

local function forget(member)
  local seq = tostring(tonumber(member))
  local size = tonumber(redis.call('HGET', SIZES, seq) or '0')
  redis.call('HDEL', EVENTS, seq)
  redis.call('HDEL', SIZES, seq)
  redis.call('ZREM', BYTIME, member)
  redis.call('ZREM', BYARRIVAL, seq)
  redis.call('HINCRBY', META, 'count', -1)
  redis.call('HINCRBY', META, 'size', -size)
end

if step == 'create' then
  if exists then
    return 0
  end
  redis.call('DEL', META, EVENTS, SIZES, BYTIME, BYARRIVAL)
  redis.call('HSET', META, 'exists', '1', 'record', ARGV[2], 'seq', '0', 'count', '0', 'size', '0')
  return 1
end

if step == 'update' then
  if not exists then
    return 0
  end
  redis.call('HSET', META, 'record', ARGV[2])
  return 1
end

if step == 'delete' then
  if not exists then
    return 0
  end
  redis.call('DEL', META, EVENTS, SIZES, BYTIME, BYARRIVAL)
  return 1
end

if step == 'add' then
  -- ARGV archived_at, then (event_time, JSON, size) triples. Nothing when the archive is gone.
  if not exists then
    return 0
  end
  for i = 3, #ARGV, 3 do
    local seq = redis.call('HINCRBY', META, 'seq', 1)
    redis.call('HSET', EVENTS, seq, ARGV[i + 1])
    redis.call('HSET', SIZES, seq, ARGV[i + 2])
    redis.call('ZADD', BYTIME, ARGV[i], string.format('%020d', seq))
    redis.call('ZADD', BYARRIVAL, ARGV[2], seq)
    redis.call('HINCRBY', META, 'count', 1)
    redis.call('HINCRBY', META, 'size', tonumber(ARGV[i + 2]))
  end
  return 1
end

if step == 'events' then
  -- ARGV start, end, after time ("" none), after seq, limit: (seq, event time, JSON) triples
  -- with start <= time < end, after the position, in (time, seq) order.
  local low = ARGV[2]
  local after_time, after_seq = tonumber(ARGV[4]), tonumber(ARGV[5])
  if after_time and after_time > tonumber(low) then
    low = ARGV[4]
  end
  local limit = tonumber(ARGV[6])
  local out = {}
  local offset = 0
  while #out < 3 * limit do
    local found = redis.call('ZRANGEBYSCORE', BYTIME, low, '(' .. ARGV[3], 'WITHSCORES', 'LIMIT', offset, limit)
    if #found == 0 then
      break
    end
    offset = offset + #found / 2
    for i = 1, #found, 2 do
      local seq, time = tonumber(found[i]), tonumber(found[i + 1])
      if #out < 3 * limit and (not after_time or time > after_time or (time == after_time and seq > after_seq)) then
        out[#out + 1] = tostring(seq)
        out[#out + 1] = found[i + 1]
        out[#out + 1] = redis.call('HGET', EVENTS, tostring(seq))
      end
    end
  end
  return out
end

if step == 'trim' then
  -- ARGV archived before: how many events went.
  local old = redis.call('ZRANGEBYSCORE', BYARRIVAL, '-inf', '(' .. ARGV[2])
  for _, seq in ipairs(old) do
    forget(string.format('%020d', tonumber(seq)))
  end
  return #old
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
