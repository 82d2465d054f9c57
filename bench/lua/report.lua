-- Shared by the scripts: one JSON line with throughput, latency percentiles and errors.
threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local done_count, failed = 0, 0
  for _, thread in ipairs(threads) do
    done_count = done_count + (thread:get("done_count") or 0)
    failed = failed + (thread:get("failed") or 0)
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "done": %d, "failed": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, done_count, failed))
end
