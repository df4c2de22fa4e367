-- request_submit: public POST /api/v1/event-requests with no token, each a valid request with a
-- distinct contact email and event title (common.lua's request_body), so that the 24-hour duplicate
-- rule (409 duplicate_request) never fires. The server runs with EVENT_REQUEST_RATE_LIMIT_PER_HOUR=0
-- (no hourly allowance per IP). Any status >= 400 is counted by wrk, as for every scenario.
-- args: tag=RUNTAG t0=EPOCH span=SLOTS (requests start between t0 and t0 + span * 900 s, in the future)
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local a, ctx
local headers = { ["Content-Type"] = "application/json" }
local n = 0

function init(args)
  a = bench.args(args)
  bench.seed_random()
  ctx = { t0 = tonumber(a.t0), span = tonumber(a.span) }
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/event-requests", headers, bench.request_body(a.tag, n, ctx))
end
