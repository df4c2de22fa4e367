-- create: authenticated POST /api/v1/events of valid events with unique titles.
-- args: kind=rush|peer tag=RUNTAG t0=EPOCH span=SLOTS initiatives=FILE programs=FILE
-- env: BENCH_TOKEN (the bearer token)
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local a, ctx, headers
local n = 0

function init(args)
  a = bench.args(args)
  bench.seed_random()
  ctx = bench.event_context(a)
  headers = bench.write_headers(os.getenv("BENCH_TOKEN"))
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/events", headers, bench.event_body(a.kind, a.tag, n, ctx))
end
