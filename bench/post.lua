-- wrk script for bench/latency.py: POST a small chat completion. bench/peers.py's scripts run
-- it first (dofile), then change the body and headers for their target.
-- AIGW_BENCH_AUTH, when set, is sent as the Authorization header (the typical chain's key).
-- done() prints one line "AIGW_BENCH {json}" with exact counts and percentiles (microseconds).
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("AIGW_BENCH_AUTH")
if auth ~= nil and auth ~= "" then
    wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'AIGW_BENCH {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p90_us": %.1f, '
            .. '"p99_us": %.1f, "mean_us": %.1f, "connect_errors": %d, "read_errors": %d, '
            .. '"write_errors": %d, "timeouts": %d, "status_errors": %d}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.mean, e.connect, e.read, e.write, e.timeout, e.status))
end
