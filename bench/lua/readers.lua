-- Readers watching the count: the home page and /api/counts, in turn.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local paths = {"/", "/api/counts"}
local n = 0

function request()
  n = n + 1
  return wrk.format("GET", paths[n % 2 + 1])
end
