/**
 * The Lua script that applies one slot's subjects atomically: the Store contract's get → peek →
 * take (all or nothing per subject) → add → set → del, with the sliding-window arithmetic of
 * `@actiongate/memory`'s window module, line for line. Each subject is one hash:
 *
 *   m:<name>  →  "<until or empty>|<JSON value>"
 *   w:<name>  →  "<windowMs>|<slot>,<count>,<slot>,<count>…"
 *   _perm     →  present while a mark without end was ever set (the key then never expires)
 *
 * The key's TTL is only ever extended to cover the latest end of what was written, so nothing
 * lives without an expiry unless a permanent mark asks for it.
 */
export const APPLY_SCRIPT = `
local ops = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
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
  local expire = 0
  local wrote = false

  for _, name in ipairs(op.g or {}) do
    local raw = redis.call('HGET', key, 'm:' .. name)
    if raw then
      local sep = string.find(raw, '|', 1, true)
      local untilv = tonumber(string.sub(raw, 1, sep - 1))
      if untilv and untilv <= now then
        redis.call('HDEL', key, 'm:' .. name)
      else
        res.m[#res.m + 1] = name
        res.m[#res.m + 1] = string.sub(raw, sep + 1)
      end
    end
  end

  for _, p in ipairs(op.p or {}) do
    res.c[#res.c + 1] = p[1]
    res.c[#res.c + 1] = prune(read_window(redis.call('HGET', key, 'w:' .. p[1]), p[2]), p[2])
  end

  local takes = op.t or {}
  if #takes > 0 then
    local all, dry, windows = true, false, {}
    for i, t in ipairs(takes) do
      local data = read_window(redis.call('HGET', key, 'w:' .. t[1]), t[2])
      local count, admitted, reset = try_take(data, prune(data, t[2]), t[2], t[3], t[4])
      if admitted == 0 then all = false end
      if t[5] == 1 then dry = true end
      windows[i] = data
      res.t[i] = { t[1], count, admitted, reset }
    end
    if all and not dry then
      for i, t in ipairs(takes) do
        add_hit(windows[i], t[2], now, t[4])
        redis.call('HSET', key, 'w:' .. t[1], write_window(t[2], windows[i]))
        local last = windows[i][#windows[i] - 1]
        expire = math.max(expire, leaves_at(last, slot_ms(t[2]), t[2]))
      end
      res.k = 1
      wrote = true
    elseif not all then
      for i, t in ipairs(takes) do
        if res.t[i][3] == 1 then res.t[i][2] = res.t[i][2] - t[4] end
      end
    end
  end

  for _, a in ipairs(op.a or {}) do
    local name, window, cost = a[1], a[2], a[3]
    local at = a[4]
    if at == nil or at == cjson.null then at = now end
    local data = read_window(redis.call('HGET', key, 'w:' .. name), window)
    add_hit(data, window, at, cost)
    prune(data, window)
    if #data == 0 then
      redis.call('HDEL', key, 'w:' .. name)
    else
      redis.call('HSET', key, 'w:' .. name, write_window(window, data))
      expire = math.max(expire, leaves_at(data[#data - 1], slot_ms(window), window))
      wrote = true
    end
  end

  for _, s in ipairs(op.s or {}) do
    local untilv = s[3]
    if untilv ~= cjson.null and untilv <= now then
      redis.call('HDEL', key, 'm:' .. s[1])
    else
      if untilv == cjson.null then
        redis.call('HSET', key, 'm:' .. s[1], '|' .. s[2], '_perm', '1')
      else
        redis.call('HSET', key, 'm:' .. s[1], string.format('%d', untilv) .. '|' .. s[2])
        expire = math.max(expire, untilv)
      end
      wrote = true
    end
  end

  for _, name in ipairs(op.d or {}) do
    redis.call('HDEL', key, 'm:' .. name, 'w:' .. name)
  end

  if wrote then
    if redis.call('HEXISTS', key, '_perm') == 1 then
      redis.call('PERSIST', key)
    elseif expire > now then
      local ttl = redis.call('PTTL', key)
      local want = expire - now
      if ttl < want then redis.call('PEXPIRE', key, want) end
    end
  end
  out[k] = res
end
return cjson.encode({ now = now, r = out })
`;
