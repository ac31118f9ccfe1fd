-- Take the units and record the order only if our fencing token is still the
-- latest one issued. If the lock expired during our critical section and
-- someone acquired it after us, our read of the stock may be stale: refuse.
-- (Comparing with the latest *issued* token, not the latest *written* one,
-- is what makes a read-check-write safe: any write since our acquisition
-- would have carried a newer token.)
--   KEYS[1] fence counter   KEYS[2] stock   KEYS[3] sold   KEYS[4] orders   KEYS[5] order hash
--   ARGV[1] our token   ARGV[2] qty   ARGV[3] order id   ARGV[4] buyer   ARGV[5] time, µs
-- Returns 1 when recorded, -1 when our token is stale.
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then
  return -1
end
local qty = tonumber(ARGV[2])
redis.call('DECRBY', KEYS[2], qty)
redis.call('HSET', KEYS[5], 'buyer', ARGV[4], 'qty', qty, 'at_us', ARGV[5])
redis.call('RPUSH', KEYS[4], ARGV[3])
redis.call('INCRBY', KEYS[3], qty)
return 1
