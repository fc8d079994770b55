-- DeleteQueue: every key of the queue goes; the meta hash keeps only the deletion time (ARGV[1])
-- for CreateQueue's 60-second rule. The caller empties the outbox first.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
for _, group in ipairs(redis.call('ZRANGE', GROUPS, 0, -1)) do
  redis.call('DEL', gkey(group))
end
redis.call('DEL', BODY, ST, READY, DELAYED, FLIGHT, SENT, ALL, GROUPS, GFLIGHT, GRP, DEDUP, DEDUPX,
  ATTEMPTS, ATTEMPTSX, OUTBOX, META)
redis.call('HSET', META, 'deleted', ARGV[1])
return 1
