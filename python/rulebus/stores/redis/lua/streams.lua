-- Kinesis streams: KEYS[1] is the stream's meta hash "<prefix>{s:NAME}:meta" (exists, record
-- JSON, sid (the stream id), next (the next sequence number), version (of the shards)); the
-- stream's other keys share the tag: SHARDS (index -> JSON written by Python), one Redis stream
-- per shard ("log:<index>"), CONSUMERS (name -> JSON) with CORDER, and the checkpoint hashes
-- named in CKPTS (with the consumer groups' lease hashes, "leases:<sid>:<group>" shard ->
-- "token|expiry|owner", and worker hashes, "workers:<sid>:<group>" worker -> heartbeat expiry,
-- deleted with them).
-- A shard's log holds one entry per put that had records for it: a chunk of them. Its id is
-- "<first>-<end>", the sequence numbers of its first record and of the one after its last (a put
-- numbers its records in request order across its shards, so a chunk's numbers are increasing
-- but not consecutive, and two chunks of one shard never interleave); its fields are t (the
-- put's arrival time), n (records) and c (the records, packed by Python: every record's number
-- after the chunk's first, then every partition key's length, then every data's length, as
-- big-endian 4, 2 and 4 bytes, then every key, then every data, in order). So a put is one XADD
-- per shard and a read one XRANGE per few hundred records; Python unpacks the chunks.
-- ARGV[1] names the step; steps that name a stream id refuse any other as NOT_FOUND.
local SHARDS, CONSUMERS, CORDER, CKPTS = BASE .. 'shards', BASE .. 'consumers', BASE .. 'corder', BASE .. 'ckpts'

local function log(index)
  return BASE .. 'log:' .. index
end

local function int(x)
  return string.format('%d', x)
end

local function same_stream(sid)
  return exists and redis.call('HGET', META, 'sid') == sid
end

if step == 'create' then
  -- ARGV record JSON, stream id, then (index, JSON) per shard: {1} when created, else {0, the
  -- stored record's JSON}.
  if exists then
    return {0, redis.call('HGET', META, 'record')}
  end
  redis.call('HSET', META, 'exists', '1', 'record', ARGV[2], 'sid', ARGV[3], 'next', '0', 'version', '0')
  for i = 4, #ARGV, 2 do
    redis.call('HSET', SHARDS, ARGV[i], ARGV[i + 1])
  end
  return {1}
end

if step == 'delete' then
  if not exists then
    return 0
  end
  for _, index in ipairs(redis.call('HKEYS', SHARDS)) do
    redis.call('DEL', log(index))
  end
  for _, key in ipairs(redis.call('SMEMBERS', CKPTS)) do
    redis.call('DEL', key)
  end
  redis.call('DEL', META, SHARDS, CONSUMERS, CORDER, CKPTS)
  return 1
end

if step == 'update' then
  -- ARGV stream id, record JSON.
  if not same_stream(ARGV[2]) then
    return 0
  end
  redis.call('HSET', META, 'record', ARGV[3])
  return 1
end

if not exists then
  if step == 'set_checkpoints' or step == 'deregister' or step == 'release' then
    return 0
  end
  if step == 'commit' then
    return {}
  end
  return redis.error_reply('RULEBUS_NOT_FOUND')
end

if step == 'shards' then
  -- {version, JSON per shard}.
  local out = {tonumber(redis.call('HGET', META, 'version'))}
  for _, text in ipairs(redis.call('HVALS', SHARDS)) do
    out[#out + 1] = text
  end
  return out
end

if step == 'view' then
  -- {record JSON, position, JSON per shard}: a reader's pass in one look.
  local out = {redis.call('HGET', META, 'record'), tonumber(redis.call('HGET', META, 'next'))}
  for _, text in ipairs(redis.call('HVALS', SHARDS)) do
    out[#out + 1] = text
  end
  return out
end

if step == 'position' then
  return tonumber(redis.call('HGET', META, 'next'))
end

if step == 'put' then
  -- ARGV the shards version the routing was made for, now, the number of records, then per
  -- shard with records: its index, its first and last record's place in the put (from 0), its
  -- record count and its chunk. The first record's sequence number; STALE when the shards
  -- changed meanwhile.
  if redis.call('HGET', META, 'version') ~= ARGV[2] then
    return redis.error_reply('RULEBUS_STALE')
  end
  local first = tonumber(redis.call('HGET', META, 'next'))
  for i = 5, #ARGV, 5 do
    local id = int(first + tonumber(ARGV[i + 1])) .. '-' .. int(first + tonumber(ARGV[i + 2]) + 1)
    redis.call('XADD', log(ARGV[i]), id, 't', ARGV[3], 'n', ARGV[i + 3], 'c', ARGV[i + 4])
  end
  redis.call('HSET', META, 'next', int(first + tonumber(ARGV[4])))
  return first
end

if step == 'reshard' then
  -- ARGV expected version, then 'close' or 'create' with (index, JSON) where the JSON holds
  -- "__END__" (a closed shard's ending_seq) or "__START__" (a new shard's starting_seq).
  if redis.call('HGET', META, 'version') ~= ARGV[2] then
    return 0
  end
  local ending = tonumber(redis.call('HGET', META, 'next'))
  for i = 3, #ARGV, 3 do
    local text = ARGV[i + 2]
    if ARGV[i] == 'close' then
      text = string.gsub(text, '"__END__"', int(ending))
    else
      text = string.gsub(text, '"__START__"', int(ending + 1))
    end
    redis.call('HSET', SHARDS, ARGV[i + 1], text)
  end
  redis.call('HSET', META, 'next', int(ending + 2))
  redis.call('HINCRBY', META, 'version', 1)
  return 1
end

if step == 'read' then
  -- ARGV stream id, shard, position, limit, not before: flat (id, arrival, count, chunk) per
  -- chunk that arrived at or after not before, from the one holding the position (Python skips
  -- its records before it), until those after the first hold more than limit records (so
  -- Python knows whether more follow) or the log ends.
  if not same_stream(ARGV[2]) then
    return redis.error_reply('RULEBUS_NOT_FOUND')
  end
  if redis.call('HEXISTS', SHARDS, ARGV[3]) == 0 then
    return {}
  end
  local key, position, limit, not_before = log(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
  local from = '-'
  local before = redis.call('XREVRANGE', key, ARGV[4], '-', 'COUNT', 1)
  if #before == 1 then
    local ending = tonumber(string.match(before[1][1], '-(%d+)$'))
    from = (ending > position and '' or '(') .. before[1][1]
  end
  local out, after = {}, -1
  while true do
    local entries = redis.call('XRANGE', key, from, '+', 'COUNT', 64)
    if #entries == 0 then
      return out
    end
    for _, entry in ipairs(entries) do
      local fields = entry[2]
      if tonumber(fields[2]) >= not_before then
        out[#out + 1] = entry[1]
        out[#out + 1] = fields[2]
        out[#out + 1] = fields[4]
        out[#out + 1] = fields[6]
        if after >= 0 then
          after = after + tonumber(fields[4])
          if after > limit then
            return out
          end
        else
          after = 0
        end
      end
      from = '(' .. entry[1]
    end
  end
end

if step == 'trim' then
  -- ARGV not before: the records that arrived before it go, and the shards that closed before
  -- it; how many records went.
  local not_before = tonumber(ARGV[2])
  local dropped = 0
  for _, index in ipairs(redis.call('HKEYS', SHARDS)) do
    local key = log(index)
    while true do
      local entries = redis.call('XRANGE', key, '-', '+', 'COUNT', 100)
      local old = {}
      for _, entry in ipairs(entries) do
        if tonumber(entry[2][2]) < not_before then
          old[#old + 1] = entry[1]
          dropped = dropped + tonumber(entry[2][4])
        else
          break
        end
      end
      if #old > 0 then
        redis.call('XDEL', key, unpack(old))
      end
      if #old < #entries or #entries == 0 then
        break
      end
    end
    local closed = cjson.decode(redis.call('HGET', SHARDS, index)).closed_at
    if type(closed) == 'number' and closed < not_before then
      redis.call('HDEL', SHARDS, index)
      redis.call('DEL', key)
    end
  end
  return dropped
end

if step == 'checkpoints' then
  -- ARGV stream id, consumer: flat (shard, position) pairs.
  if not same_stream(ARGV[2]) then
    return redis.error_reply('RULEBUS_NOT_FOUND')
  end
  return redis.call('HGETALL', BASE .. 'ckpt:' .. ARGV[2] .. ':' .. ARGV[3])
end

if step == 'set_checkpoints' then
  -- ARGV stream id, consumer, then (shard, position) pairs.
  if not same_stream(ARGV[2]) then
    return 0
  end
  local key = BASE .. 'ckpt:' .. ARGV[2] .. ':' .. ARGV[3]
  for i = 4, #ARGV, 2 do
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  end
  redis.call('SADD', CKPTS, key)
  return 1
end

-- Consumer groups (the pure Python twin is rulebus/stores/leases.py, which says the balancing).
local function group_keys(sid, group)
  local leases = BASE .. 'leases:' .. sid .. ':' .. group
  local workers = BASE .. 'workers:' .. sid .. ':' .. group
  redis.call('SADD', CKPTS, leases, workers)
  return leases, workers
end

local function read_leases(key)
  -- shard -> {token, expiry, owner, text of the expiry}
  local out = {}
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do
    local token, expiry, owner = string.match(flat[i + 1], '^(%d+)|([^|]*)|(.*)$')
    out[tonumber(flat[i])] = {tonumber(token), tonumber(expiry), owner, expiry}
  end
  return out
end

local function lease_text(token, expiry, owner)
  return int(token) .. '|' .. expiry .. '|' .. owner
end

if step == 'acquire' then
  -- ARGV stream id, group, worker, now, expiry (now + lease seconds, as Python wrote it), then
  -- the shards ready to read: flat (shard, token) pairs of what the worker holds now.
  if not same_stream(ARGV[2]) then
    return redis.error_reply('RULEBUS_NOT_FOUND')
  end
  local leases_key, workers_key = group_keys(ARGV[2], ARGV[3])
  local worker, now, expires = ARGV[4], tonumber(ARGV[5]), ARGV[6]
  local leases = read_leases(leases_key)
  local available, ready = {}, {}
  for i = 7, #ARGV do
    local shard = tonumber(ARGV[i])
    if not ready[shard] then
      ready[shard] = true
      available[#available + 1] = shard
    end
  end
  table.sort(available)
  local live, nlive = {}, 0
  local flat = redis.call('HGETALL', workers_key)
  for i = 1, #flat, 2 do
    if flat[i] ~= worker and tonumber(flat[i + 1]) > now then
      live[flat[i]] = flat[i + 1]
      nlive = nlive + 1
    else
      redis.call('HDEL', workers_key, flat[i])
    end
  end
  redis.call('HSET', workers_key, worker, expires)
  nlive = nlive + 1
  local counts = {}
  for _, shard in ipairs(available) do
    local lease = leases[shard]
    if lease and lease[3] ~= '' and lease[2] > now then
      counts[lease[3]] = (counts[lease[3]] or 0) + 1
    end
  end
  local floor = math.floor(#available / nlive)
  local extra = #available - floor * nlive
  local needy = false
  for name, _ in pairs(live) do
    if (counts[name] or 0) < floor then
      needy = true
    end
  end
  local limit = floor
  if not needy and extra > 0 then
    limit = floor + 1
  end
  local mine = {}
  for shard, lease in pairs(leases) do
    if lease[3] == worker then
      if ready[shard] then
        mine[#mine + 1] = shard
      else
        redis.call('HSET', leases_key, shard, lease_text(lease[1], '0', ''))
      end
    end
  end
  table.sort(mine)
  local out, kept = {}, 0
  for _, shard in ipairs(mine) do
    local lease = leases[shard]
    if kept < limit then
      redis.call('HSET', leases_key, shard, lease_text(lease[1], expires, worker))
      out[#out + 1] = shard
      out[#out + 1] = lease[1]
      kept = kept + 1
    else
      redis.call('HSET', leases_key, shard, lease_text(lease[1], '0', ''))
    end
  end
  for _, shard in ipairs(available) do
    if kept >= limit then
      break
    end
    local lease = leases[shard]
    local token = nil
    if not lease then
      token = 1
    elseif lease[3] ~= worker and (lease[3] == '' or lease[2] <= now) then
      token = lease[1] + 1
    end
    if token then
      redis.call('HSET', leases_key, shard, lease_text(token, expires, worker))
      out[#out + 1] = shard
      out[#out + 1] = token
      kept = kept + 1
    end
  end
  return out
end

if step == 'release' then
  -- ARGV stream id, group, worker.
  if not same_stream(ARGV[2]) then
    return 0
  end
  local leases_key, workers_key = group_keys(ARGV[2], ARGV[3])
  for shard, lease in pairs(read_leases(leases_key)) do
    if lease[3] == ARGV[4] then
      redis.call('HSET', leases_key, shard, lease_text(lease[1], '0', ''))
    end
  end
  redis.call('HDEL', workers_key, ARGV[4])
  return 1
end

if step == 'commit' then
  -- ARGV stream id, group, then (shard, token, position) triples: the shards refused.
  if not same_stream(ARGV[2]) then
    return {}
  end
  local leases_key = group_keys(ARGV[2], ARGV[3])
  local key = BASE .. 'ckpt:' .. ARGV[2] .. ':' .. ARGV[3]
  redis.call('SADD', CKPTS, key)
  local refused = {}
  for i = 4, #ARGV, 3 do
    local text = redis.call('HGET', leases_key, ARGV[i])
    if text and string.match(text, '^(%d+)|') == ARGV[i + 1] then
      redis.call('HSET', key, ARGV[i], ARGV[i + 2])
    else
      refused[#refused + 1] = tonumber(ARGV[i])
    end
  end
  return refused
end

if step == 'group' then
  -- ARGV stream id, group: {flat (shard, lease text) pairs, flat (worker, expiry) pairs}.
  if not same_stream(ARGV[2]) then
    return redis.error_reply('RULEBUS_NOT_FOUND')
  end
  local leases_key = BASE .. 'leases:' .. ARGV[2] .. ':' .. ARGV[3]
  local workers_key = BASE .. 'workers:' .. ARGV[2] .. ':' .. ARGV[3]
  return {redis.call('HGETALL', leases_key), redis.call('HGETALL', workers_key)}
end

if step == 'register' then
  -- ARGV stream id, name, JSON, limit: {stored JSON, 1 if registered now}; {} at the limit.
  if not same_stream(ARGV[2]) then
    return redis.error_reply('RULEBUS_NOT_FOUND')
  end
  local existing = redis.call('HGET', CONSUMERS, ARGV[3])
  if existing then
    return {existing, 0}
  end
  if redis.call('HLEN', CONSUMERS) >= tonumber(ARGV[5]) then
    return {}
  end
  redis.call('HSET', CONSUMERS, ARGV[3], ARGV[4])
  redis.call('ZADD', CORDER, redis.call('HINCRBY', META, 'consumers', 1), ARGV[3])
  return {ARGV[4], 1}
end

if step == 'consumers' then
  if not same_stream(ARGV[2]) then
    return redis.error_reply('RULEBUS_NOT_FOUND')
  end
  local out = {}
  for _, name in ipairs(redis.call('ZRANGE', CORDER, 0, -1)) do
    out[#out + 1] = redis.call('HGET', CONSUMERS, name)
  end
  return out
end

if step == 'deregister' then
  if not same_stream(ARGV[2]) then
    return 0
  end
  redis.call('ZREM', CORDER, ARGV[3])
  return redis.call('HDEL', CONSUMERS, ARGV[3])
end

return redis.error_reply('RULEBUS_UNKNOWN_STEP')
