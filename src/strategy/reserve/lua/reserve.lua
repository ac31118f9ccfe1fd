-- Hold a cart: every line's units move from stock to reserved, atomically,
-- with a deadline on the sorted set the reaper watches.
--   KEYS[1] holds hash   KEYS[2] deadlines zset   KEYS[3] placed counter
--   then per line i (1-based): KEYS[2+2i] stock, KEYS[3+2i] reserved
--   ARGV[1] hold id (the buyer)   ARGV[2] TTL in µs   ARGV[3] lines "p:q,p:q"
--   then per line i: ARGV[3+i] qty
-- Returns 1 held; 0 sold out; -1 sold out while some of the missing units
-- are held by others (they may come back).
local lines = (#KEYS - 3) / 2
local held_elsewhere = false
for i = 1, lines do
  local stock = tonumber(redis.call('GET', KEYS[2 + 2 * i]) or '0')
  if stock < tonumber(ARGV[3 + i]) then
    for j = 1, lines do
      if tonumber(redis.call('GET', KEYS[3 + 2 * j]) or '0') > 0 then
        held_elsewhere = true
      end
    end
    if held_elsewhere then return -1 end
    return 0
  end
end
for i = 1, lines do
  redis.call('DECRBY', KEYS[2 + 2 * i], ARGV[3 + i])
  redis.call('INCRBY', KEYS[3 + 2 * i], ARGV[3 + i])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('INCR', KEYS[3])
return 1
