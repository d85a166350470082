/**
 * The Lua script that applies one slot's subjects atomically: the Store contract's get → peek →
 * take (all or nothing per subject) → add → set → del, with the sliding-window arithmetic of
 * `@actiongate/memory`'s window module, line for line. Each subject is one hash:
 *
 *   m:<name>  →  "<until or empty>|<JSON value>"
 *   w:<name>  →  "<windowMs>|<slot>,<count>,<slot>,<count>…"
 *   _perm     →  present while a mark without end was ever set (the key then never expires)
 *   _exp      →  the end the key's TTL covers now (so the script need not ask PTTL)
 *   _rid, _res →  the last request that wrote here and its answer, so a request the client resends
 *                 after a reconnect is answered, not applied twice (as long as no other request
 *                 wrote the subject in between, and the batch names each subject once, as the
 *                 guard's batches do)
 *
 * The key's TTL is only ever extended to cover the latest end of what was written, so nothing
 * lives without an expiry unless a permanent mark asks for it.
 */
export const APPLY_SCRIPT = `
local ops = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
local request = ARGV[3] or ''
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local SLOTS = 60

local function slot_ms(window) return math.max(1, math.ceil(window / SLOTS)) end
local function leaves_at(slot, sms, window) return (slot + 1) * sms + window end

local function read_window(raw, window)
  local data = {}
  if not raw then return data end
  local sep = string.find(raw, '|', 1, true)
  if tonumber(string.sub(raw, 1, sep - 1)) ~= window then return data end
  for n in string.gmatch(string.sub(raw, sep + 1), '[^,]+') do data[#data + 1] = tonumber(n) end
  return data
end

local function write_window(window, data)
  local parts = {}
  for i = 1, #data do parts[i] = string.format('%d', data[i]) end
  return string.format('%d', window) .. '|' .. table.concat(parts, ',')
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
  if i >= 1 and data[i] == slot then
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

local out = {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local op = ops[k]
  local res = { m = {}, c = {}, t = {}, k = 0 }

  -- One HMGET for every field this subject's operations read.
  local fields, index = { '_perm', '_exp', '_rid', '_res' }, {}
  local function want(field)
    if not index[field] then fields[#fields + 1] = field; index[field] = #fields end
  end
  for _, name in ipairs(op.g or {}) do want('m:' .. name) end
  for _, p in ipairs(op.p or {}) do want('w:' .. p[1]) end
  for _, t in ipairs(op.t or {}) do want('w:' .. t[1]) end
  for _, a in ipairs(op.a or {}) do want('w:' .. a[1]) end
  local values = redis.call('HMGET', key, unpack(fields))
  local function value(field) local v = values[index[field]]; if v then return v end return nil end
  local perm = values[1]
  local known_expire = tonumber(values[2]) or 0
  -- A request the client sent again after a reconnect (ioredis resends unanswered commands)
  -- gets its first answer back instead of counting twice.
  -- Keyed by position too: one batch may name the same subject twice.
  local request_id = request .. ':' .. k
  local replay = request ~= '' and values[3] == request_id
  if replay then res = cjson.decode(values[4]) end
  if not replay then
    local writes, deletes, windows = {}, {}, {}
    local expire = 0
    local function window_of(name, window)
      local cached = windows[name]
      if cached and cached.window == window then return cached.data end
      local data = read_window(value('w:' .. name), window)
      windows[name] = { window = window, data = data }
      return data
    end

    for _, name in ipairs(op.g or {}) do
      local raw = value('m:' .. name)
      if raw then
        local sep = string.find(raw, '|', 1, true)
        local untilv = tonumber(string.sub(raw, 1, sep - 1))
        if untilv and untilv <= now then
          deletes[#deletes + 1] = 'm:' .. name
        else
          res.m[#res.m + 1] = name
          res.m[#res.m + 1] = string.sub(raw, sep + 1)
        end
      end
    end

    for _, p in ipairs(op.p or {}) do
      res.c[#res.c + 1] = p[1]
      res.c[#res.c + 1] = prune(window_of(p[1], p[2]), p[2])
    end

    local takes = op.t or {}
    local dirty = {}
    if #takes > 0 then
      local all, dry = true, false
      for i, t in ipairs(takes) do
        local data = window_of(t[1], t[2])
        local count, admitted, reset = try_take(data, prune(data, t[2]), t[2], t[3], t[4])
        if admitted == 0 then all = false end
        if t[5] == 1 then dry = true end
        res.t[i] = { t[1], count, admitted, reset }
      end
      if all and not dry then
        for _, t in ipairs(takes) do
          add_hit(window_of(t[1], t[2]), t[2], now, t[4])
          dirty[t[1]] = t[2]
        end
        res.k = 1
      elseif not all then
        for i, t in ipairs(takes) do
          if res.t[i][3] == 1 then res.t[i][2] = res.t[i][2] - t[4] end
        end
      end
    end

    for _, a in ipairs(op.a or {}) do
      local at = a[4]
      if at == nil or at == cjson.null then at = now end
      local data = window_of(a[1], a[2])
      add_hit(data, a[2], at, a[3])
      prune(data, a[2])
      dirty[a[1]] = a[2]
    end

    for name, window in pairs(dirty) do
      local data = windows[name].data
      if #data == 0 then
        deletes[#deletes + 1] = 'w:' .. name
      else
        writes[#writes + 1] = 'w:' .. name
        writes[#writes + 1] = write_window(window, data)
        expire = math.max(expire, leaves_at(data[#data - 1], slot_ms(window), window))
      end
    end

    for _, s in ipairs(op.s or {}) do
      local untilv = s[3]
      if untilv ~= cjson.null and untilv <= now then
        deletes[#deletes + 1] = 'm:' .. s[1]
      elseif untilv == cjson.null then
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

    for _, name in ipairs(op.d or {}) do
      deletes[#deletes + 1] = 'm:' .. name
      deletes[#deletes + 1] = 'w:' .. name
    end

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
        writes[#writes + 1] = cjson.encode(res)
      end
      redis.call('HSET', key, unpack(writes))
      if perm then
        redis.call('PERSIST', key)
      elseif expire > known_expire then
        redis.call('PEXPIRE', key, expire - now)
      end
    end
  end
  out[k] = res
end
return cjson.encode({ now = now, r = out })
`;
