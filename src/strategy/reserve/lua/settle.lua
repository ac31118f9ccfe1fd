-- End a hold by confirming or cancelling it. Removing the hold from the
-- holds hash is the one step that decides who ends it: confirm, cancel and
-- the reaper all start there, so exactly one of them wins.
--   KEYS[1] holds hash   KEYS[2] deadlines zset   KEYS[3] ended log
--   KEYS[4] orders list  KEYS[5] this order's hash
--   then per line i (1-based): KEYS[3+3i] stock, KEYS[4+3i] sold, KEYS[5+3i] reserved
--   ARGV[1] hold id   ARGV[2] "c" confirm or "x" cancel   ARGV[3] time µs
--   then per line i: ARGV[3+i] the product index of line i's keys
-- Returns 1 when this call ended the hold as asked, 0 when it had already
-- ended or its deadline has passed. A hold past its deadline is expired
-- whether or not the reaper has come by yet: it is returned to stock here,
-- logged as expired, and the confirm or cancel is refused.
local id = ARGV[1]
local lines = redis.call('HGET', KEYS[1], id)
if not lines then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local deadline = tonumber(redis.call('ZSCORE', KEYS[2], id) or now)
local how = ARGV[2]
if now > deadline then
  how = 'e'
end
redis.call('HDEL', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
local slot = {}
for i = 1, (#KEYS - 5) / 3 do
  slot[ARGV[3 + i]] = i
end
local order = { 'buyer', id, 'at_us', ARGV[3] }
local total = 0
for p, q in string.gmatch(lines, '(%d+):(%d+)') do
  local i = slot[p]
  if not i then
    return redis.error_reply('hold ' .. id .. ' holds product ' .. p .. ' without keys for it')
  end
  if how == 'c' then
    redis.call('INCRBY', KEYS[4 + 3 * i], q)
  else
    redis.call('INCRBY', KEYS[3 + 3 * i], q)
  end
  redis.call('DECRBY', KEYS[5 + 3 * i], q)
  order[#order + 1] = 'p:' .. p
  order[#order + 1] = q
  total = total + tonumber(q)
end
if how == 'c' then
  order[#order + 1] = 'qty'
  order[#order + 1] = total
  redis.call('HSET', KEYS[5], unpack(order))
  redis.call('RPUSH', KEYS[4], id)
end
redis.call('RPUSH', KEYS[3], id .. ':' .. how)
if how == 'e' then
  return 0
end
return 1
