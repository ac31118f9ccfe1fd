-- buy.lua behind an idempotency key: the first execution for a buyer runs
-- the purchase and stores its result; every later one (a retry after an
-- unknown outcome) replays that result and changes nothing, as Stripe's
-- idempotency keys do. The key shares the hash tag of the others, so the
-- check and the purchase stay one atomic script on a cluster too.
--   KEYS[1] stock   KEYS[2] sold   KEYS[3] orders list   KEYS[4] order hash
--   KEYS[5] the buyer's idempotency key
--   ARGV[1] qty     ARGV[2] order id   ARGV[3] buyer   ARGV[4] time, µs since the epoch
--   ARGV[5] seconds the idempotency key lives (the namespace's safety TTL)
-- Returns 1 when bought, 0 when there is not enough stock, first time or replayed.
local first = redis.call('GET', KEYS[5])
if first then
  return tonumber(first)
end
local qty = tonumber(ARGV[1])
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
local result = 0
if stock >= qty then
  redis.call('DECRBY', KEYS[1], qty)
  redis.call('HSET', KEYS[4], 'buyer', ARGV[3], 'qty', qty, 'at_us', ARGV[4])
  redis.call('RPUSH', KEYS[3], ARGV[2])
  redis.call('INCRBY', KEYS[2], qty)
  result = 1
end
-- A fresh key nobody WATCHes, so its expiry disturbs no transaction; it
-- only keeps a run that dies before cleanup from leaving it forever.
redis.call('SET', KEYS[5], result, 'EX', ARGV[5])
return result
