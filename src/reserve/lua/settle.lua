-- End a hold by confirming or cancelling it. Removing the hold from the
-- holds hash is the one step that decides who ends it: confirm, cancel and
-- the reaper all start with HDEL, so exactly one of them wins.
--   KEYS[1] holds hash   KEYS[2] deadlines zset   KEYS[3] ended log
--   KEYS[4] orders list  KEYS[5] this order's hash
--   then per product line i (1-based): KEYS[4+2i] stock (cancel) or sold
--   (confirm), KEYS[5+2i] reserved
--   ARGV[1] hold id   ARGV[2] "c" confirm or "x" cancel   ARGV[3] time µs
--   then per line i: ARGV[3+i] the product index of KEYS[4+2i]
-- Returns 1 when this call ended the hold, 0 when it had already ended
-- (expired or settled): nothing moves then.
local id = ARGV[1]
local lines = redis.call('HGET', KEYS[1], id)
if not lines then
  return 0
end
redis.call('HDEL', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
local slot = {}
for i = 1, (#KEYS - 5) / 2 do
  slot[ARGV[3 + i]] = i
end
local order = { 'buyer', id, 'at_us', ARGV[3] }
local total = 0
for p, q in string.gmatch(lines, '(%d+):(%d+)') do
  local i = slot[p]
  if not i then
    return redis.error_reply('hold ' .. id .. ' holds product ' .. p .. ' without a key for it')
  end
  redis.call('INCRBY', KEYS[4 + 2 * i], q)
  redis.call('DECRBY', KEYS[5 + 2 * i], q)
  order[#order + 1] = 'p:' .. p
  order[#order + 1] = q
  total = total + tonumber(q)
end
if ARGV[2] == 'c' then
  order[#order + 1] = 'qty'
  order[#order + 1] = total
  redis.call('HSET', KEYS[5], unpack(order))
  redis.call('RPUSH', KEYS[4], id)
end
redis.call('RPUSH', KEYS[3], id .. ':' .. ARGV[2])
return 1
