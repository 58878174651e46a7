-- Keeps one account's sessions of a relay alive and reports which are idle. KEYS[1]: the account's sessions,
-- KEYS[2]: its idle set. ARGV: key lifetime (ms), then per session its device id, how long it has been idle in ms
-- (-1: in use) and its in-use report count when that was looked at: an idle report older than the session's last
-- in-use report (its client attached while this call was on its way) is dropped, so the session is not offered to a
-- login at the cap. Returns the device ids whose record is gone or another session's (ended by a login on another
-- relay, expired while this relay could not reach Redis, or lost in a restart of Redis): their relay ends them, and
-- their clients log in again.
local ttl, time, gone = tonumber(ARGV[1]), now(), {}
local sessions, idle = KEYS[1], KEYS[2]
for k = 2, #ARGV, 3 do
  local device, idleFor, reports = ARGV[k], tonumber(ARGV[k + 1]), ARGV[k + 2]
  local session = record(device)
  if not owns(device) then
    gone[#gone + 1] = device
  else
    redis.call('PEXPIRE', session, ttl)
    redis.call('PEXPIRE', stream(device), ttl)
    redis.call('ZADD', sessions, time + ttl, device)
    if idleFor < 0 then
      redis.call('ZREM', idle, device)
    elseif (redis.call('HGET', session, 'in-use-reports') or '0') == reports then
      redis.call('ZADD', idle, time - idleFor, device)
    end
  end
end
redis.call('PEXPIRE', sessions, ttl)
redis.call('PEXPIRE', idle, ttl)
return gone
