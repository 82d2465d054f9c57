-- The full signing flow a browser makes: GET /sign for the session cookie and CSRF token, then
-- POST the form with a new address. A 302 to the check-your-email page is one signature.
-- With BENCH_CONFIRM_PATHS set, it confirms instead: GET a form page for a token, then POST
-- each emailed confirmation link in the file.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local queue, counter = {}, 0
local confirm_paths = nil

function init(args)
  done_count, failed = 0, 0
  local file = os.getenv("BENCH_CONFIRM_PATHS")
  if file then
    confirm_paths = {}
    local line_number = 0
    for line in io.lines(file) do
      line_number = line_number + 1
      if line_number % 8 == (id - 1) % 8 then table.insert(confirm_paths, line) end
    end
  end
end

function request()
  local session = table.remove(queue)
  if session then
    counter = counter + 1
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = session.cookie}
    if confirm_paths then
      local path = table.remove(confirm_paths)
      if path then
        return wrk.format("POST", path, headers, "csrf_token=" .. session.token)
      end
    else
      local body = "csrf_token=" .. session.token .. "&started=" .. session.started
        .. "&name=Bench+Signer+" .. id .. "-" .. counter .. "&affiliation=Bench+University"
        .. "&email=bench-" .. os.getenv("BENCH_RUN") .. "-" .. id .. "-" .. counter .. "%40bench.example.org"
        .. "&group=chinese&listed=y"
      return wrk.format("POST", "/sign", headers, body)
    end
  end
  return wrk.format("GET", "/sign")
end

function response(status, headers, body)
  if status == 200 then
    local token = body:match('name="csrf_token" type="hidden" value="([^"]+)"')
    local started = body:match('name="started" type="hidden" value="([^"]*)"') or ""
    local cookie = headers["Set-Cookie"] and headers["Set-Cookie"]:match("^([^;]+)")
    if token and cookie then table.insert(queue, {token = token, started = started, cookie = cookie}) end
  elseif status == 302 then
    done_count = done_count + 1
  else
    failed = failed + 1
  end
end
