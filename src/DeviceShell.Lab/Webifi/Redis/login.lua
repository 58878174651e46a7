-- Records a new session unless the account is at the cap on all relays together: then the least recently seen idle
-- session is ended (its relay hears it on 'ended'), or, when none is idle, nothing is recorded and '' returned.
-- KEYS[1]: the account's sessions, KEYS[2]: its idle set, KEYS[3]: the record of the number handed out.
-- ARGV: that number, random part of the device id, owner, key lifetime (ms), cap, message ids, account.
-- Returns the new session's device id, '' at the cap, or 'taken' when the number's record is in use (after a restart
-- of Redis without persistence): the caller takes the next number.
local id, ttl, cap, mi = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local sessions, idle, key, time = KEYS[1], KEYS[2], KEYS[3], now()
if redis.call('EXISTS', key) == 1 then return 'taken' end
for _, expired in ipairs(redis.call('ZRANGEBYSCORE', sessions, '-inf', time)) do redis.call('ZREM', idle, expired) end
redis.call('ZREMRANGEBYSCORE', sessions, '-inf', time)
if redis.call('ZCARD', sessions) >= cap then
  local ended = redis.call('ZRANGE', idle, 0, 0)[1]
  if not ended then return '' end
  remove(ended)
  redis.call('PUBLISH', 'deviceshell:webifi:ended', ended)
end
local device = id .. 's' .. ARGV[2]
redis.call('HSET', key, 'account', ARGV[7], 'device', device, 'owner', ARGV[3], 'networks', '', 'mi', mi)
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', sessions, time + ttl, device)
redis.call('ZADD', idle, time, device)
redis.call('PEXPIRE', sessions, ttl)
redis.call('PEXPIRE', idle, ttl)
return device
