-- Replaces a session's networks; adopts the undelivered entries of same-account listeners whose relay is gone.
-- KEYS[1]: the session's record, KEYS[2]: its stream. ARGV: device id, key lifetime (ms), network count, networks,
-- then the names of the relays alive. Returns 12 when the record is not the session's (any more), else 0.
local device, ttl = ARGV[1], tonumber(ARGV[2])
if not owns(device) then return 12 end
local session, own = KEYS[1], KEYS[2]
leave(device)
local i = 3
local count = tonumber(ARGV[i]); i = i + 1
local networks = {}
for k = 1, count do networks[k] = ARGV[i]; i = i + 1 end
local live = {}
for k = i, #ARGV do live[ARGV[k]] = true end
for _, net in ipairs(networks) do
  local key = listenersOf(net)
  for _, other in ipairs(redis.call('SMEMBERS', key)) do
    if other ~= device then
      local owner = owns(other) and redis.call('HGET', record(other), 'owner')
      if not owner then
        redis.call('SREM', key, other)
      elseif not live[owner] then
        -- Entries as route.lua writes them: entry[2][4] is 'b' (bytes), entry[2][6] is 'n' (messages).
        for _, entry in ipairs(redis.call('XRANGE', stream(other), '-', '+')) do
          redis.call('XADD', own, '*', unpack(entry[2]))
          redis.call('HINCRBY', session, 'unread', entry[2][6])
          redis.call('HINCRBY', session, 'unread-bytes', entry[2][4])
        end
        remove(other)
      end
    end
  end
  redis.call('SADD', key, device)
end
redis.call('HSET', session, 'networks', table.concat(networks, '\n'))
if redis.call('EXISTS', own) == 1 then
  redis.call('PEXPIRE', own, ttl)
  redis.call('PUBLISH', 'deviceshell:webifi:wake', device)
end
return 0
