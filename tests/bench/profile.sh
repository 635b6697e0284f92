#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# profile.sh - one xflow nginx (ack=local, the xflow-local target of
# run.sh) with the bench broker, profiled two ways that do not depend on
# how busy the machine is:
#
#   tests/bench/profile.sh callgrind [REQUESTS]
#       nginx with `master_process off` under valgrind --tool=callgrind
#       (every thread, librdkafka's included); a sequential keep-alive
#       client sends REQUESTS [300] copies of the payload.  Prints
#       instructions per request and per event, and keeps the profile in
#       $PROFILE_OUT/callgrind.out for callgrind_annotate.
#   tests/bench/profile.sh syscalls [SECONDS]
#       a normal nginx under wrk (-t1 -c32) for SECONDS [5]; strace -c -f
#       counts the worker's system calls (all threads) during the run.
#       Prints calls per event by name: wakeups, writes and reads per
#       message.
#
# Environment: PROFILE_CASE batch50gz|event300|realmix [batch50gz]
# (realmix: REQUESTS passes over every request of the real mix, with a
# browser's headers, as run.sh's realmix case; events are counted by
# xflow's /metrics), PROFILE_SETUP local|mix|shipped|read [local;
# realmix: shipped]: location / with xflow_collect, the real mix's
# locations without (mix) or with (shipped) the documented privacy
# setup, or the body-reading baseline (read: per request only; callgrind
# only; BASELINE_MODULE [build/ngx_http_bench_baseline_module.so]),
# PROFILE_KAFKA_CONF "name=value ..." [none: the module's defaults],
# PROFILE_PIN 1 to pin as run.sh does [0], PROFILE_OUT [build/profile],
# NGINX_BIN, XFLOW_MODULE, BENCH_BROKER as for run.sh.

set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD

MODE=${1:-callgrind}
ARG=${2:-}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
XFLOW_MODULE=${XFLOW_MODULE:-$ROOT/build/ngx_xflow_module.so}
BASELINE_MODULE=${BASELINE_MODULE:-$ROOT/build/ngx_http_bench_baseline_module.so}
BENCH_BROKER=${BENCH_BROKER:-$ROOT/build/bench-broker}
CASE=${PROFILE_CASE:-batch50gz}
KAFKA_CONF=${PROFILE_KAFKA_CONF:-}
PIN=${PROFILE_PIN:-0}
OUT=${PROFILE_OUT:-$ROOT/build/profile}
PAYLOADS=$ROOT/tests/bench/payloads

case $CASE in
    batch50gz) FILE=$PAYLOADS/batch50.json.gz ENC=gzip EVENTS=50 ;;
    event300)  FILE=$PAYLOADS/event300.json ENC= EVENTS=1 ;;
    realmix)   FILE= ENC= EVENTS=0 ;;
    *) echo "profile: unknown case $CASE" >&2; exit 2 ;;
esac
SETUP=${PROFILE_SETUP:-$([ "$CASE" = realmix ] && echo shipped || echo local)}
GEOIP=$ROOT/tests/fixtures/geoip/GeoIP2-City-Test.mmdb
# shellcheck source=tests/bench/mix.sh
. "$ROOT/tests/bench/mix.sh"

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/xflow-profile.XXXXXX)
BROKER_PID=
NGINX_PID=
cleanup() {
    [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && wait "$NGINX_PID" 2>/dev/null || true
    [ -n "$BROKER_PID" ] && kill -TERM "$BROKER_PID" 2>/dev/null || true
    [ -n "$BROKER_PID" ] && wait "$BROKER_PID" 2>/dev/null || true
    cp "$TMP/error.log" "$OUT/error.log" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

CLIENT=()
[ "$PIN" = 1 ] && CLIENT=(taskset -c 0)

"${CLIENT[@]}" "$BENCH_BROKER" serve --topics bench_local,bench_ua \
    --bootstrap-file "$TMP/bootstrap" > /dev/null &
BROKER_PID=$!
for _ in $(seq 100); do
    [ -s "$TMP/bootstrap" ] && break
    sleep 0.05
done
[ -s "$TMP/bootstrap" ] || { echo "profile: no broker" >&2; exit 1; }

write_headers "$TMP/headers"
python3 "$ROOT/tests/bench/realmix.py" "$TMP/mix" "$TMP/headers"
head -c 48 /dev/urandom > "$TMP/hash.key"
chmod 755 "$TMP"
chmod 644 "$TMP/hash.key"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/logs"
{
    if [ "$SETUP" = read ]; then
        echo "load_module $BASELINE_MODULE;"
    else
        echo "load_module $XFLOW_MODULE;"
    fi
    echo "worker_processes 1;"
    [ "$PIN" = 1 ] && echo "worker_cpu_affinity 10;"
    [ "$MODE" = callgrind ] && echo "master_process off;" \
                            || echo "master_process on;"
    cat << EOF
daemon off;
error_log $TMP/error.log warn;
pid $TMP/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $TMP/body;
EOF
    if [ "$SETUP" = read ]; then
        echo "    server {"
        echo "        listen 127.0.0.1:$PORT;"
        echo "        location / { bench_read_body; }"
        echo "    }"
        echo "}"
    else
        echo "    xflow_kafka_brokers $(cat "$TMP/bootstrap");"
    fi
    for kv in $KAFKA_CONF; do
        [ "$SETUP" = read ] && break
        echo "    xflow_kafka_conf ${kv%%=*} ${kv#*=};"
    done
    if [ "$SETUP" = read ]; then
        :
    elif [ "$SETUP" != local ]; then
        [ "$SETUP" = shipped ] && write_mix_http "$TMP/hash.key" "$GEOIP"
        write_mix_server "$PORT" bench_local \
            "$([ "$SETUP" = shipped ] && echo 1 || echo 0)"
        echo "}"
    else
    cat << EOF
    server {
        listen 127.0.0.1:$PORT;
        location = /metrics { xflow_metrics; }
        location / {
            xflow_collect;
            xflow_topic bench_local;
            xflow_ack local;
        }
    }
}
EOF
    fi
} > "$TMP/nginx.conf"

wait_up() {
    for _ in $(seq 600); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
        sleep 0.1
    done
    echo "profile: nginx did not start" >&2
    cat "$TMP/error.log" >&2
    exit 1
}

if [ "$MODE" = callgrind ]; then
    N=${ARG:-300}
    rm -f "$OUT"/callgrind.out-*
    valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$OUT/callgrind.out" \
        "$NGINX_BIN" -p "$TMP" -c "$TMP/nginx.conf" 2> "$TMP/valgrind.log" &
    NGINX_PID=$!
    wait_up
    python3 - "$PORT" "$FILE" "$ENC" "$N" "$TMP/mix/list" "$EVENTS" \
        > "$TMP/sent" << 'EOF'
import http.client, re, socket, sys
port, path, enc, n, mix, events = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
if not path:
    # the real mix: n passes, raw requests on one keep-alive connection
    reqs = [open(f.strip(), "rb").read() for f in open(mix) if f.strip()]
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    f = s.makefile("rb")
    for _ in range(n):
        for q in reqs:
            s.sendall(q)
            status = f.readline().split()[1]
            clen = 0
            while True:
                h = f.readline().strip()
                if not h:
                    break
                k, _, v = h.decode().partition(":")
                if k.lower() == "content-length":
                    clen = int(v)
            f.read(clen)
            assert status.startswith(b"2"), status
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    ev = sum(float(m.group(1)) for m in re.finditer(
        r'^xflow_events_total\{[^}]*result="accepted"[^}]*\} (\S+)$',
        text, re.M))
    print(n * len(reqs), int(ev))
    sys.exit(0)
body = open(path, "rb").read()
h = {"Content-Type": "application/json"}
if enc:
    h["Content-Encoding"] = enc
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
for _ in range(n):
    c.request("POST", "/collect", body, h)
    r = c.getresponse()
    r.read()
    assert r.status in (200, 204), r.status  # 204: the baseline
print(n, n * events)
EOF
    read -r REQS EVTOTAL < "$TMP/sent"
    sleep 2     # delivery reports of the last messages
    kill -TERM "$NGINX_PID"
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
    # one file per thread: -01 is nginx's own, the others librdkafka's
    main=0
    total=0
    for f in "$OUT"/callgrind.out-*; do
        n=$(callgrind_annotate "$f" 2>/dev/null \
            | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
        total=$((total + n))
        case $f in *-01) main=$n ;; esac
    done
    # the same nginx started and stopped without requests: its fixed cost
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.idle" \
        "$NGINX_BIN" -p "$TMP" -c "$TMP/nginx.conf" 2>> "$TMP/valgrind.log" &
    NGINX_PID=$!
    wait_up
    sleep 2
    kill -TERM "$NGINX_PID"
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
    idle=$(callgrind_annotate "$OUT/callgrind.idle" 2>/dev/null \
           | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    python3 -c "
t, m, i, n, ne = $total, $main, $idle, $REQS, $EVTOTAL
print('callgrind %s (%s), kafka conf [%s]: %d requests, %d events,'
      ' %d instructions (idle run %d)'
      % ('$CASE', '$SETUP', '$KAFKA_CONF', n, ne, t, i))
if not ne:
    print('  %.0f instructions/request (all threads, less the idle run;'
          ' the baseline counts no events)' % ((t - i) / n))
    raise SystemExit(0)
print('  %.0f instructions/request, %.0f instructions/event (all threads,'
      ' less the idle run)' % ((t - i) / n, (t - i) / ne))
print('  nginx thread %.0f/event (less the idle run), librdkafka threads'
      ' %.0f/event' % ((m - i) / ne, (t - m) / ne))"
    exit 0
fi

# syscalls
[ "$CASE" = realmix ] \
    && { echo "profile: syscalls of realmix: not counted" >&2; exit 2; }
SECS=${ARG:-5}
"$NGINX_BIN" -p "$TMP" -c "$TMP/nginx.conf" 2> "$TMP/nginx.stderr" &
NGINX_PID=$!
wait_up
WORKER=$(pgrep -P "$(cat "$TMP/nginx.pid")" | head -1)
wrk_run() {
    if [ "$CASE" = realmix ]; then
        BENCH_MIX=$TMP/mix/list "${CLIENT[@]}" wrk -t1 -c32 -d"$1"s \
            --timeout 5s -s "$ROOT/tests/bench/realmix.lua" \
            "http://127.0.0.1:$PORT/"
        return
    fi
    BENCH_PAYLOAD=$FILE BENCH_ENCODING=$ENC \
        "${CLIENT[@]}" wrk -t1 -c32 -d"$1"s --timeout 5s \
        -s "$ROOT/tests/bench/post.lua" "http://127.0.0.1:$PORT/collect"
}
wrk_run 1 > /dev/null       # warm
strace -c -f -q -p "$WORKER" -o "$TMP/strace.txt" &
STRACE_PID=$!
sleep 0.5
line=$(wrk_run "$SECS" | grep '^BENCH ')
kill -INT "$STRACE_PID"
wait "$STRACE_PID" 2>/dev/null || true
requests=$(echo "$line" | tr ' ' '\n' | sed -n 's/^requests=//p')
python3 - "$TMP/strace.txt" "$requests" "$EVENTS" "$CASE" "$KAFKA_CONF" << 'EOF'
import sys
f, req, ev, case, conf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = []
for line in open(f):
    p = line.split()
    if len(p) >= 5 and p[0][0].isdigit() and p[-1] != "total":
        calls = int(p[3])
        rows.append((calls, p[-1]))
rows.sort(reverse=True)
n = req * ev
print("syscalls %s, kafka conf [%s]: %d requests, %d events under strace"
      % (case, conf, req, n))
print("  all: %.3f calls/event" % (sum(c for c, _ in rows) / n))
for c, name in rows[:8]:
    print("  %-14s %.3f/event" % (name, c / n))
EOF
