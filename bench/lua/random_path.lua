-- A GET of a random path from the list, for every scenario that only reads a set of URLs:
-- get_by_id (ids of all three resources), list_filtered (events by type and a 60-day window),
-- list_events and list_included (pages of events at random offsets, without and with include),
-- search (q over programs and events), ics_feed (the iCalendar feed) and healthz.
-- args: paths=FILE (one path per line)
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local reqs

function init(args)
  local a = bench.args(args)
  bench.seed_random()
  reqs = bench.get_requests(a.paths)
end

function request()
  return reqs[math.random(#reqs)]
end
