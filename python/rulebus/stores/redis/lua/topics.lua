-- SNS topics: KEYS[1] is the topic's meta hash "<prefix>{t:NAME}:meta"; its other keys share the
-- tag. The meta hash: exists, attrs (JSON), version (the subscription version), subs (a counter
-- for subscription order). SUBS: subscription ARN -> JSON (written by Python); ORDER: ARN by
-- order. FIFO state (sequence offset, deduplication window) lives beside them and outlives a
-- deletion until the name is created again. ARGV[1] names the step.
local SUBS, ORDER = BASE .. 'subs', BASE .. 'order'
local FIFO, DEDUP, DEDUPX = BASE .. 'fifo', BASE .. 'dedup', BASE .. 'dedupx'

local function version()
  return tonumber(redis.call('HGET', META, 'version'))
end

local function changed()
  return redis.call('HINCRBY', META, 'version', 1)
end

if step == 'create' then
  -- ARGV attributes JSON, first version: 1 when created, 0 when it existed.
  if exists then
    return 0
  end
  redis.call('DEL', META, SUBS, ORDER, FIFO, DEDUP, DEDUPX)
  redis.call('HSET', META, 'exists', '1', 'attrs', ARGV[2], 'version', ARGV[3], 'subs', '0')
  return 1
end

if step == 'update' then
  if not exists then
    return 0
  end
  redis.call('HSET', META, 'attrs', ARGV[2])
  return 1
end

if step == 'delete' then
  redis.call('DEL', META, SUBS, ORDER, FIFO, DEDUP, DEDUPX)
  return 1
end

if step == 'subscribe' then
  -- ARGV ARN, protocol, endpoint, JSON: {stored JSON, version}; {"", -1} without the topic.
  if not exists then
    return {'', -1}
  end
  for _, text in ipairs(redis.call('HVALS', SUBS)) do
    local sub = cjson.decode(text)
    if sub.protocol == ARGV[3] and sub.endpoint == ARGV[4] then
      return {text, version()}
    end
  end
  redis.call('HSET', SUBS, ARGV[2], ARGV[5])
  redis.call('ZADD', ORDER, redis.call('HINCRBY', META, 'subs', 1), ARGV[2])
  return {ARGV[5], changed()}
end

if step == 'resubscribe' then
  -- ARGV ARN, JSON: the version after (-1 without the topic).
  if not exists then
    return -1
  end
  if redis.call('HEXISTS', SUBS, ARGV[2]) == 1 then
    redis.call('HSET', SUBS, ARGV[2], ARGV[3])
    return changed()
  end
  return version()
end

if step == 'unsubscribe' then
  -- ARGV ARN: {removed 0/1, version}.
  if not exists then
    return {0, -1}
  end
  if redis.call('HDEL', SUBS, ARGV[2]) == 0 then
    return {0, version()}
  end
  redis.call('ZREM', ORDER, ARGV[2])
  return {1, changed()}
end

if step == 'subscriptions' then
  -- {version, JSON...} in subscription order; {-1} without the topic.
  if not exists then
    return {-1}
  end
  local out = {version()}
  for _, arn in ipairs(redis.call('ZRANGE', ORDER, 0, -1)) do
    out[#out + 1] = redis.call('HGET', SUBS, arn)
  end
  return out
end

if step == 'fifo' then
  -- ARGV scope \0 deduplication id, message id, now, step, window: {message id, sequence
  -- offset}, the earlier publish's when its window is still open.
  local now = tonumber(ARGV[4])
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', DEDUPX, '-inf', string.format('%.17g', now))) do
    redis.call('HDEL', DEDUP, key)
    redis.call('ZREM', DEDUPX, key)
  end
  local found = redis.call('HGET', DEDUP, ARGV[2])
  if found then
    local id, offset, untill = string.match(found, '^(.*)|([^|]*)|([^|]*)$')
    if tonumber(untill) > now then
      return {id, offset}
    end
  end
  local offset = redis.call('HINCRBY', FIFO, 'sequence', tonumber(ARGV[5]))
  local untill = string.format('%.17g', now + tonumber(ARGV[6]))
  redis.call('HSET', DEDUP, ARGV[2], ARGV[3] .. '|' .. offset .. '|' .. untill)
  redis.call('ZADD', DEDUPX, untill, ARGV[2])
  return {ARGV[3], tostring(offset)}
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
