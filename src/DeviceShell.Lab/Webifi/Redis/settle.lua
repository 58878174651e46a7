-- A relay stopping in order leaves a session: what it wrote is deleted, and with no owner the next session of the
-- account that joins its networks adopts what is still undelivered; until its client comes back (to another relay)
-- it is the first to give way to a login at the cap. A script, not a watched transaction: routing writes the
-- session's record (its unread count) all the time.
-- KEYS[1]: the session's record, KEYS[2]: its stream, KEYS[3]: the account's idle set. ARGV: device id, the first
-- stream id not written out ('' when nothing was): everything before it goes.
local device = ARGV[1]
if not owns(device) then return 0 end
if ARGV[2] ~= '' then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[2]) end
redis.call('HSET', KEYS[1], 'owner', '')
redis.call('ZADD', KEYS[3], 0, device)
return 0
