-- Shared by every scenario script (loaded with dofile from $BENCH_LUA_DIR).
--
-- The harness (bench/run) writes the data each scenario needs (paths, ids, ETags) into files in
-- a temporary directory and passes their names as key=value arguments after wrk's `--`. Every
-- thread loads them once in init() and pre-formats its requests where it can, so that wrk spends
-- its CPU on sending requests rather than on building them.
--
-- done() prints one machine-readable line, `BENCH_RESULT {json}`, which the harness parses:
-- request count, duration, socket errors, wrk's count of responses with status >= 400, latency
-- percentiles in microseconds, `unexpected`: responses a script checks itself (not_modified
-- counts every status other than 304), and `statuses`: status counts per kind of request for a
-- script that declares them with status_counters (abuse), else null.

local M = {}

M.EVENT_TYPES = { "health_fair", "community_event", "networking", "wellness", "recruitment", "education" }
M.LOCATIONS = {
  "Rush University Medical Center, Atrium Lobby", "Malcolm X College Gymnasium", "Garfield Park Conservatory",
  "Rush Oak Park Hospital, Conference Center", "Rush Copley Medical Center, Auditorium", "Westside Health Authority",
  "Chicago Public Library, Legler Branch", "Austin Town Hall Park", "North Lawndale Community Center",
}

function M.args(list)
  local t = {}
  for _, a in ipairs(list or {}) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if k then t[k] = v end
  end
  return t
end

function M.lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  assert(#out > 0, "empty data file " .. path)
  return out
end

function M.numbers(path)
  local out = {}
  for i, line in ipairs(M.lines(path)) do out[i] = tonumber(line) end
  return out
end

-- BENCH_INSTANCE: which of a server's instances this wrk process drives (the harness runs one wrk per
-- instance at the same time), so that their threads do not draw the same sequence.
function M.seed_random()
  local instance = tonumber(os.getenv("BENCH_INSTANCE") or "") or 0
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + instance * 104729 + math.floor(os.clock() * 1000000))
  for _ = 1, 10 do math.random() end
end

function M.pick(list)
  return list[math.random(#list)]
end

-- GET requests for every path in a file, pre-formatted. Extra headers optional.
function M.get_requests(path, headers)
  local reqs = {}
  for i, p in ipairs(M.lines(path)) do reqs[i] = wrk.format("GET", p, headers) end
  return reqs
end

-- A valid event for POST /api/v1/events in the shape of the server under test.
-- kind: "rush" (the contract: virtual events need virtual_url) or "peer" (the FastAPI peer: no
-- virtual_url, address or registration_url). ctx: t0 (epoch seconds), span (number of
-- 15-minute slots), initiative_ids, program_ids. Titles are unique per run: tag, thread, counter.
function M.event_body(kind, tag, n, ctx)
  local start = ctx.t0 + math.random(0, ctx.span - 1) * 900
  local fields = {
    string.format('"title":"Bench %s t%d #%d %s"', tag, tid or 0, n, M.EVENT_TYPES[(n % 6) + 1]),
    string.format('"description":"Created by the benchmark (%s). Free screenings, vaccinations and health information for the West Side community."', tag),
    string.format('"event_type":"%s"', M.EVENT_TYPES[math.random(#M.EVENT_TYPES)]),
    string.format('"starts_at":"%s"', os.date("!%Y-%m-%dT%H:%M:%SZ", start)),
    string.format('"ends_at":"%s"', os.date("!%Y-%m-%dT%H:%M:%SZ", start + 3600 * math.random(1, 4))),
    string.format('"location_name":"%s"', M.pick(M.LOCATIONS)),
    string.format('"capacity":%d', math.random(20, 500)),
  }
  if n % 10 == 0 then
    fields[#fields + 1] = '"is_virtual":true'
    if kind == "rush" then
      fields[#fields + 1] = string.format('"virtual_url":"https://example.org/live/bench-%d-%d"', tid or 0, n)
    end
  end
  if n % 3 == 0 and ctx.initiative_ids then
    fields[#fields + 1] = string.format('"initiative_id":%d', M.pick(ctx.initiative_ids))
  end
  if n % 5 == 0 and ctx.program_ids then
    fields[#fields + 1] = string.format('"program_id":%d', M.pick(ctx.program_ids))
  end
  return "{" .. table.concat(fields, ",") .. "}"
end

-- The ctx of event_body from the script arguments t0, span, initiatives and programs.
function M.event_context(a)
  return { t0 = tonumber(a.t0), span = tonumber(a.span),
           initiative_ids = M.numbers(a.initiatives), program_ids = M.numbers(a.programs) }
end

function M.write_headers(token, content_type)
  return { ["Content-Type"] = content_type or "application/json", ["Authorization"] = "Bearer " .. (token or "") }
end

-- A JSON merge patch of an event that always changes something (capacity and room).
function M.event_patch_body()
  return string.format('{"capacity":%d,"location_name":"Room %d"}', math.random(1, 100000), math.random(1, 999))
end

-- Event requests: the event types a request may name (the events' six and `volunteer`), the kinds
-- of support it may ask for, and organizations to ask.
M.REQUEST_EVENT_TYPES = { "health_fair", "community_event", "networking", "wellness", "recruitment", "education",
  "volunteer" }
M.SUPPORT = { "health_screenings", "health_education", "information_table", "speaker", "volunteers", "vaccinations",
  "sponsorship" }
M.ORGANIZATIONS = {
  "Near West Side Community Council", "Garfield Park Neighbors", "North Lawndale Youth League",
  "Austin Coming Together", "Westside Health Authority", "Little Village Parents Network",
  "East Garfield Park Block Club", "Humboldt Park Health Circle",
}
local OFFSETS = { { 0, "Z" }, { -5, "-05:00" }, { -6, "-06:00" } }

-- A valid public submission for POST /api/v1/event-requests (no token). The contact email and the
-- event title are unique per run: tag, thread, counter, so the 24-hour duplicate rule (same email,
-- title and start) never fires. ctx: t0 (epoch seconds, in the future) and span (number of
-- 15-minute slots after it): starts_at is in the future. Every fourth leaves the optional
-- contact_phone, event_description and ends_at out.
function M.request_body(tag, n, ctx)
  local start = ctx.t0 + math.random(0, ctx.span - 1) * 900
  local offset = OFFSETS[math.random(#OFFSETS)]
  local function stamp(t) return os.date("!%Y-%m-%dT%H:%M:%S", t + offset[1] * 3600) .. offset[2] end
  local support, first = {}, math.random(#M.SUPPORT)
  for i = 0, math.random(1, 3) - 1 do
    support[#support + 1] = '"' .. M.SUPPORT[((first + i - 1) % #M.SUPPORT) + 1] .. '"'
  end
  local location = M.pick(M.LOCATIONS)
  local fields = {
    string.format('"organization_name":"%s"', M.pick(M.ORGANIZATIONS)),
    string.format('"contact_name":"Contact t%d #%d"', tid or 0, n),
    string.format('"contact_email":"bench.%s.t%d.%d@example.org"', tag, tid or 0, n),
    string.format('"event_title":"Bench request %s t%d #%d"', tag, tid or 0, n),
    string.format('"event_type":"%s"', M.pick(M.REQUEST_EVENT_TYPES)),
    '"requested_support":[' .. table.concat(support, ",") .. "]",
    string.format('"starts_at":"%s"', stamp(start)),
    string.format('"location_name":"%s"', location),
    '"address":"1620 W Harrison St, Chicago, IL 60612"',
    string.format('"expected_attendance":%d', math.random(20, 2000)),
  }
  if n % 4 ~= 0 then
    fields[#fields + 1] = string.format('"contact_phone":"+1 (312) 555-%04d"', math.random(0, 9999))
    fields[#fields + 1] = '"event_description":"A community event asking RUSH for support (created by the benchmark)."'
    fields[#fields + 1] = string.format('"ends_at":"%s"', stamp(start + 3600 * math.random(1, 6)))
  end
  return "{" .. table.concat(fields, ",") .. "}"
end

-- Aggregation in the main Lua state: setup() sees every thread, done() reads their counters.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

unexpected = 0
tracked = false

-- Status counters kept by a script's response(): per-thread globals named n_<kind>_<class>, summed
-- over the threads by done() into "statuses": {"<kind>": {"<class>": count}}.
local counters = nil

function M.status_counters(kinds, classes)
  counters = { kinds = kinds, classes = classes }
end

local function statuses_json()
  if counters == nil then return "null" end
  local out = {}
  for _, kind in ipairs(counters.kinds) do
    local cells = {}
    for _, class in ipairs(counters.classes) do
      local sum = 0
      for _, t in ipairs(threads) do sum = sum + (t:get("n_" .. kind .. "_" .. class) or 0) end
      cells[#cells + 1] = string.format('"%s":%d', class, sum)
    end
    out[#out + 1] = string.format('"%s":{%s}', kind, table.concat(cells, ","))
  end
  return "{" .. table.concat(out, ",") .. "}"
end

function done(summary, latency, requests)
  local unexp, track = 0, false
  for _, t in ipairs(threads) do
    unexp = unexp + (t:get("unexpected") or 0)
    if t:get("tracked") then track = true end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"unexpected":%d,"tracked":%s,"statuses":%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    unexp, track and "true" or "false", statuses_json()))
end

return M
