#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# dashboard-shots.sh - the pictures of docs/monitoring.md, from a real
# scrape: the dev broker, nginx with xflow (one worker, a spool, a
# dry-run limit on /collect and an enforced one on /limited), Debian's
# Prometheus scraping /metrics every 2 s with the shipped alert rules,
# and open-loop load (build/xflow-load) through three scenes:
#
#   normal      200 req/s of single events
#   outage      the broker process killed for 40 s, then started again
#   throttling  400 req/s more on /limited, over its 150 r/s limit
#
# Then docs/monitoring/render/dashboard.html draws
# docs/monitoring/grafana-xflow.json from that Prometheus in headless
# Chromium, one PNG per scene, and the /limits page is taken too.
# `make dashboard-shots`; about 4 minutes.  Writes docs/monitoring/*.png.

set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

module=${XFLOW_MODULE:-$root/build/ngx_xflow_module.so}
load=${XFLOW_LOAD:-$root/build/xflow-load}
devbroker=${DEVBROKER:-$root/build/xflow-devbroker}
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
chromium=${CHROMIUM:-/usr/bin/chromium}
out=${SHOTS_OUT:-$root/docs/monitoring}
port=${SHOTS_PORT:-18301}
kport=$((port + 1)) pport=$((port + 2)) wport=$((port + 3))

for f in "$module" "$load" "$devbroker" "$nginx_bin" "$chromium"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "dashboard-shots: no $f" >&2; exit 1; }
done
command -v prometheus > /dev/null \
    || { echo "dashboard-shots: no prometheus (make deps)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/xflow-shots.XXXXXX)
chmod 0755 "$tmp"
pids=()

cleanup() {
    [ -f "$tmp/nginx.pid" ] && kill -QUIT "$(cat "$tmp/nginx.pid")" \
        2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    kill "${broker_pid:-0}" 2>/dev/null || true
    sleep 1
    rm -rf "$tmp"
}
trap cleanup EXIT

start_broker() {
    rm -f "$tmp/bootstrap"
    "$devbroker" --topics events,xflow_dead_letter --port "$kport" \
        --bootstrap-file "$tmp/bootstrap" > "$tmp/devbroker.out" 2>&1 &
    broker_pid=$!
    for _ in $(seq 100); do
        [ -s "$tmp/bootstrap" ] && return 0
        sleep 0.05
    done
    cat "$tmp/devbroker.out" >&2
    exit 1
}

start_broker

cat > "$tmp/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
error_log $tmp/error.log notice;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
    client_body_temp_path $tmp/body;
    access_log off;
    large_client_header_buffers 8 16k;

    xflow_kafka_brokers 127.0.0.1:$kport;
    xflow_kafka_conf statistics.interval.ms 2000;
    xflow_topic events;
    xflow_dead_letter_topic xflow_dead_letter;
    xflow_spool $tmp/spool max_size=1g fsync=interval=100ms;

    xflow_limit_zone per_ip:1m key=\$binary_remote_addr rate=100r/s
                     burst=100;
    xflow_limit_zone limited:1m key=\$http_x_app rate=150r/s burst=50;

    server {
        listen 127.0.0.1:$port;
        location /collect { xflow_collect json; xflow_limit per_ip dry_run; }
        location /limited { xflow_collect json; xflow_limit limited; }
        location = /health { xflow_health; }
        location = /metrics { xflow_metrics; }
        location = /limits { xflow_limit_report; }
    }
}
CONF

"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log"

cat > "$tmp/prometheus.yml" <<CONF
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: ["$root/docs/monitoring/xflow-alerts.yml"]
scrape_configs:
  - job_name: xflow
    static_configs:
      - targets: ["127.0.0.1:$port"]
        labels: {instance: "gw1"}
CONF

prometheus --config.file="$tmp/prometheus.yml" \
    --storage.tsdb.path="$tmp/prom" \
    --web.listen-address="127.0.0.1:$pport" > "$tmp/prometheus.log" 2>&1 &
pids+=($!)

# the renderer and the dashboard, with /api/ passed to Prometheus
mkdir -p "$tmp/www"
cp docs/monitoring/render/dashboard.html docs/monitoring/grafana-xflow.json \
    "$tmp/www/"
python3 tests/support/dashboard-serve.py "$wport" "http://127.0.0.1:$pport" \
    "$tmp/www" &
pids+=($!)

sleep 3
t0=$(date +%s)
body=tests/bench/payloads/event300.json

echo "dashboard-shots: normal, 60 s"
"$load" -p "$port" -u /collect -b "$body" -B -r 200 -d 200 \
    > "$tmp/load-main.txt" &
pids+=($!)
sleep 60

echo "dashboard-shots: outage, the broker down for 40 s"
kill "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
sleep 40
start_broker
sleep 40

echo "dashboard-shots: throttling, 400 req/s more on /limited for 50 s"
"$load" -p "$port" -u /limited -b "$body" -B -H "X-App: shop" -r 400 \
    -d 50 > "$tmp/load-limited.txt"
sleep 8

# the limit report as a person sees it
"$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1200,1100 --virtual-time-budget=8000 \
    --screenshot="$out/limits.png" "http://127.0.0.1:$port/limits" \
    > /dev/null 2>&1

t1=$(date +%s)

shot() {
    local name=$1 from=$2 to=$3 title=$4
    "$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=1400,2150 --virtual-time-budget=30000 \
        --screenshot="$out/dashboard-$name.png" \
        "http://127.0.0.1:$wport/dashboard.html?start=$from&end=$to&step=2&title=$title" \
        > /dev/null 2>&1
    echo "dashboard-shots: $out/dashboard-$name.png"
}

shot normal "$t0" $((t0 + 60)) "xflow:%20normal%20traffic"
shot outage $((t0 + 40)) $((t0 + 150)) \
    "xflow:%20a%2040%20s%20broker%20outage%20with%20the%20spool"
shot throttling $((t0 + 130)) "$t1" \
    "xflow:%20a%20client%20over%20its%20rate%20limit"

echo "dashboard-shots: load: $(cat "$tmp/load-main.txt")"
echo "dashboard-shots: throttled load: $(cat "$tmp/load-limited.txt")"
