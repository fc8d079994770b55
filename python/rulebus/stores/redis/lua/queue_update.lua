-- SetQueueAttributes: ARGV attributes JSON, modified, retention.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
redis.call('HSET', META, 'attrs', ARGV[1], 'modified', ARGV[2], 'retention', ARGV[3])
return 1
