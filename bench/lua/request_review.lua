-- request_review: staff work on event requests, with a token of scope `requests`:
--   75 % GET /api/v1/event-requests?limit=20 (half of them as they are, a quarter with
--        status=submitted, a quarter with sort=starts_at);
--   25 % PATCH /api/v1/event-requests/{id} (application/merge-patch+json) of a request the harness
--        moved to in_review beforehand: half set only decision_note, a quarter set status in_review
--        and a quarter declined, each with a decision_note. From in_review or declined both are
--        allowed (in_review -> declined, declined -> in_review) or the status the request already
--        has (a no-op), so no PATCH is a 409; the note's text differs every time.
-- Any status >= 400 is counted by wrk, as for every scenario.
-- args: tag=RUNTAG requests=FILE (ids of the requests in review)
-- env: BENCH_STAFF_TOKEN
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local a, lists, ids, patch_headers
local n = 0
local NOTES = {
  "Checked the date against the community calendar.",
  "Asked the requester for the expected attendance by age group.",
  "No screening team is free that weekend.",
  "The health education team can send a speaker.",
  "Forwarded to the volunteer office.",
}

function init(args)
  a = bench.args(args)
  bench.seed_random()
  ids = bench.numbers(a.requests)
  local token = os.getenv("BENCH_STAFF_TOKEN")
  assert(token and token ~= "", "BENCH_STAFF_TOKEN is not set")
  local auth = { ["Authorization"] = "Bearer " .. token }
  lists = {
    wrk.format("GET", "/api/v1/event-requests?limit=20", auth),
    wrk.format("GET", "/api/v1/event-requests?limit=20", auth),
    wrk.format("GET", "/api/v1/event-requests?limit=20&status=submitted", auth),
    wrk.format("GET", "/api/v1/event-requests?limit=20&sort=starts_at", auth),
  }
  patch_headers = bench.write_headers(token, "application/merge-patch+json")
end

function request()
  if math.random() < 0.75 then
    return lists[math.random(#lists)]
  end
  n = n + 1
  local note = string.format('"decision_note":"%s (%s t%d #%d)"', bench.pick(NOTES), a.tag, tid or 0, n)
  local r, body = math.random()
  if r < 0.5 then
    body = "{" .. note .. "}"
  elseif r < 0.75 then
    body = '{"status":"in_review",' .. note .. "}"
  else
    body = '{"status":"declined",' .. note .. "}"
  end
  return wrk.format("PATCH", "/api/v1/event-requests/" .. bench.pick(ids), patch_headers, body)
end
