/**
 * The Lua script that applies one slot's subjects atomically: the Store contract's get → peek →
 * take (all or nothing per subject) → add → set → del, with the sliding-window arithmetic of
 * `@actiongate/memory`'s window module, line for line. Each subject is one hash:
 *
 *   m:<name>   →  "<until or empty>|<JSON value>"
 *   w:<name>   →  msgpack of { windowMs, slot, count, slot, count… }
 *   _perm      →  present while a mark without end was ever set (the key then never expires)
 *   _exp       →  the end the key's TTL covers now (so the script need not ask PTTL)
 *   _rid, _res →  the last request that wrote here and its answer, so a request the client resends
 *                 after a reconnect is answered, not applied twice (as long as no other request
 *                 wrote the subject in between, and the batch names each subject once, as the
 *                 guard's batches do)
 *
 * Operations arrive as flat ARGV and answers leave as Lua tables: JSON both ways cost more Redis
 * CPU than the work itself (measured in docs/performance.md).
 *
 * ARGV: now ('' = Redis TIME), request id, then per key: #get #peek #take #add #set #del and the
 * items: get name | peek name windowMs | take name windowMs max cost dry | add name windowMs cost
 * at('' = now) | set name json until('' = none) | del name.
 * Answer: { now, per key { marks {name, json…}, counts {name, count…}, takes {name, count,
 * admitted, resetMs…}, consumed } }.
 */
export const APPLY_SCRIPT = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local request = ARGV[2]
local SLOTS = 60
local pos = 3

local function arg()
  local v = ARGV[pos]
  pos = pos + 1
  return v
end

local function slot_ms(window) return math.max(1, math.ceil(window / SLOTS)) end
local function leaves_at(slot, sms, window) return (slot + 1) * sms + window end

local function read_window(raw, window)
  if not raw then return {} end
  local packed = cmsgpack.unpack(raw)
  if packed[1] ~= window then return {} end
  local data = {}
  for i = 2, #packed do data[i - 1] = packed[i] end
  return data
end

local function write_window(window, data)
  local packed = { window }
  for i = 1, #data do packed[i + 1] = data[i] end
  return cmsgpack.pack(packed)
end

local function prune(data, window)
  local sms = slot_ms(window)
  while #data > 0 and leaves_at(data[1], sms, window) <= now do
    table.remove(data, 1)
    table.remove(data, 1)
  end
  local count = 0
  for i = 2, #data, 2 do count = count + data[i] end
  return count
end

local function add_hit(data, window, at, cost)
  local slot = math.floor(at / slot_ms(window))
  local i = #data - 1
  while i >= 1 and data[i] > slot do i = i - 2 end
  if cost < 0 and data[i] ~= slot and #data > 0 then i = #data - 1 end
  if i >= 1 and (data[i] == slot or cost < 0) then
    local nxt = data[i + 1] + cost
    if nxt > 0 then data[i + 1] = nxt else table.remove(data, i); table.remove(data, i) end
  elseif cost > 0 then
    table.insert(data, i + 2, slot)
    table.insert(data, i + 3, cost)
  end
end

local function try_take(data, count, window, max, cost)
  local sms = slot_ms(window)
  if count + cost <= max then
    local first = #data > 0 and data[1] or math.floor(now / sms)
    return count + cost, 1, leaves_at(first, sms, window) - now
  end
  if cost > max then return count, 0, window end
  local remaining = count
  for i = 1, #data, 2 do
    remaining = remaining - data[i + 1]
    if remaining + cost <= max then return count, 0, leaves_at(data[i], sms, window) - now end
  end
  return count, 0, window
end

local out = { now }
for k = 1, #KEYS do
  local key = KEYS[k]
  local ng, np, nt, na, ns, nd = tonumber(arg()), tonumber(arg()), tonumber(arg()), tonumber(arg()), tonumber(arg()), tonumber(arg())
  local gets, peeks, takes, adds, sets, dels = {}, {}, {}, {}, {}, {}
  for i = 1, ng do gets[i] = arg() end
  for i = 1, np do peeks[i] = { arg(), tonumber(arg()) } end
  for i = 1, nt do takes[i] = { arg(), tonumber(arg()), tonumber(arg()), tonumber(arg()), arg() == '1' } end
  for i = 1, na do adds[i] = { arg(), tonumber(arg()), tonumber(arg()), tonumber(arg()) } end
  for i = 1, ns do sets[i] = { arg(), arg(), tonumber(arg()) } end
  for i = 1, nd do dels[i] = arg() end

  -- One HMGET for every field this subject's operations read.
  local fields, index = { '_perm', '_exp', '_rid', '_res' }, {}
  local function want(field)
    if not index[field] then fields[#fields + 1] = field; index[field] = #fields end
  end
  for _, name in ipairs(gets) do want('m:' .. name) end
  for _, p in ipairs(peeks) do want('w:' .. p[1]) end
  for _, t in ipairs(takes) do want('w:' .. t[1]) end
  for _, a in ipairs(adds) do want('w:' .. a[1]) end
  local values = redis.call('HMGET', key, unpack(fields))
  local function value(field) local v = values[index[field]]; if v then return v end return nil end
  local perm = values[1]
  local known_expire = tonumber(values[2]) or 0
  -- Keyed by position too: one batch may name the same subject twice.
  local request_id = request .. ':' .. k
  local res
  if request ~= '' and values[3] == request_id then
    -- A request the client resent after a reconnect: its first answer, not a second count.
    res = cmsgpack.unpack(values[4])
  else
    local marks, counts, taken, consumed = {}, {}, {}, 0
    local writes, deletes, windows = {}, {}, {}
    local expire = 0
    local function window_of(name, window)
      local cached = windows[name]
      if cached and cached.window == window then return cached.data end
      local data = read_window(value('w:' .. name), window)
      windows[name] = { window = window, data = data }
      return data
    end

    for _, name in ipairs(gets) do
      local raw = value('m:' .. name)
      if raw then
        local sep = string.find(raw, '|', 1, true)
        local untilv = tonumber(string.sub(raw, 1, sep - 1))
        if untilv and untilv <= now then
          deletes[#deletes + 1] = 'm:' .. name
        else
          marks[#marks + 1] = name
          marks[#marks + 1] = string.sub(raw, sep + 1)
        end
      end
    end

    for _, p in ipairs(peeks) do
      counts[#counts + 1] = p[1]
      counts[#counts + 1] = prune(window_of(p[1], p[2]), p[2])
    end

    local dirty = {}
    if #takes > 0 then
      local all, dry, results = true, false, {}
      for i, t in ipairs(takes) do
        local data = window_of(t[1], t[2])
        local count, admitted, reset = try_take(data, prune(data, t[2]), t[2], t[3], t[4])
        if admitted == 0 then all = false end
        if t[5] then dry = true end
        results[i] = { count, admitted, reset }
      end
      if all and not dry then
        for _, t in ipairs(takes) do
          add_hit(window_of(t[1], t[2]), t[2], now, t[4])
          dirty[t[1]] = t[2]
        end
        consumed = 1
      elseif not all then
        for i, t in ipairs(takes) do
          if results[i][2] == 1 then results[i][1] = results[i][1] - t[4] end
        end
      end
      for i, t in ipairs(takes) do
        taken[#taken + 1] = t[1]
        taken[#taken + 1] = results[i][1]
        taken[#taken + 1] = results[i][2]
        taken[#taken + 1] = results[i][3]
      end
    end

    for _, a in ipairs(adds) do
      local data = window_of(a[1], a[2])
      add_hit(data, a[2], a[4] or now, a[3])
      prune(data, a[2])
      dirty[a[1]] = a[2]
    end

    -- del runs last: a name deleted in this operation drops what take/add/set wrote to it.
    local dropped = {}
    for _, name in ipairs(dels) do dropped[name] = true end

    for name, window in pairs(dirty) do
      local data = windows[name].data
      if dropped[name] then
        -- written below by the del loop
      elseif #data == 0 then
        deletes[#deletes + 1] = 'w:' .. name
      else
        writes[#writes + 1] = 'w:' .. name
        writes[#writes + 1] = write_window(window, data)
        expire = math.max(expire, leaves_at(data[#data - 1], slot_ms(window), window))
      end
    end

    for _, s in ipairs(sets) do
      local untilv = s[3]
      if dropped[s[1]] then
        -- written below by the del loop
      elseif untilv and untilv <= now then
        deletes[#deletes + 1] = 'm:' .. s[1]
      elseif not untilv then
        writes[#writes + 1] = 'm:' .. s[1]
        writes[#writes + 1] = '|' .. s[2]
        perm = '1'
        writes[#writes + 1] = '_perm'
        writes[#writes + 1] = '1'
      else
        writes[#writes + 1] = 'm:' .. s[1]
        writes[#writes + 1] = string.format('%d', untilv) .. '|' .. s[2]
        expire = math.max(expire, untilv)
      end
    end

    for _, name in ipairs(dels) do
      deletes[#deletes + 1] = 'm:' .. name
      deletes[#deletes + 1] = 'w:' .. name
    end

    res = { marks, counts, taken, consumed }
    if #deletes > 0 then redis.call('HDEL', key, unpack(deletes)) end
    if #writes > 0 then
      -- The TTL only ever grows, to the latest end written; _exp remembers it without a PTTL.
      if not perm and expire > known_expire then
        writes[#writes + 1] = '_exp'
        writes[#writes + 1] = string.format('%d', expire)
      end
      if request ~= '' then
        writes[#writes + 1] = '_rid'
        writes[#writes + 1] = request_id
        writes[#writes + 1] = '_res'
        writes[#writes + 1] = cmsgpack.pack(res)
      end
      redis.call('HSET', key, unpack(writes))
      if perm then
        redis.call('PERSIST', key)
      elseif expire > known_expire then
        redis.call('PEXPIRE', key, expire - now)
      end
    end
  end
  out[k + 1] = res
end
return out
`;
