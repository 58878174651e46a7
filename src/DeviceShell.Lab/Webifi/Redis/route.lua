-- Routes the data messages of one read (RedisRelayRouter.RouteAllAsync). KEYS[1]: the sender's record.
-- ARGV: sender id, sender's device id, stream length cap, unread byte cap, key lifetime (ms), message count, then per
-- message its code so far (2 for a network the account lacks or a malformed id, 7 not to route it), its group count
-- and per group: network count, networks, session id count, ids, data type, data, message id ('' when none); last,
-- how recently (ms) a relay must have read a stream for its backlog to count.
-- Returns one code per message, then the largest unread count among recipients whose relay read recently.
-- A recipient gets one stream entry per call, not one per message: 'f' sender, 'b' payload bytes, 'n' messages, then
-- per message 'dt', 'u' ('' when none), 'd' (RedisMailbox reads them; join.lua and take-over.lua count 'b' and 'n').
-- Past EntryMessages messages a recipient's next ones start a new entry (Lua's unpack has a limit).
local from, fromDevice, maxlen, maxbytes, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local messages = tonumber(ARGV[6])
local EntryMessages = 1000
local listening, ownDevice, appended, wake, codes, unreadBytes = {}, {}, {}, {}, {}, {}
local pending, pendingBytes, pendingCount = {}, {}, {}
if not owns(fromDevice) then
  for m = 1, messages do codes[m] = 12 end
  codes[#codes + 1] = 0
  return codes
end
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
local function append(device)
  redis.call('XADD', stream(device), 'MAXLEN', '~', maxlen, '*', 'f', from, 'b', pendingBytes[device], 'n', pendingCount[device], unpack(pending[device]))
  pending[device] = nil
end
local i = 7
for m = 1, messages do
  local stored = true
  local code, groups = tonumber(ARGV[i]), tonumber(ARGV[i + 1]); i = i + 2
  for g = 1, groups do
    local recipients, order = {}, {}
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
        code = math.max(code, 2)
      elseif not recipients[device] then
        recipients[device] = true; order[#order + 1] = device
      end
    end
    local dt, d, u = ARGV[i], ARGV[i + 1], ARGV[i + 2]; i = i + 3
    for _, device in ipairs(order) do
      if not room(device, #d) then
        stored = false
      else
        if not appended[device] then appended[device] = 0; wake[#wake + 1] = device end
        if not pending[device] then pending[device], pendingBytes[device], pendingCount[device] = {}, 0, 0 end
        local fields = pending[device]
        fields[#fields + 1] = 'dt'; fields[#fields + 1] = dt
        fields[#fields + 1] = 'u'; fields[#fields + 1] = u
        fields[#fields + 1] = 'd'; fields[#fields + 1] = d
        pendingBytes[device] = pendingBytes[device] + #d
        pendingCount[device] = pendingCount[device] + 1
        appended[device] = appended[device] + 1
        if pendingCount[device] == EntryMessages then append(device) end
      end
    end
  end
  if not stored and code == 0 then code = 1 end
  codes[m] = code
end
local backlog = 0
local readSince = now() - tonumber(ARGV[i])
for _, device in ipairs(wake) do
  if pending[device] then append(device) end
  local session, key = record(device), stream(device)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
  local unread = redis.call('HINCRBY', session, 'unread', appended[device])
  redis.call('HSET', session, 'unread-bytes', unreadBytes[device])
  if tonumber(redis.call('HGET', session, 'read-at') or 0) >= readSince then backlog = math.max(backlog, unread) end
  redis.call('PUBLISH', 'deviceshell:webifi:wake', device)
end
codes[#codes + 1] = backlog
return codes
