-- EventBridge replays, in two keys of their own slot: KEYS[1] name -> JSON (written by Python),
-- KEYS[2] names by creation. ARGV[1] names the step.
local REPLAYS, ORDER = KEYS[1], KEYS[2]
local step = ARGV[1]

if step == 'create' then
  if redis.call('HSETNX', REPLAYS, ARGV[2], ARGV[3]) == 0 then
    return 0
  end
  redis.call('ZADD', ORDER, redis.call('ZCARD', ORDER) + 1, ARGV[2])
  return 1
end

if step == 'update' then
  -- ARGV name, JSON, then the states it may replace (any when none): 1 when replaced.
  local stored = redis.call('HGET', REPLAYS, ARGV[2])
  if not stored then
    return 0
  end
  if #ARGV > 3 then
    local state = cjson.decode(stored).state
    local allowed = false
    for i = 4, #ARGV do
      if ARGV[i] == state then
        allowed = true
      end
    end
    if not allowed then
      return 0
    end
  end
  redis.call('HSET', REPLAYS, ARGV[2], ARGV[3])
  return 1
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
