-- The pump read entries of a session's stream, now (not recreating the record of a session that ended meanwhile).
-- KEYS[1]: the session's record. ARGV: device id, entries read, their payload bytes.
if not owns(ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'unread', -tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[1], 'unread-bytes', -tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'read-at', now())
return 0
