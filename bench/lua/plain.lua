-- GET the URL wrk was given; report as JSON.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
