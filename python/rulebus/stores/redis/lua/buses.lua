-- EventBridge buses with their rules, targets and schedule claims: KEYS[1] is the bus's meta
-- hash "<prefix>{b:NAME}:meta" (exists, record JSON, version); the bus's other keys share the
-- tag: RULES (name -> JSON), CREATED (name -> first creation time), RORDER (rule names by first
-- put), TARGETS ("rule\0id" -> JSON), TORDER (the same by first put), TCOUNT (rule -> how many
-- targets), FIRES (rule -> the latest scheduled fire claimed). ARGV[1] names the step.
local RULES, CREATED, RORDER = BASE .. 'rules', BASE .. 'created', BASE .. 'rorder'
local TARGETS, TORDER, TCOUNT, FIRES = BASE .. 'targets', BASE .. 'torder', BASE .. 'tcount', BASE .. 'fires'

local function changed()
  return redis.call('HINCRBY', META, 'version', 1)
end

if step == 'create' then
  -- ARGV record JSON, first version: 1 when created.
  if exists then
    return 0
  end
  redis.call('DEL', META, RULES, CREATED, RORDER, TARGETS, TORDER, TCOUNT)
  redis.call('HSET', META, 'exists', '1', 'record', ARGV[2], 'version', ARGV[3], 'n', '0')
  return 1
end

if step == 'delete' then
  redis.call('DEL', META, RULES, CREATED, RORDER, TARGETS, TORDER, TCOUNT)
  return 1
end

if step == 'fire' then
  -- ARGV rule, fire time: 1 for the first claim of a fire (fires are claimed in time order).
  local latest = redis.call('HGET', FIRES, ARGV[2])
  if latest and tonumber(latest) >= tonumber(ARGV[3]) then
    return 0
  end
  redis.call('HSET', FIRES, ARGV[2], ARGV[3])
  return 1
end

if not exists then
  if step == 'rules' then
    return {-1}
  end
  if step == 'delete_rule' then
    return 'absent'
  end
  if step == 'remove_targets' then
    return 0
  end
  return redis.error_reply('RULEBUS_NOT_FOUND bus')
end

if step == 'put_rule' then
  -- ARGV name, JSON, creation time: the creation time kept (the first put's).
  local name = ARGV[2]
  if redis.call('HSETNX', CREATED, name, ARGV[4]) == 1 then
    redis.call('ZADD', RORDER, redis.call('HINCRBY', META, 'n', 1), name)
  end
  redis.call('HSET', RULES, name, ARGV[3])
  changed()
  return redis.call('HGET', CREATED, name)
end

if step == 'delete_rule' then
  local name = ARGV[2]
  if redis.call('HEXISTS', RULES, name) == 0 then
    return 'absent'
  end
  if tonumber(redis.call('HGET', TCOUNT, name) or '0') > 0 then
    return 'has_targets'
  end
  redis.call('HDEL', RULES, name)
  redis.call('HDEL', CREATED, name)
  redis.call('ZREM', RORDER, name)
  changed()
  return 'deleted'
end

if step == 'rules' then
  -- {version, how many rules, (JSON, creation time) per rule, then every target's JSON}.
  local out = {tonumber(redis.call('HGET', META, 'version')), 0}
  for _, name in ipairs(redis.call('ZRANGE', RORDER, 0, -1)) do
    out[#out + 1] = redis.call('HGET', RULES, name)
    out[#out + 1] = redis.call('HGET', CREATED, name)
    out[2] = out[2] + 1
  end
  for _, key in ipairs(redis.call('ZRANGE', TORDER, 0, -1)) do
    out[#out + 1] = redis.call('HGET', TARGETS, key)
  end
  return out
end

if step == 'put_targets' then
  -- ARGV rule, limit, then (id, JSON) pairs: the ids refused for the limit.
  local rule, limit = ARGV[2], tonumber(ARGV[3])
  if redis.call('HEXISTS', RULES, rule) == 0 then
    return redis.error_reply('RULEBUS_NOT_FOUND rule')
  end
  local count = tonumber(redis.call('HGET', TCOUNT, rule) or '0')
  local refused = {}
  local stored = 0
  for i = 4, #ARGV, 2 do
    local key = rule .. '\0' .. ARGV[i]
    if redis.call('HEXISTS', TARGETS, key) == 0 then
      if count >= limit then
        refused[#refused + 1] = ARGV[i]
      else
        count = count + 1
        redis.call('ZADD', TORDER, redis.call('HINCRBY', META, 'n', 1), key)
        redis.call('HSET', TARGETS, key, ARGV[i + 1])
        stored = stored + 1
      end
    else
      redis.call('HSET', TARGETS, key, ARGV[i + 1])
      stored = stored + 1
    end
  end
  redis.call('HSET', TCOUNT, rule, count)
  if stored > 0 then
    changed()
  end
  return refused
end

if step == 'remove_targets' then
  -- ARGV rule, ids...
  local rule = ARGV[2]
  local removed = 0
  for i = 3, #ARGV do
    local key = rule .. '\0' .. ARGV[i]
    if redis.call('HDEL', TARGETS, key) == 1 then
      redis.call('ZREM', TORDER, key)
      redis.call('HINCRBY', TCOUNT, rule, -1)
      removed = removed + 1
    end
  end
  if removed > 0 then
    changed()
  end
  return removed
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
