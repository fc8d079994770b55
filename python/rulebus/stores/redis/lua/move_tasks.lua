-- Message move tasks, all in two keys of their own slot: KEYS[1] the tasks (id -> JSON written
-- by Python), KEYS[2] their start order. ARGV[1] names the step.
local TASKS, ORDER = KEYS[1], KEYS[2]
local step = ARGV[1]

if step == 'create' then
  -- ARGV source ARN, task id, JSON: 0 when the source has an active task already.
  for _, text in ipairs(redis.call('HVALS', TASKS)) do
    local task = cjson.decode(text)
    if task.source_arn == ARGV[2] and (task.status == 'RUNNING' or task.status == 'CANCELLING') then
      return 0
    end
  end
  redis.call('HSET', TASKS, ARGV[3], ARGV[4])
  redis.call('ZADD', ORDER, redis.call('ZCARD', ORDER) + 1, ARGV[3])
  return 1
end

if step == 'replace' then
  -- ARGV task id, the JSON read, the new JSON: compare-and-set; 1 when replaced.
  if redis.call('HGET', TASKS, ARGV[2]) ~= ARGV[3] then
    return 0
  end
  redis.call('HSET', TASKS, ARGV[2], ARGV[4])
  return 1
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
