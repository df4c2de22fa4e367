-- mixed: 80 % GET by id (the get_by_id paths), 15 % event creates, 5 % patches of events.
-- rush-api gets a JSON merge patch (Content-Type: application/merge-patch+json); the peer its
-- own PATCH shape (the same partial object as application/json).
-- args: kind=rush|peer tag=RUNTAG t0=EPOCH span=SLOTS paths=FILE events=FILE initiatives=FILE programs=FILE
-- env: BENCH_TOKEN
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local a, ctx, reads, event_ids, post_headers, patch_headers
local n = 0

function init(args)
  a = bench.args(args)
  bench.seed_random()
  ctx = bench.event_context(a)
  reads = bench.get_requests(a.paths)
  event_ids = bench.numbers(a.events)
  local token = os.getenv("BENCH_TOKEN")
  post_headers = bench.write_headers(token)
  patch_headers = bench.write_headers(token, a.kind == "rush" and "application/merge-patch+json" or "application/json")
end

function request()
  local r = math.random()
  if r < 0.80 then
    return reads[math.random(#reads)]
  elseif r < 0.95 then
    n = n + 1
    return wrk.format("POST", "/api/v1/events", post_headers, bench.event_body(a.kind, a.tag, n, ctx))
  else
    return wrk.format("PATCH", "/api/v1/events/" .. bench.pick(event_ids), patch_headers, bench.event_patch_body())
  end
end
