-- Acquire the lock and, in the same step, take the next fencing token, so no
-- other holder can be issued a token between our acquisition and ours.
--   KEYS[1] lock   KEYS[2] fence counter
--   ARGV[1] lock token   ARGV[2] TTL in ms
-- Returns the fencing token (>= 1), or 0 when the lock is held by someone else.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
