-- Release a lock only while we still own it: after our TTL ran out someone
-- else may hold it, and deleting their lock would let a third buyer in.
--   KEYS[1] lock   ARGV[1] our token
-- Returns 1 when released, 0 when the lock was no longer ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
