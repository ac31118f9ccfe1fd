-- Undo one line a saga cart took: the units go back to stock and come off
-- the sold counter, atomically on that product's own keys.
--   KEYS[1] the product's stock   KEYS[2] its sold counter   ARGV[1] qty
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('DECRBY', KEYS[2], ARGV[1])
return 1
