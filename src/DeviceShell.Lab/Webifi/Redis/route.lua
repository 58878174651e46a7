-- Routes the data messages of one read (RedisRelayRouter.RouteAllAsync). KEYS[1]: the sender's record.
-- ARGV: sender id, sender's device id, stream length cap, unread byte cap, key lifetime (ms), how recently (ms) a
-- relay must have read a stream for its backlog to count, segment count, then per segment (consecutive data groups
-- addressed alike): network count, networks, session id count, ids, group count, their payload bytes, and the groups
-- themselves as one string (StreamMessages.cs).
-- Returns 12 when the sender's record is gone or another session's; else one character per group ('0' stored for
-- every recipient, '1' not for one whose unread bytes are at the cap, '2' an addressed session id unknown, '3' both)
-- and the largest unread count among recipients whose relay read recently.
-- A recipient gets one stream entry per call: 'f' sender, 'b' payload bytes, 'n' messages, 'm' the segments' strings
-- as they came (RedisMailbox reads them; join.lua and take-over.lua count 'b' and 'n'). Recipients are worked out
-- once per segment, and a segment's string is walked only for a recipient with room for part of it.
local from, fromDevice, maxlen, maxbytes, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local readSince, segments = now() - tonumber(ARGV[6]), tonumber(ARGV[7])
if not owns(fromDevice) then return 12 end
local listening, ownDevice, unreadBytes = {}, {}, {}
local wake, parts, partBytes, partCount = {}, {}, {}, {}
local function listeners(net)
  local live = listening[net]
  if live then return live end
  local key = listenersOf(net)
  live = {}
  for _, device in ipairs(redis.call('SMEMBERS', key)) do
    if owns(device) then live[#live + 1] = device else redis.call('SREM', key, device) end
  end
  listening[net] = live
  return live
end
-- Session ids are looked up in the account's own space: another account's id is unknown here.
local function deviceOf(id)
  if ownDevice[id] == nil then
    ownDevice[id] = redis.call('HGET', space .. 'session:' .. id, 'device') or false
  end
  return ownDevice[id]
end
local function room(device, size)
  if unreadBytes[device] == nil then unreadBytes[device] = tonumber(redis.call('HGET', record(device), 'unread-bytes') or 0) end
  if unreadBytes[device] + size > maxbytes then return false end
  unreadBytes[device] = unreadBytes[device] + size
  return true
end
local function add(device, messages, bytes, count)
  if not parts[device] then parts[device], partBytes[device], partCount[device] = {}, 0, 0; wake[#wake + 1] = device end
  local list = parts[device]
  list[#list + 1] = messages
  partBytes[device] = partBytes[device] + bytes
  partCount[device] = partCount[device] + count
end
-- The groups of a segment one at a time, for a recipient without room for all: those with room, the rest marked cut.
local function addEach(device, messages, count, cut)
  local at, kept, bytes = 1, {}, 0
  for g = 1, count do
    local typeBytes, idBytes, dataBytes, body = struct.unpack('<I4I4I4', messages, at)
    local nextAt = body + typeBytes + idBytes + dataBytes
    if room(device, dataBytes) then
      kept[#kept + 1] = string.sub(messages, at, nextAt - 1)
      bytes = bytes + dataBytes
    else
      cut[g] = true
    end
    at = nextAt
  end
  if #kept > 0 then add(device, table.concat(kept), bytes, #kept) end
end
local flags, i = {}, 8
for s = 1, segments do
  local recipients, order, unknown = {}, {}, false
  local count = tonumber(ARGV[i]); i = i + 1
  for k = 1, count do
    for _, device in ipairs(listeners(ARGV[i])) do
      if device ~= fromDevice and not recipients[device] then recipients[device] = true; order[#order + 1] = device end
    end
    i = i + 1
  end
  count = tonumber(ARGV[i]); i = i + 1
  for k = 1, count do
    local device = deviceOf(ARGV[i]); i = i + 1
    if not device then
      unknown = true
    elseif not recipients[device] then
      recipients[device] = true; order[#order + 1] = device
    end
  end
  local groups, bytes, messages = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]; i = i + 3
  local cut = {}
  for _, device in ipairs(order) do
    if room(device, bytes) then add(device, messages, bytes, groups) else addEach(device, messages, groups, cut) end
  end
  local flag = unknown and 2 or 0
  if next(cut) == nil then
    flags[#flags + 1] = string.rep(flag, groups)
  else
    for g = 1, groups do flags[#flags + 1] = cut[g] and flag + 1 or flag end
  end
end
local backlog = 0
for _, device in ipairs(wake) do
  local session, key = record(device), stream(device)
  redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'f', from, 'b', partBytes[device], 'n', partCount[device], 'm', table.concat(parts[device]))
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
  local unread = redis.call('HINCRBY', session, 'unread', partCount[device])
  redis.call('HSET', session, 'unread-bytes', unreadBytes[device])
  if tonumber(redis.call('HGET', session, 'read-at') or 0) >= readSince then backlog = math.max(backlog, unread) end
  redis.call('PUBLISH', 'deviceshell:webifi:wake', device)
end
return {table.concat(flags), backlog}
