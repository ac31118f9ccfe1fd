-- A checkout with the kind of bug the gate exists to catch. A script runs
-- atomically, so it cannot race; it can still be wrong. This one takes one
-- unit whatever the quantity ordered (DECR where DECRBY qty was meant), so
-- the stock runs out later than it should and more is sold than there was.
--   KEYS[1] stock   KEYS[2] sold   KEYS[3] orders list   KEYS[4] this order's hash
--   ARGV[1] qty     ARGV[2] order id   ARGV[3] buyer   ARGV[4] time, µs since the epoch
local qty = tonumber(ARGV[1])
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
if stock < qty then
  return 0
end
redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[4], 'buyer', ARGV[3], 'qty', qty, 'at_us', ARGV[4])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('INCRBY', KEYS[2], qty)
return 1
