-- SendMessage(Batch): ARGV now, then the messages packed in one string: per message 9 fields,
-- each a big-endian 4-byte length and its bytes: id, body, sent, visible_at, receive_count,
-- first, last, group, deduplication key ("" on a standard queue). (One argument instead of nine
-- per message.) On a FIFO queue a message whose deduplication key was sent within its window is
-- not stored: its answer is the earlier message's. Returns id, seq for each message, in order.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
local now = tonumber(ARGV[1])
local packed, at = ARGV[2], 1
local fields = {}
while at <= #packed do
  local length
  length, at = struct.unpack('>I4', packed, at)
  fields[#fields + 1] = string.sub(packed, at, at + length - 1)
  at = at + length
end
local out = {}
if FIFO and #fields > 0 then
  -- Windows that lapsed by the first message's send time are dropped (as the memory store does).
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', DEDUPX, '-inf', fmt(tonumber(fields[3])))) do
    redis.call('HDEL', DEDUP, key)
    redis.call('ZREM', DEDUPX, key)
  end
end
for i = 1, #fields, 9 do
  local id, sent, dedup = fields[i], tonumber(fields[i + 2]), fields[i + 8]
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
    local seq = insert(id, fields[i + 1], fields[i + 2], fields[i + 3], fields[i + 4], fields[i + 5],
      fields[i + 6], fields[i + 7], now)
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
