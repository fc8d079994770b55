-- Idempotency keys: KEYS[1] the records (key -> JSON [status, token, expires_at, result]),
-- KEYS[2] the same keys by expires_at. ARGV[1] names the step, ARGV[2] the key.
local RECORDS, EXPIRY = KEYS[1], KEYS[2]
local step, key = ARGV[1], ARGV[2]
local text = redis.call('HGET', RECORDS, key)
local record = text and cjson.decode(text)

local function put(status, token, expires, result)
  local fields = {status, token, expires}
  if result ~= '' then
    fields[4] = string.sub(result, 2) -- (a leading "=" marks a result; "" none)
  end
  redis.call('HSET', RECORDS, key, cjson.encode(fields))
  redis.call('ZADD', EXPIRY, expires, key)
end

local function drop()
  redis.call('HDEL', RECORDS, key)
  redis.call('ZREM', EXPIRY, key)
end

if step == 'claim' then
  -- ARGV token, now, lease until: the live record's JSON, or "" when claimed now.
  if record and tonumber(record[3]) > tonumber(ARGV[4]) then
    return text
  end
  put('IN_PROGRESS', ARGV[3], ARGV[5], '')
  return ''
end

if step == 'complete' then
  -- ARGV token, result ("=..." or ""), expires at: 1 when the token still held the key.
  if not record or record[2] ~= ARGV[3] then
    return 0
  end
  put('COMPLETED', ARGV[3], ARGV[5], ARGV[4])
  return 1
end

if step == 'release' then
  if not record or record[2] ~= ARGV[3] then
    return 0
  end
  drop()
  return 1
end

if step == 'delete' then
  if not record then
    return 0
  end
  drop()
  return 1
end

if step == 'purge' then
  -- ARGV now: how many records were not live.
  local gone = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', ARGV[3])
  for _, old in ipairs(gone) do
    redis.call('HDEL', RECORDS, old)
    redis.call('ZREM', EXPIRY, old)
  end
  return #gone
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
