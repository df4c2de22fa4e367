-- get_by_id: Records by id: a random path from the list (ids of all three resources, resources equally likely).
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
