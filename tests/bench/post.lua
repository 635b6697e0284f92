-- SPDX-License-Identifier: BSD-2-Clause
-- post.lua - wrk script for `make bench`: POST one payload file on every
-- request and print a machine-readable summary line at the end.
--
--   BENCH_PAYLOAD   path of the request body (required)
--   BENCH_ENCODING  Content-Encoding to send (e.g. gzip), empty for none
--   BENCH_HEADERS   file of extra "Name: value" request headers [none]
--   BENCH_DELAY_MS  pause of each connection between requests [none]
--
-- Only request() is static here and no response() hook is defined, so the
-- Lua side costs wrk almost nothing per request.

local path = os.getenv("BENCH_PAYLOAD")
local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

local encoding = os.getenv("BENCH_ENCODING")
if encoding and encoding ~= "" then
    wrk.headers["Content-Encoding"] = encoding
end

-- what browsers send along: BENCH_HEADERS is a file of "Name: value" lines
local hfile = os.getenv("BENCH_HEADERS")
if hfile and hfile ~= "" then
    for line in assert(io.open(hfile, "rb"), "cannot open " .. hfile):lines() do
        local k, v = line:match("^([^:]+): (.*)$")
        if k then
            wrk.headers[k] = v
        end
    end
end

-- BENCH_DELAY_MS: each connection waits that long before its next
-- request, for a paced (open-ish) load instead of a closed loop at peak
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace and pace > 0 then
    function delay()
        return pace
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d " ..
        "mean_us=%.1f max_us=%d err_connect=%d err_read=%d err_write=%d " ..
        "err_status=%d err_timeout=%d\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(99), latency.mean,
        latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
