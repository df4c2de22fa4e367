-- not_modified: GET by id with If-None-Match of the ETag fetched beforehand; every answer should
-- be a 304. Any other status is counted as unexpected (reported as non-2xx).
-- args: etags=FILE (lines "PATH<TAB>ETAG")
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local reqs

function init(args)
  local a = bench.args(args)
  bench.seed_random()
  tracked = true
  reqs = {}
  for i, line in ipairs(bench.lines(a.etags)) do
    local path, etag = line:match("^([^\t]+)\t(.+)$")
    reqs[i] = wrk.format("GET", path, { ["If-None-Match"] = etag })
  end
end

function request()
  return reqs[math.random(#reqs)]
end

function response(status, headers, body)
  if status ~= 304 then unexpected = unexpected + 1 end
end
