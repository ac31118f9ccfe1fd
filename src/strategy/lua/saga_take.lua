-- One line of a saga cart: take it if the product has the units, atomically
-- on that product's own keys (so each line may live on its own node).
--   KEYS[1] the product's stock   KEYS[2] its sold counter   ARGV[1] qty
-- Returns 1 when taken, 0 when the product lacks the units (nothing taken).
local qty = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < qty then
  return 0
end
redis.call('DECRBY', KEYS[1], qty)
redis.call('INCRBY', KEYS[2], qty)
return 1
