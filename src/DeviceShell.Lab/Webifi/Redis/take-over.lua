-- This relay serves the session from now on; its pump reads the whole stream, so all of it counts as unread.
-- KEYS[1]: the session's record, KEYS[2]: its stream. ARGV: device id, this relay's name.
-- Returns the record's fields (account, device, networks, mi, ...) or an empty list when it is not the session's.
local device = ARGV[1]
if not owns(device) then return {} end
local bytes, messages = 0, 0
-- Entries as route.lua writes them: entry[2][4] is 'b' (bytes), entry[2][6] is 'n' (messages).
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do
  bytes = bytes + tonumber(entry[2][4])
  messages = messages + tonumber(entry[2][6])
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'unread', messages, 'unread-bytes', bytes)
return redis.call('HGETALL', KEYS[1])
