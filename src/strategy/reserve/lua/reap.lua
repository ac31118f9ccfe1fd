-- Return expired holds to stock. Each due hold ends here only if it is
-- still in the holds hash: a confirm or cancel that got there first wins.
--   KEYS[1] deadlines zset   KEYS[2] holds hash   KEYS[3] ended log
--   then per product p (0-based): KEYS[4+2p] stock, KEYS[5+2p] reserved
--   ARGV[1] most holds per call
-- Returns, per hold returned, µs from its deadline to now (server clock).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local lags = {}
for k = 1, #due, 2 do
  local id = due[k]
  redis.call('ZREM', KEYS[1], id)
  local lines = redis.call('HGET', KEYS[2], id)
  if lines then
    redis.call('HDEL', KEYS[2], id)
    for p, q in string.gmatch(lines, '(%d+):(%d+)') do
      redis.call('INCRBY', KEYS[4 + 2 * tonumber(p)], q)
      redis.call('DECRBY', KEYS[5 + 2 * tonumber(p)], q)
    end
    redis.call('RPUSH', KEYS[3], id .. ':e')
    lags[#lags + 1] = now - tonumber(due[k + 1])
  end
end
return lags
