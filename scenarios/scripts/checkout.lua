-- A correct checkout for `strategy = "script"`: check and take atomically.
--   KEYS[1] stock   KEYS[2] sold   KEYS[3] orders list   KEYS[4] this order's hash
--   ARGV[1] qty     ARGV[2] order id   ARGV[3] buyer   ARGV[4] time, µs since the epoch
-- Return 1 when bought, 0 when sold out; anything else counts as an error.
local qty = tonumber(ARGV[1])
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
if stock < qty then
  return 0
end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HSET', KEYS[4], 'buyer', ARGV[3], 'qty', qty, 'at_us', ARGV[4])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('INCRBY', KEYS[2], qty)
return 1
