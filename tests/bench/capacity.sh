#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# capacity.sh - what one worker delivers against the number of events per
# upload: wrk (32 connections, a browser's headers) posts batches of 1,
# 2, 5, 10, 25 and 50 events (the first N of tests/bench/payloads/
# batch50.json, gzip as SDKs send batches; the single event plain) to
# xflow with the module's own defaults (xflow_ack kafka, no
# xflow_kafka_conf) and the bench broker; events/s delivered and the
# worker's CPU per event and per request from /proc/<pid>/stat.  Then
# tests/bench/capacity-chart.py draws docs/capacity.svg.
# `make bench-capacity`; about 2 minutes.  No timing is asserted.
#
#   CAPACITY_SECONDS  seconds per size [6]
#   CAPACITY_SIZES    [1 2 5 10 25 50]

set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

seconds=${CAPACITY_SECONDS:-6}
sizes=${CAPACITY_SIZES:-1 2 5 10 25 50}
port=${CAPACITY_PORT:-18401}
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=${XFLOW_MODULE:-$root/build/ngx_xflow_module.so}
broker=${BENCH_BROKER:-$root/build/bench-broker}
out=$root/build/bench
mkdir -p "$out"

tmp=$(mktemp -d /tmp/xflow-capacity.XXXXXX)
chmod 0755 "$tmp"
broker_pid=

cleanup() {
    [ -f "$tmp/nginx.pid" ] && kill -QUIT "$(cat "$tmp/nginx.pid")" \
        2>/dev/null || true
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    sleep 1
    rm -rf "$tmp"
}
trap cleanup EXIT

"$broker" serve --topics events,xflow_dead_letter \
    --bootstrap-file "$tmp/bootstrap" > "$tmp/broker.out" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do [ -s "$tmp/bootstrap" ] && break; sleep 0.05; done
[ -s "$tmp/bootstrap" ] || { cat "$tmp/broker.out" >&2; exit 1; }

cat > "$tmp/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
error_log $tmp/error.log notice;
pid $tmp/nginx.pid;
events { worker_connections 1024; }
http {
    client_body_temp_path $tmp/body;
    access_log off;
    large_client_header_buffers 8 16k;
    xflow_kafka_brokers $(cat "$tmp/bootstrap");
    xflow_topic events;
    server {
        listen 127.0.0.1:$port;
        location /collect { xflow_collect json; }
    }
}
CONF
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log"
sleep 1
worker=$(pgrep -P "$(cat "$tmp/nginx.pid")" | head -1)

# a browser's headers, as make bench sends them
{
    printf 'Cookie: _ga=GA1.1.1234567890.1732492800; pref='
    head -c 2048 /dev/zero | tr '\0' 'a'
    printf '\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) '
    printf 'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 '
    printf 'Safari/537.36\nX-Forwarded-For: 203.0.113.77\n'
} > "$tmp/headers"

result=$out/capacity.tsv
printf 'events_per_upload\treq_per_s\tevents_per_s\tus_per_event\tus_per_request\n' \
    > "$result"

for n in $sizes; do
    if [ "$n" = 1 ]; then
        cp tests/bench/payloads/event300.json "$tmp/body.json"
        enc=
    else
        python3 - "$n" tests/bench/payloads/batch50.json "$tmp/body.json" <<'EOF'
import json, sys
n, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
doc = json.load(open(src))
json.dump(doc[:n] if isinstance(doc, list) else doc, open(dst, "w"),
          separators=(",", ":"))
EOF
        gzip -kf "$tmp/body.json"
        mv "$tmp/body.json.gz" "$tmp/body.gz"
        cp "$tmp/body.gz" "$tmp/body.json"
        enc=gzip
    fi

    c0=$(awk '{ print $14 + $15 }' "/proc/$worker/stat")
    line=$(BENCH_PAYLOAD=$tmp/body.json BENCH_ENCODING=$enc \
        BENCH_HEADERS=$tmp/headers \
        wrk -t1 -c32 -d"${seconds}s" -s tests/bench/post.lua \
        "http://127.0.0.1:$port/collect" | grep '^BENCH ' || true)
    c1=$(awk '{ print $14 + $15 }' "/proc/$worker/stat")

    python3 - "$n" "$line" "$c0" "$c1" "$(getconf CLK_TCK)" >> "$result" <<'EOF'
import sys
n, line, c0, c1, hz = sys.argv[1:]
kv = dict(p.split("=", 1) for p in line.split()[1:])
req = int(kv["requests"])
dur = int(kv["duration_us"]) / 1e6
cpu_us = (int(c1) - int(c0)) / int(hz) * 1e6
print("%s\t%.0f\t%.0f\t%.2f\t%.2f" % (n, req / dur, req * int(n) / dur,
      cpu_us / (req * int(n)), cpu_us / req))
EOF
    tail -1 "$result"
done

python3 tests/bench/capacity-chart.py "$result" "$root/docs/capacity.svg"
echo "results in $result, chart in docs/capacity.svg"
