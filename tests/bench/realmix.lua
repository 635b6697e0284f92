-- SPDX-License-Identifier: BSD-2-Clause
-- realmix.lua - wrk script for `make bench`'s real mix: each request is
-- the next of a list of complete HTTP requests (tests/bench/realmix.py
-- writes them), in turn, and the summary line of post.lua at the end.
--
--   BENCH_MIX       file listing the request files, one per line
--   BENCH_DELAY_MS  pause of each connection between requests [none]
--
-- The requests are read once; request() only hands out the next string.

local reqs = {}
for name in assert(io.open(os.getenv("BENCH_MIX"), "rb")):lines() do
    local f = assert(io.open(name, "rb"), "cannot open " .. name)
    reqs[#reqs + 1] = f:read("*a")
    f:close()
end
assert(#reqs > 0, "empty mix")

local i = 0

function request()
    i = i % #reqs + 1
    return reqs[i]
end

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
