-- list_20: first pages (limit 20 by default, default sort), rotating over the three collections.
-- args: paths=FILE (one path per line, visited in turn)
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local reqs
local i = 0

function init(args)
  local a = bench.args(args)
  bench.seed_random()
  reqs = bench.get_requests(a.paths)
  i = tid or 0
end

function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
