-- Prepended to every relay script (RedisScript.cs). KEYS[1] is always a key of the account the call is about, in
-- its key space 'deviceshell:webifi:{a:ACCOUNT}:'. Keys the script only finds while it runs (the listeners of a
-- network, their records and streams) are built in that same space, so every key of a call hashes to the account's
-- slot and the call runs on one node of a Redis Cluster (docs/design/decisions.md §26).
local space = string.match(KEYS[1], '^(.*}:)')

-- A session is named by its device id (number 's' random token); its record is 'session:NUMBER', and the record is
-- still that session's only while it holds that device id (docs/design/decisions.md §25).
local function record(device) return space .. 'session:' .. string.match(device, '^%d+') end
local function stream(device) return space .. 'stream:' .. device end
local function listenersOf(net) return space .. 'listeners:' .. net end
local function owns(device) return redis.call('HGET', record(device), 'device') == device end

local function now()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- 'sessions' (sorted set, scored by the time the session's record expires unless refreshed) counts the account's
-- sessions on every relay, for the cap; 'idle' (scored by last seen) holds those with no WebSocket and no held
-- download, as their relays last reported them: the ones a login at the cap may end.
local function leave(device)
  if not owns(device) then return end
  local networks = redis.call('HGET', record(device), 'networks') or ''
  for net in string.gmatch(networks, '[^\n]+') do redis.call('SREM', listenersOf(net), device) end
end

local function remove(device)
  leave(device)
  if owns(device) then redis.call('DEL', record(device)) end
  redis.call('DEL', stream(device))
  redis.call('ZREM', space .. 'sessions', device)
  redis.call('ZREM', space .. 'idle', device)
end

