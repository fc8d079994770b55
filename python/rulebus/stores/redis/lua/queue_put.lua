-- SendMessage(Batch): ARGV now, then 9 fields per message: id, body, sent, visible_at,
-- receive_count, first, last, group, deduplication key ("" on a standard queue). On a FIFO queue
-- a message whose deduplication key was sent within its window is not stored: its answer is the
-- earlier message's. Returns id, seq for each message, in order.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
local now = tonumber(ARGV[1])
local out = {}
if FIFO and #ARGV > 1 then
  -- Windows that lapsed by the first message's send time are dropped (as the memory store does).
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', DEDUPX, '-inf', fmt(tonumber(ARGV[4])))) do
    redis.call('HDEL', DEDUP, key)
    redis.call('ZREM', DEDUPX, key)
  end
end
for i = 2, #ARGV, 9 do
  local id, sent, dedup = ARGV[i], tonumber(ARGV[i + 2]), ARGV[i + 8]
  local earlier = nil
  if FIFO then
    local found = redis.call('HGET', DEDUP, dedup)
    if found then
      local eid, eseq, untill = string.match(found, '^(.*)|([^|]*)|([^|]*)$')
      if tonumber(untill) > sent then
        earlier = {eid, eseq}
      end
    end
  end
  if earlier then
    out[#out + 1] = earlier[1]
    out[#out + 1] = earlier[2]
  else
    local seq = insert(id, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5],
      ARGV[i + 6], ARGV[i + 7], now)
    if FIFO then
      local untill = sent + tonumber(redis.call('HGET', META, 'dedup_window') or '300')
      redis.call('HSET', DEDUP, dedup, id .. '|' .. seq .. '|' .. fmt(untill))
      redis.call('ZADD', DEDUPX, fmt(untill), dedup)
    end
    out[#out + 1] = id
    out[#out + 1] = tostring(seq)
  end
end
return out
