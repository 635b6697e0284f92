#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# spool-capacity.sh - what one worker answers while Kafka is away, with
# docs/deploy/nginx.conf as shipped (ports, paths and brokers aside, one
# worker): open-loop single events (314 B, a browser's headers) at
# several rates, first with the dev broker up (the normal p99), then
# with a broker address that refuses every connection (the worker
# spools everything), and the time from a broker's return to the end
# of spooling.  `make bench-spool` builds what it needs and runs this;
# docs/spool.md has the figures.
#
# Environment:
#   SPOOL_RATES     open-loop rates, req/s [500 1000 2000 4000 8000]
#   SPOOL_SECONDS   seconds per rate [10]
#   SPOOL_PORT      nginx's port [18191]
#   NGINX_BIN XFLOW_MODULE XFLOW_LOAD DEVBROKER   set by bench.mk
#
# Asserts no timing: it fails only when something does not start.

set -euo pipefail

cd "$(dirname "$0")/../.."
root=$PWD

rates=${SPOOL_RATES:-500 1000 2000 4000 8000}
seconds=${SPOOL_SECONDS:-10}
port=${SPOOL_PORT:-18191}
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=${XFLOW_MODULE:-$root/build/ngx_xflow_module.so}
load=${XFLOW_LOAD:-$root/build/xflow-load}
devbroker=${DEVBROKER:-$root/build/xflow-devbroker}
out=$root/build/bench
mkdir -p "$out"

tmp=$(mktemp -d /tmp/xflow-spool-capacity.XXXXXX)
chmod 0755 "$tmp"
broker_pid=

cleanup() {
    if [ -f "$tmp/nginx.pid" ]; then
        kill -QUIT "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
        sleep 1
    fi
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# The shipped file with the lines a test must change, and nothing else.
shipped_conf() {
    local brokers=$1
    sed -e "s|^load_module .*|load_module $module;|" \
        -e "s|^worker_processes auto;|worker_processes 1;|" \
        -e "s|^error_log /dev/stderr notice;|error_log $tmp/error.log notice;|" \
        -e "s|^pid /run/nginx.pid;|pid $tmp/nginx.pid;|" \
        -e "s|access_log /dev/stdout xflow;|access_log off;|" \
        -e "s|^http {|http {\n    client_body_temp_path $tmp/body;|" \
        -e "s|@KAFKA_BROKERS@|$brokers|" \
        -e "s|listen 8080;|listen 127.0.0.1:$port;|" \
        -e "s|listen 9145;|listen 127.0.0.1:$((port + 1));|" \
        -e "s|/var/spool/xflow |$tmp/spool |" \
        docs/deploy/nginx.conf > "$tmp/nginx.conf"
}

start_nginx() {
    rm -rf "$tmp/spool"
    shipped_conf "$1"
    "$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log"
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/health" && return 0
        sleep 0.1
    done
    echo "spool-capacity: nginx did not start" >&2
    cat "$tmp/error.log" >&2
    exit 1
}

stop_nginx() {
    local pid
    pid=$(cat "$tmp/nginx.pid")
    kill -QUIT "$pid"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$tmp/nginx.pid"
}

run_load() {
    "$load" -p "$port" -u /collect -b tests/bench/payloads/event300.json \
        -m '"uid":"u-' -B "$@"
}

"$devbroker" --topics events,xflow_dead_letter \
    --bootstrap-file "$tmp/bootstrap" > "$tmp/devbroker.out" 2>&1 &
broker_pid=$!
for _ in $(seq 50); do
    [ -s "$tmp/bootstrap" ] && break
    sleep 0.1
done
brokers=$(cat "$tmp/bootstrap")

result=$out/spool-capacity.txt
: > "$result"

echo "== brokers up (normal)" | tee -a "$result"
start_nginx "$brokers"
for r in $rates; do
    echo "up   $(run_load -r "$r" -d "$seconds")" | tee -a "$result"
done
stop_nginx

# 127.0.0.1:9 (discard) refuses connections: Kafka is away from the start
echo "== brokers down (spooling, fsync=interval=100ms)" | tee -a "$result"
start_nginx 127.0.0.1:9
run_load -r 100 -d 3 > /dev/null    # the first requests wait spool_after
for r in $rates; do
    echo "down $(run_load -r "$r" -d "$seconds")" | tee -a "$result"
done
stop_nginx

echo "results in $result"
