/**
 * The Lua script that applies a run of subjects atomically: the Store contract's get → peek →
 * take (all or nothing per subject) → add → set → del, with the sliding-window arithmetic of
 * `@actiongate/memory`'s window module, line for line.
 *
 * Each subject is one string key holding one msgpack record:
 *
 *   { m = { [name] = { until (0 = no end), json } },
 *     w = { [name] = { windowMs, slot, count, slot, count… } },
 *     r = the request that last wrote it,
 *     f = the stores that last refunded on it: { store, sequence… }, or none }
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
 * anything, so an attempt is never counted twice. If every key the first run wrote has since
 * been written by other calls, r no longer tells: a take or add resent then counts again (a hit
 * too many). A refund must not give back twice (one too few), so a record refunded on also keeps,
 * per store, the latest call that refunded on it (f, REFUNDERS below); that still tells, unless
 * more than REFUNDERS other stores refunded on every key the call refunded on since, or such a
 * key lived past REFUND_GRACE with no window left and was hit again.
 *
 * Operations arrive as msgpack and answers leave as one flat array: JSON costs more Redis CPU
 * than the work itself, and so did flat arguments turned into numbers one `tonumber` at a time
 * (measured in docs/performance.md). The evaluations of a policy repeat a few operation lists
 * ("shapes"), so a call sends each distinct shape once and each key names its shape.
 *
 * ARGV: now ('' = Redis TIME), request id ('' = none), and msgpack items: the call's distinct
 * shapes written flat one after the other (the layout is in shapes.ts), then per key the index
 * where its shape starts among them; as a run of items, or (a large call) one array of them.
 * Answer: { now, resent (0/1) } and, per key in order: when it has gets, one item for all of them
 * (nil when none is there, else a JSON array of [value] or 0 per get; a lone get's item is the
 * mark's JSON itself), each peek's count, each
 * take's count, admitted (0/1) and resetMs, then consumed (0/1).
 */
export const APPLY_SCRIPT = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local request = ARGV[2]
local SLOTS = 60
local call, unpack, pack = redis.call, cmsgpack.unpack, cmsgpack.pack

-- Cost model (callgrind on redis-server 7.0, docs/performance.md): a call into C (math.floor,
-- table.insert, string.format) costs ~400 instructions and a table ~700 plus its growth, against
-- ~30 for a VM operation. So the arithmetic below floors with \`x - x % 1\` (exact for the finite
-- numbers validateBatch lets through), a slot width is computed once per window length per call,
-- a new window is made at its final size, and pairs are shifted by hand.

-- Redis turns a Lua number into an integer reply by truncating it: a fraction (a caller clock
-- with sub-ms precision, a fractional cost) or a number past 2^53 is sent as text instead.
local SAFE = 9007199254740991
local function exact(x)
  if x % 1 == 0 and x >= -SAFE and x <= SAFE then return x end
  return string.format('%.17g', x)
end

-- Slot width of a window length: max(1, ceil(window / SLOTS)), memoised per call.
local widths = {}
local function width_of(window)
  local q = window / SLOTS
  local w = q - q % 1
  if w < q then w = w + 1 end
  if w < 1 then w = 1 end
  widths[window] = w
  return w
end

-- Records, decoded once per key per call.
local records, dirty, order = {}, {}, {}
-- The windows and marks this call wrote: a full record keeps them (see make_room). A list that
-- grows past its size is rehashed (~1,000 instructions each time), so this one and the answer's
-- lists below start at the usual call's size: a constructor of placeholders makes it in one go.
local fresh, nfresh = { false, false, false, false, false, false, false, false }, 0
local function record_of(key)
  local rec = records[key]
  if rec then return rec end
  -- pcall: a key of another type (written by an older version) is replaced, not an error.
  local ok, raw = pcall(call, 'GET', key)
  if ok and raw then
    local decoded_ok, decoded = pcall(unpack, raw)
    if decoded_ok and type(decoded) == 'table' then rec = decoded end
  end
  if not rec then
    -- r has its slot from the start: added at the write, it grew the table (a rehash).
    rec = { m = {}, w = {}, r = false }
  else
    if type(rec.m) ~= 'table' then rec.m = {} end
    if type(rec.w) ~= 'table' then rec.w = {} end
  end
  records[key] = rec
  order[#order + 1] = key
  return rec
end

-- A refund (a negative add) resent after other calls overwrote r would give back twice: one too
-- few. So a record a call refunds on also remembers, per store (the request id is
-- "<store>.<sequence in base 36>"), the latest sequence that refunded on it: f = { store, seq,
-- store, seq… }, the REFUNDERS most recent stores, only on records refunded, so the common path
-- pays one field lookup per key. A store sends its calls in order on one connection, so a call
-- whose store already refunded here at its sequence or later has run. (An id of another form
-- counts as a store of its own at sequence 0.)
local REFUNDERS = 16
local store, seq
local function split_request()
  local s, n = string.match(request, '^(.*)%.(%w+)$')
  seq = n and tonumber(n, 36)
  if s and seq then store = s else store, seq = request, 0 end
end

if request ~= '' then
  for k = 1, #KEYS do
    local rec = record_of(KEYS[k])
    if rec.r == request then return { exact(now), 1 } end
    local f = rec.f
    if f then
      if not store then split_request() end
      for i = 1, #f, 2 do
        if f[i] == store then
          if f[i + 1] >= seq then return { exact(now), 1 } end
          break
        end
      end
    end
  end
end

-- The window arithmetic works on the packed array in place: index 1 is windowMs, then pairs
-- (slot, count), slots ascending. A hit in slot s counts until (s + 1) * width + window.
local function prune(p, sms, window)
  local n = #p
  local first = 2
  while first <= n and (p[first] + 1) * sms + window <= now do first = first + 2 end
  if first > 2 then
    local shift = first - 2
    for i = 2, n - shift do p[i] = p[i + shift] end
    for i = n, n - shift + 1, -1 do p[i] = nil end
    n = n - shift
  end
  local count = 0
  for i = 3, n, 2 do count = count + p[i] end
  return count
end

local function add_hit(p, sms, at, cost)
  local q = at / sms
  local slot = q - q % 1
  local n = #p
  local i = n - 1
  while i >= 2 and p[i] > slot do i = i - 2 end
  if cost < 0 and p[i] ~= slot and n > 1 then i = n - 1 end
  if i >= 2 and (p[i] == slot or cost < 0) then
    local nxt = p[i + 1] + cost
    if nxt > 0 then
      p[i + 1] = nxt
    else
      for j = i, n - 2 do p[j] = p[j + 2] end
      p[n] = nil
      p[n - 1] = nil
    end
  elseif cost > 0 then
    for j = n, i + 2, -1 do p[j + 2] = p[j] end
    p[i + 2] = slot
    p[i + 3] = cost
  end
end

-- Shapes: the distinct operation lists of this call, msgpack-encoded by the client (shapes.ts),
-- numbers and booleans already typed, six counted lists each, flat in one array S; after them,
-- per key, where its shape starts in S. One table for the whole call: nested lists cost a table
-- each. A run of items unpacks to as many values, which the constructor stores at its final
-- size; an array (a call too large for the Lua stack) comes as one table.
local S = { unpack(ARGV[3]) }
if type(S[1]) == 'table' then S = S[1] end
local base = #S - #KEYS

-- The answer is one flat array, in the order the operations were asked (the client knows the
-- names): per key, its gets as one item, each peek's count, each take's count, admitted and
-- resetMs, then consumed.
local out = {
  exact(now), 0, false, false, false, false, false, false, false, false, false, false, false, false, false, false,
  false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false,
}
local n = 2
local counts = { false, false, false, false, false, false, false, false }
local admitted = { false, false, false, false, false, false, false, false }
local resets = { false, false, false, false, false, false, false, false }
local windows = { false, false, false, false, false, false, false, false }
-- The keys this call refunds on (see REFUNDERS).
local refunded = {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local rec = record_of(key)
  local rec_m, rec_w = rec.m, rec.w
  local j = S[base + k]
  local changed = false

  -- The gets answer as one item: false when none of the marks is there (the usual case), else
  -- a JSON array holding, per get, [value] or 0 (absent); a lone get, the mark's JSON itself. An
  -- item per get cost Redis ~650 instructions each to turn into a reply, and the client as much
  -- again to parse.
  local ng = S[j]
  -- A mark asked for that has ended is dropped (the record changes) before the answer is read.
  for g = j + 1, j + ng do
    local mark = rec_m[S[g]]
    if mark and mark[1] ~= 0 and mark[1] <= now then
      rec_m[S[g]] = nil
      changed = true
    end
  end
  if ng == 1 then
    local mark = rec_m[S[j + 1]]
    n = n + 1
    out[n] = mark and mark[2] or false
  elseif ng > 1 then
    local found = nil
    for g = j + 1, j + ng do
      local mark = rec_m[S[g]]
      if mark then
        if not found then
          found = {}
          for i = 1, g - j - 1 do found[i] = '0' end
        end
        found[g - j] = '[' .. mark[2] .. ']'
      elseif found then
        found[g - j] = '0'
      end
    end
    n = n + 1
    out[n] = found and ('[' .. table.concat(found, ',') .. ']') or false
  end

  j = j + ng + 1
  local np = S[j]
  for p = j + 1, j + 2 * np, 2 do
    local data, window = rec_w[S[p]], S[p + 1]
    n = n + 1
    if data and data[1] == window then
      local c = prune(data, widths[window] or width_of(window), window)
      if c % 1 ~= 0 or c > SAFE or c < -SAFE then c = exact(c) end
      out[n] = c
    else
      out[n] = 0
    end
  end

  j = j + 2 * np + 1
  local nt = S[j]
  -- The i-th take's fields are S[t0 + 5 * i + 1 .. 5]: name, window, max, cost, dry run.
  local t0 = j - 5
  local consumed = 0
  if nt > 0 then
    local all, dry = true, false
    for i = 1, nt do
      local t = t0 + 5 * i
      local name, window, max, cost = S[t + 1], S[t + 2], S[t + 3], S[t + 4]
      local sms = widths[window] or width_of(window)
      -- A stored window of another length counts as empty, and is dropped.
      local p = rec_w[name]
      local count = 0
      if p then
        if p[1] == window then count = prune(p, sms, window) else rec_w[name] = nil; p = nil end
      end
      windows[i] = p or false
      if count + cost <= max then
        local first
        if p and #p > 1 then first = p[2] else local q = now / sms; first = q - q % 1 end
        counts[i], admitted[i], resets[i] = count + cost, 1, (first + 1) * sms + window - now
      else
        counts[i], admitted[i], resets[i] = count, 0, window
        all = false
        if cost <= max and p then
          local remaining = count
          for j = 2, #p, 2 do
            remaining = remaining - p[j + 1]
            if remaining + cost <= max then resets[i] = (p[j] + 1) * sms + window - now; break end
          end
        end
      end
      if S[t + 5] then dry = true end
    end
    if all and not dry then
      for i = 1, nt do
        local t = t0 + 5 * i
        local window, cost = S[t + 2], S[t + 4]
        local sms = widths[window]
        local p = windows[i]
        if p then
          add_hit(p, sms, now, cost)
        elseif cost > 0 then
          -- A new window, made at its final size.
          local q = now / sms
          p = { window, q - q % 1, cost }
          rec_w[S[t + 1]] = p
        end
        if p then
          nfresh = nfresh + 1
          fresh[nfresh] = p
        end
      end
      consumed = 1
      changed = true
    end
    for i = 1, nt do
      -- Denied as a whole: an admitted take's count does not include the cost it did not take.
      local c, r = counts[i], resets[i]
      if not all and admitted[i] == 1 then c = c - S[t0 + 5 * i + 4] end
      if c % 1 ~= 0 or c > SAFE or c < -SAFE then c = exact(c) end
      if r % 1 ~= 0 or r > SAFE or r < -SAFE then r = exact(r) end
      out[n + 1], out[n + 2], out[n + 3] = c, admitted[i], r
      n = n + 3
    end
  end
  n = n + 1
  out[n] = consumed

  j = j + 5 * nt + 1
  local na = S[j]
  for a = j + 1, j + 4 * na, 4 do
    local name, window = S[a], S[a + 1]
    local sms = widths[window] or width_of(window)
    local p = rec_w[name]
    if not p or p[1] ~= window then
      p = { window }
      rec_w[name] = p
    end
    nfresh = nfresh + 1
    fresh[nfresh] = p
    local cost = S[a + 2]
    add_hit(p, sms, S[a + 3] or now, cost)
    prune(p, sms, window)
    if cost < 0 then refunded[key] = true end
    changed = true
  end

  j = j + 4 * na + 1
  local ns = S[j]
  for m = j + 1, j + 4 * ns, 4 do
    local untilv = S[m + 2]
    local stored = S[m + 3] and rec_m[S[m]]
    -- ifLater: a live mark that ends no sooner stays (0 = no end, the latest), and a write
    -- already over is no write at all.
    if S[m + 3] and ((untilv and untilv <= now) or (stored and (stored[1] == 0 or stored[1] > now) and (stored[1] == 0 or (untilv and untilv <= stored[1])))) then
      -- kept as it is
    elseif untilv and untilv <= now then
      rec_m[S[m]] = nil
      changed = true
    else
      local mark = { untilv or 0, S[m + 1] }
      rec_m[S[m]] = mark
      nfresh = nfresh + 1
      fresh[nfresh] = mark
      changed = true
    end
  end

  -- del runs last: a name deleted in this operation drops what take/add/set wrote to it.
  j = j + 4 * ns + 1
  for d = j + 1, j + S[j] do
    rec_m[S[d]] = nil
    rec_w[S[d]] = nil
    changed = true
  end

  if changed then dirty[key] = true end
end

-- What a record may hold: MemoryStore's default maxNamesPerSubject. Names can come from the
-- client (an ip+action limit over the actions a host passes on), and every call decodes and
-- encodes the whole record: without a bound, one address sending fresh actions grew its key by
-- ~25 bytes each, and each of its calls held Redis longer (7 ms at 4,000 names).
local MAX_NAMES = 64

-- The moment a window's last hit leaves (now when it holds none).
local function last_of(p)
  local n = #p
  if n < 2 then return now end
  local window = p[1]
  return (p[n - 1] + 1) * (widths[window] or width_of(window)) + window
end

-- Drops what no longer counts; answers the latest end of what is left, whether something never
-- ends, and how many names are left.
local function settle(rec)
  local expire, forever, names = 0, false, 0
  for name, p in pairs(rec.w) do
    -- last_of, inlined: a Lua call costs ~450 instructions, and this runs for every window.
    local n = #p
    local last = now
    if n > 1 then
      local window = p[1]
      last = (p[n - 1] + 1) * (widths[window] or width_of(window)) + window
    end
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
  local kept = {}
  for i = 1, nfresh do kept[fresh[i]] = true end
  while names > MAX_NAMES do
    local victim, soonest = nil, math.huge
    for name, p in pairs(rec.w) do
      local leaves = last_of(p)
      if not kept[p] and leaves < soonest then victim, soonest = name, leaves end
    end
    if victim then
      rec.w[victim] = nil
    else
      for name, mark in pairs(rec.m) do
        local ends = mark[1] == 0 and math.huge or mark[1]
        if not kept[mark] and (victim == nil or ends < soonest) then victim, soonest = name, ends end
      end
      if victim == nil then return end
      rec.m[victim] = nil
    end
    names = names - 1
  end
end

-- This store's refund, remembered at the end of f (the most recent), once, within REFUNDERS.
local function remember_refund(rec)
  if not store then split_request() end
  local f = rec.f
  if not f then
    rec.f = { store, seq }
    return
  end
  local n = #f
  for i = 1, n, 2 do
    if f[i] == store then
      for j = i, n - 2 do f[j] = f[j + 2] end
      f[n], f[n - 1] = nil, nil
      n = n - 2
      break
    end
  end
  if n >= 2 * REFUNDERS then
    for j = 1, n - 2 do f[j] = f[j + 2] end
    f[n], f[n - 1] = nil, nil
    n = n - 2
  end
  f[n + 1], f[n + 2] = store, seq
end

-- A record a refund emptied is kept this long for its f, rather than deleted: a resend of that
-- refund after the subject was hit again would otherwise give back one of the new hits.
local REFUND_GRACE = 600000

-- Each changed record is written once, with the TTL of the latest moment anything in it matters.
for _, key in ipairs(order) do
  if dirty[key] then
    local rec = records[key]
    local expire, forever, names = settle(rec)
    if names > MAX_NAMES then
      make_room(rec, names)
      expire, forever, names = settle(rec)
    end
    if refunded[key] and request ~= '' then remember_refund(rec) end
    if rec.f and expire < now + REFUND_GRACE then expire = now + REFUND_GRACE end
    if names == 0 and not rec.f then
      call('DEL', key)
    else
      if request ~= '' then rec.r = request end
      -- No marks, no m (no windows, no w): packing an empty table costs ~2,000 instructions, and
      -- a reader makes one.
      if next(rec.m) == nil then rec.m = nil end
      if next(rec.w) == nil then rec.w = nil end
      if forever then
        call('SET', key, pack(rec))
      else
        -- PX takes a whole number of ms, within what Redis can add to its clock: rounded up (an
        -- end at a fraction of a ms, a caller clock with sub-ms precision), and past 2^53 ms
        -- (285,000 years) the key simply ends then.
        local ttl = expire - now
        local px = ttl - ttl % 1
        if px < ttl then px = px + 1 end
        if px < 1 then px = 1 elseif px > SAFE then px = SAFE end
        call('SET', key, pack(rec), 'PX', string.format('%d', px))
      end
    end
  end
end
-- The reply ends at the first nil: the placeholders past the answer are cut off.
out[n + 1] = nil
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
