-- Buy a whole cart or nothing, atomically: check every line, then take them all.
--   KEYS[1] orders list   KEYS[2] this order's hash
--   then per line i (1-based): KEYS[1+2i] the product's stock, KEYS[2+2i] its sold counter
--   ARGV[1] order id (the buyer)   ARGV[2] time, µs since the epoch
--   then per line i: ARGV[1+2i] product index, ARGV[2+2i] qty
-- Returns 1 when bought, 0 when any line lacks stock (nothing taken).
local lines = (#KEYS - 2) / 2
for i = 1, lines do
  local stock = tonumber(redis.call('GET', KEYS[1 + 2 * i]) or '0')
  if stock < tonumber(ARGV[2 + 2 * i]) then
    return 0
  end
end
local total = 0
local order = { 'buyer', ARGV[1], 'at_us', ARGV[2] }
for i = 1, lines do
  local qty = tonumber(ARGV[2 + 2 * i])
  redis.call('DECRBY', KEYS[1 + 2 * i], qty)
  redis.call('INCRBY', KEYS[2 + 2 * i], qty)
  order[#order + 1] = 'p:' .. ARGV[1 + 2 * i]
  order[#order + 1] = qty
  total = total + qty
end
order[#order + 1] = 'qty'
order[#order + 1] = total
redis.call('HSET', KEYS[2], unpack(order))
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
