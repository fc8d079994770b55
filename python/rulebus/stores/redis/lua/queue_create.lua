-- CreateQueue's insert: ARGV attributes JSON, created, modified, fifo ("1"/"0"), retention,
-- recreate_after. "exists" when a queue of the name is there (the caller reads it), an error
-- when the name was deleted less than recreate_after seconds before, else "created".
if exists() then
  return 'exists'
end
local deleted = redis.call('HGET', META, 'deleted')
if deleted and tonumber(ARGV[2]) - tonumber(deleted) < tonumber(ARGV[6]) then
  return redis.error_reply('RULEBUS_RECENTLY_DELETED')
end
redis.call('DEL', META)
redis.call('HSET', META, 'exists', '1', 'attrs', ARGV[1], 'created', ARGV[2], 'modified', ARGV[3],
  'fifo', ARGV[4], 'retention', ARGV[5], 'seq', '0')
return 'created'
