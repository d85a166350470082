/**
 * The Lua script that applies a run of subjects atomically: the Store contract's get → peek →
 * take (all or nothing per subject) → add → set → del, with the sliding-window arithmetic of
 * `@actiongate/memory`'s window module, line for line.
 *
 * Each subject is one string key holding one msgpack record:
 *
 *   { m = { [name] = { until (0 = no end), json } },
 *     w = { [name] = { windowMs, slot, count, slot, count… } },
 *     r = the request that last wrote it }
 *
 * Why one packed record rather than a hash of fields: every `redis.call` from Lua costs a few µs
 * on this class of machine, and a fresh hash needed three (HMGET, HSET, PEXPIRE) where a string
 * needs two (GET, SET … PX), with one msgpack decode and encode instead of one per window. The
 * key's TTL is recomputed from the record on every write (the latest moment any of its windows
 * or marks still matters), so nothing grows without bound and no field remembers the TTL.
 *
 * One call may carry many subjects, from many evaluations (RedisStore coalesces the evaluations
 * in flight): a key named more than once is read and decoded once, its operations applied in
 * call order against the decoded record, and written once at the end. So a burst at one hot key
 * costs one GET and one SET, however many evaluations it holds.
 *
 * Resends: a client that reconnects may send a call again that had already run (ioredis resends
 * unanswered commands). Every record the call writes carries its request id; if any key of the
 * call already holds it, the call has run, and the script answers `resent` without applying
 * anything, so an attempt is never counted twice. (If every key the first run wrote has since
 * been written by other calls, the resend cannot be told apart and counts again: a hit too many,
 * never one too few.)
 *
 * Operations arrive as msgpack and answers leave as one flat array: JSON costs more Redis CPU
 * than the work itself, and so did flat arguments turned into numbers one `tonumber` at a time
 * (measured in docs/performance.md). The evaluations of a policy repeat a few operation lists
 * ("shapes"), so a call sends each distinct shape once and each key names its shape.
 *
 * ARGV: now ('' = Redis TIME), request id ('' = none), the call's distinct shapes (one msgpack
 * array; each shape's layout is in shapes.ts), each key's shape number (a msgpack array, 1-based).
 * Answer: { now, resent (0/1) } and, per key in order: each get's JSON or nil, each peek's
 * count, each take's count, admitted (0/1) and resetMs, then consumed (0/1).
 */
export const APPLY_SCRIPT = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local request = ARGV[2]
local SLOTS = 60

-- Redis turns a Lua number into an integer reply by truncating it: a fraction (a caller clock
-- with sub-ms precision, a fractional cost) or a number past 2^53 is sent as text instead.
local SAFE = 9007199254740991
local function exact(x)
  if x % 1 == 0 and x >= -SAFE and x <= SAFE then return x end
  return string.format('%.17g', x)
end

local function slot_ms(window) return math.max(1, math.ceil(window / SLOTS)) end
local function leaves_at(slot, sms, window) return (slot + 1) * sms + window end

-- Records, decoded once per key per call.
local records, dirty, order = {}, {}, {}
-- The windows and marks this call wrote (tables as keys): a full record keeps them.
local fresh = {}
local function record_of(key)
  local rec = records[key]
  if rec then return rec end
  -- pcall: a key of another type (written by an older version) is replaced, not an error.
  local ok, raw = pcall(redis.call, 'GET', key)
  if ok and raw then
    local decoded_ok, decoded = pcall(cmsgpack.unpack, raw)
    if decoded_ok and type(decoded) == 'table' then rec = decoded end
  end
  if not rec then rec = {} end
  if type(rec.m) ~= 'table' then rec.m = {} end
  if type(rec.w) ~= 'table' then rec.w = {} end
  records[key] = rec
  order[#order + 1] = key
  return rec
end

if request ~= '' then
  for k = 1, #KEYS do
    if record_of(KEYS[k]).r == request then return { exact(now), 1 } end
  end
end

-- A window's live data: a stored window of another length counts as empty.
local function window_data(rec, name, window)
  local packed = rec.w[name]
  if not packed or packed[1] ~= window then
    packed = { window }
    rec.w[name] = packed
  end
  return packed
end

-- The window arithmetic works on the packed array in place: index 1 is windowMs, then pairs.
local function prune(p, window)
  local sms = slot_ms(window)
  local first = 2
  while first <= #p and leaves_at(p[first], sms, window) <= now do first = first + 2 end
  if first > 2 then
    local n = #p
    local shift = first - 2
    for i = 2, n - shift do p[i] = p[i + shift] end
    for i = n, n - shift + 1, -1 do p[i] = nil end
  end
  local count = 0
  for i = 3, #p, 2 do count = count + p[i] end
  return count
end

local function add_hit(p, window, at, cost)
  local slot = math.floor(at / slot_ms(window))
  local i = #p - 1
  while i >= 2 and p[i] > slot do i = i - 2 end
  if cost < 0 and p[i] ~= slot and #p > 1 then i = #p - 1 end
  if i >= 2 and (p[i] == slot or cost < 0) then
    local nxt = p[i + 1] + cost
    if nxt > 0 then p[i + 1] = nxt else table.remove(p, i); table.remove(p, i) end
  elseif cost > 0 then
    table.insert(p, i + 2, slot)
    table.insert(p, i + 3, cost)
  end
end

local function try_take(p, count, window, max, cost)
  local sms = slot_ms(window)
  if count + cost <= max then
    local first = #p > 1 and p[2] or math.floor(now / sms)
    return count + cost, 1, leaves_at(first, sms, window) - now
  end
  if cost > max then return count, 0, window end
  local remaining = count
  for i = 2, #p, 2 do
    remaining = remaining - p[i + 1]
    if remaining + cost <= max then return count, 0, leaves_at(p[i], sms, window) - now end
  end
  return count, 0, window
end

-- Shapes: the distinct operation lists of this call, msgpack-encoded by the client (shapes.ts),
-- numbers and booleans already typed. Each key names its shape by number (positions).
local shapes = cmsgpack.unpack(ARGV[3])
local positions = cmsgpack.unpack(ARGV[4])

-- The answer is one flat array, in the order the operations were asked (the client knows the
-- names): per key, each get's JSON (false when absent), each peek's count, each take's count,
-- admitted and resetMs, then consumed.
local out = { exact(now), 0 }
local n = 2
local counts, admitted, resets, windows = {}, {}, {}, {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local rec = record_of(key)
  local shape = shapes[positions[k]]
  local changed = false

  local gets = shape[1]
  for g = 1, #gets do
    local name = gets[g]
    local mark = rec.m[name]
    n = n + 1
    if mark and mark[1] ~= 0 and mark[1] <= now then
      rec.m[name] = nil
      changed = true
      mark = nil
    end
    out[n] = mark and mark[2] or false
  end

  local peeks = shape[2]
  for p = 1, #peeks, 2 do
    local data, window = rec.w[peeks[p]], peeks[p + 1]
    n = n + 1
    out[n] = (data and data[1] == window) and exact(prune(data, window)) or 0
  end

  local takes = shape[3]
  local nt = #takes / 5
  local consumed = 0
  if nt > 0 then
    local all, dry = true, false
    for i = 1, nt do
      local t = 5 * i - 4
      local window = takes[t + 1]
      local data = window_data(rec, takes[t], window)
      windows[i] = data
      counts[i], admitted[i], resets[i] = try_take(data, prune(data, window), window, takes[t + 2], takes[t + 3])
      if admitted[i] == 0 then all = false end
      if takes[t + 4] then dry = true end
    end
    if all and not dry then
      for i = 1, nt do
        add_hit(windows[i], takes[5 * i - 3], now, takes[5 * i - 1])
        fresh[windows[i]] = true
      end
      consumed = 1
      changed = true
    end
    for i = 1, nt do
      -- Denied as a whole: an admitted take's count does not include the cost it did not take.
      if not all and admitted[i] == 1 then counts[i] = counts[i] - takes[5 * i - 1] end
      out[n + 1], out[n + 2], out[n + 3] = exact(counts[i]), admitted[i], exact(resets[i])
      n = n + 3
    end
  end
  n = n + 1
  out[n] = consumed

  local adds = shape[4]
  for a = 1, #adds, 4 do
    local window = adds[a + 1]
    local data = window_data(rec, adds[a], window)
    fresh[data] = true
    add_hit(data, window, adds[a + 3] or now, adds[a + 2])
    prune(data, window)
    changed = true
  end

  local sets = shape[5]
  for m = 1, #sets, 3 do
    local untilv = sets[m + 2]
    if untilv and untilv <= now then
      rec.m[sets[m]] = nil
    else
      local mark = { untilv or 0, sets[m + 1] }
      rec.m[sets[m]] = mark
      fresh[mark] = true
    end
    changed = true
  end

  -- del runs last: a name deleted in this operation drops what take/add/set wrote to it.
  local dels = shape[6]
  for d = 1, #dels do
    rec.m[dels[d]] = nil
    rec.w[dels[d]] = nil
    changed = true
  end

  if changed then dirty[key] = true end
end

-- What a record may hold: MemoryStore's default maxNamesPerSubject. Names can come from the
-- client (an ip+action limit over the actions a host passes on), and every call decodes and
-- encodes the whole record: without a bound, one address sending fresh actions grew its key by
-- ~25 bytes each, and each of its calls held Redis longer (7 ms at 4,000 names).
local MAX_NAMES = 64

-- Drops what no longer counts; answers the latest end of what is left, whether something never
-- ends, and how many names are left.
local function settle(rec)
  local expire, forever, names = 0, false, 0
  for name, p in pairs(rec.w) do
    local last = #p > 1 and leaves_at(p[#p - 1], slot_ms(p[1]), p[1]) or now
    if last > now then
      names = names + 1
      if last > expire then expire = last end
    else
      rec.w[name] = nil
    end
  end
  for name, mark in pairs(rec.m) do
    if mark[1] == 0 then
      forever = true
      names = names + 1
    elseif mark[1] > now then
      names = names + 1
      if mark[1] > expire then expire = mark[1] end
    else
      rec.m[name] = nil
    end
  end
  return expire, forever, names
end

-- A full record loses, as in MemoryStore, the window whose hits all leave soonest, then the mark
-- that ends soonest; never what this call wrote (\`fresh\`), so a take or a ban just made stays.
local function make_room(rec, names)
  while names > MAX_NAMES do
    local victim, soonest = nil, math.huge
    for name, p in pairs(rec.w) do
      local leaves = leaves_at(p[#p - 1], slot_ms(p[1]), p[1])
      if not fresh[p] and leaves < soonest then victim, soonest = name, leaves end
    end
    if victim then
      rec.w[victim] = nil
    else
      for name, mark in pairs(rec.m) do
        local ends = mark[1] == 0 and math.huge or mark[1]
        if not fresh[mark] and (victim == nil or ends < soonest) then victim, soonest = name, ends end
      end
      if victim == nil then return end
      rec.m[victim] = nil
    end
    names = names - 1
  end
end

-- Each changed record is written once, with the TTL of the latest moment anything in it matters.
for _, key in ipairs(order) do
  if dirty[key] then
    local rec = records[key]
    local expire, forever, names = settle(rec)
    if names > MAX_NAMES then
      make_room(rec, names)
      expire, forever, names = settle(rec)
    end
    local empty = names == 0
    if empty then
      redis.call('DEL', key)
    else
      if request ~= '' then rec.r = request end
      if forever then
        redis.call('SET', key, cmsgpack.pack(rec))
      else
        -- PX takes a whole number of ms, within what Redis can add to its clock: rounded up (an
        -- end at a fraction of a ms, a caller clock with sub-ms precision), and past 2^53 ms
        -- (285,000 years) the key simply ends then.
        redis.call('SET', key, cmsgpack.pack(rec), 'PX', string.format('%d', math.min(SAFE, math.max(1, math.ceil(expire - now)))))
      end
    end
  end
end
return out
`;

/**
 * Reads one mark of one subject for `RedisStore.scan`: { until ('' = none), json } or nil when
 * absent or ended.
 */
export const READ_MARK_SCRIPT = `
local ok, raw = pcall(redis.call, 'GET', KEYS[1])
if not ok or not raw then return nil end
local decoded_ok, rec = pcall(cmsgpack.unpack, raw)
if not decoded_ok or type(rec) ~= 'table' or type(rec.m) ~= 'table' then return nil end
local mark = rec.m[ARGV[1]]
if not mark then return nil end
if mark[1] ~= 0 and mark[1] <= tonumber(ARGV[2]) then return nil end
return { mark[1] == 0 and '' or string.format('%.17g', mark[1]), mark[2] }
`;
