-- A message arriving from another queue (a dead-letter move, a move task): ARGV now, id, body,
-- sent, visible_at, receive_count, first, last, group. Stored once: an id already here (an
-- arrival delivered again after a failure) is left alone. Returns its seq, or 0.
if not exists() then
  return redis.error_reply('RULEBUS_NOT_FOUND')
end
if redis.call('HEXISTS', BODY, ARGV[2]) == 1 then
  return 0
end
return insert(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[1]))
