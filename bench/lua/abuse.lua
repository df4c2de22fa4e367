-- abuse: the most expensive requests an anonymous client can make, varied so that the rendered-page
-- cache does not absorb them (almost every URL is new):
--   50 % broad `q` on /api/v1/{programs,initiatives,events} (common words repeated up to 200
--        characters, 3-character common trigrams, 1-2 characters that scan with LIKE), with a
--        random offset (0-400), limit (50-100) and sort of one or two keys;
--   25 % /api/v1/events.ics with a random window (1-400 days anywhere in the data's two years, to
--        the minute) and sometimes event_type, status or q: every one a cache miss;
--   15 % request targets of about 8-9 KiB (one long unknown parameter, a thousand short ones, or an
--        over-long q): 414 above 8 KiB where the server has that limit, 422 below it;
--   10 % /api/v1/deletions with a random since, resource, limit and offset (it takes no q).
-- Every request carries `X-Request-Id: abuse-<kind>`, which the server echoes, so that response()
-- can count statuses per kind; responses without it (from the HTTP layer) count as kind "other".
-- args: searches=FILE (lines "COLLECTION<TAB>PATH?q=..."), oversized=FILE (one target per line),
--       t0=EPOCH span=SLOTS (the data's events start between t0 and t0 + span * 900 s)
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local searches, oversized, t0, span_s
local headers = {}

local SORTS = {
  programs = { "name", "specialty", "created_at", "updated_at" },
  initiatives = { "name", "started_on", "created_at", "updated_at" },
  events = { "starts_at", "title", "created_at", "updated_at" },
}
local STATUSES = { "scheduled", "cancelled", "completed" }
local RESOURCES = { "programs", "initiatives", "events" }
local FEED_Q = { "the", "and", "ing", "ion", "hea", "ent", "res", "com" }
local KINDS = { "search", "feed", "oversized", "deletions", "other" }
local CLASSES = { "2xx", "3xx", "4xx", "414", "422", "429", "5xx", "503" }

function init(args)
  local a = bench.args(args)
  bench.seed_random()
  t0 = tonumber(a.t0)
  span_s = tonumber(a.span) * 900
  searches = {}
  for i, line in ipairs(bench.lines(a.searches)) do
    local coll, path = line:match("^(%w+)\t(.+)$")
    searches[i] = { sorts = assert(SORTS[coll], "unknown collection " .. tostring(coll)), path = path }
  end
  oversized = bench.lines(a.oversized)
  for _, kind in ipairs(KINDS) do
    headers[kind] = { ["X-Request-Id"] = "abuse-" .. kind }
    for _, class in ipairs(CLASSES) do _G["n_" .. kind .. "_" .. class] = 0 end
  end
end

local function instant(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function sort_param(sorts)
  local first = math.random(#sorts)
  local s = (math.random() < 0.5 and "-" or "") .. sorts[first]
  if math.random() < 0.5 then
    local second = sorts[(first % #sorts) + 1]
    s = s .. "," .. (math.random() < 0.5 and "-" or "") .. second
  end
  return s
end

function request()
  local r = math.random()
  if r < 0.50 then
    local s = searches[math.random(#searches)]
    local path = string.format("%s&offset=%d&limit=%d&sort=%s", s.path, math.random(0, 400), math.random(50, 100),
      sort_param(s.sorts))
    return wrk.format("GET", path, headers.search)
  elseif r < 0.75 then
    local from = t0 + math.random(0, math.floor(span_s / 60)) * 60
    local path = string.format("/api/v1/events.ics?starts_after=%s&starts_before=%s", instant(from),
      instant(from + math.random(1440, 400 * 1440) * 60))
    if math.random() < 0.4 then path = path .. "&event_type=" .. bench.pick(bench.EVENT_TYPES) end
    if math.random() < 0.2 then path = path .. "&status=" .. bench.pick(STATUSES) end
    if math.random() < 0.2 then path = path .. "&q=" .. bench.pick(FEED_Q) end
    return wrk.format("GET", path, headers.feed)
  elseif r < 0.90 then
    return wrk.format("GET", oversized[math.random(#oversized)], headers.oversized)
  else
    local path = string.format("/api/v1/deletions?since=%s&limit=%d&offset=%d", instant(t0 + math.random(0, span_s)),
      math.random(1, 100), math.random(0, 50))
    if math.random() < 0.5 then path = path .. "&resource=" .. bench.pick(RESOURCES) end
    return wrk.format("GET", path, headers.deletions)
  end
end

function response(status, hdrs, body)
  local id = hdrs["x-request-id"] or hdrs["X-Request-Id"] or ""
  local kind = id:match("^abuse%-(%a+)$")
  if kind == nil or headers[kind] == nil then kind = "other" end
  local class
  if status >= 500 then
    class = "5xx"
    if status == 503 then _G["n_" .. kind .. "_503"] = _G["n_" .. kind .. "_503"] + 1 end
  elseif status >= 400 then
    class = "4xx"
    if status == 414 or status == 422 or status == 429 then
      local key = "n_" .. kind .. "_" .. status
      _G[key] = _G[key] + 1
    end
  elseif status >= 300 then
    class = "3xx"
  else
    class = "2xx"
  end
  local key = "n_" .. kind .. "_" .. class
  _G[key] = _G[key] + 1
end

bench.status_counters(KINDS, CLASSES)
