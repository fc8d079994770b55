-- What the scripts of one topic, bus, archive or stream share (prepended by scripts.py): KEYS[1]
-- is the resource's meta hash "<prefix>{<tag>}:meta", its other keys are named from BASE and
-- share the hash tag; ARGV[1] names the step; "exists" in the meta hash says the resource is
-- there (a deleted one may keep a few fields, such as a topic's FIFO state).
local META = KEYS[1]
local BASE = string.sub(META, 1, -5)
local step = ARGV[1]
local exists = redis.call('HGET', META, 'exists') == '1'
