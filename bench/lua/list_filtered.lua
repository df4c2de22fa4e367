-- list_filtered: Events filtered by event_type and a starts_after/starts_before window (60 days), random from the list.
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
