#!/usr/bin/env bash
# run.sh - wrk against a body-reading nginx baseline and against
# xflow_collect (ack=local and ack=kafka), in the same run, alternating
# targets round by round, and a table of medians and ratios to the
# baseline.  `make bench` builds what it needs and calls this; see
# docs/benchmarks.md for the method.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS      length of each measured wrk run [8]
#   BENCH_ROUNDS       rounds; every target runs once per round [3]
#   BENCH_WARMUP       seconds of unmeasured load per target first [2]
#   BENCH_THREADS      wrk -t [1]
#   BENCH_CONNECTIONS  wrk -c [32]
#   BENCH_CASES        payload cases: event300 batch50gz batch50
#                      [event300 batch50gz]
#   BENCH_TARGETS      return204 read xflow-local xflow-kafka [all four]
#   BENCH_PIN          1: nginx worker (and so librdkafka's threads) on
#                      CPU 1, wrk and the broker on CPU 0; 0: no pinning [1]
#   BENCH_KAFKA_CONF   librdkafka properties for xflow, "name=value ..."
#                      [linger.ms=1]
#   BENCH_PAYLOAD_DIR  [/work/shared/bench/payloads]
#   BENCH_OUT          results directory [build/bench]
#   BENCH_PORT         first of three loopback ports [18081]
#   BENCH_KEEP=1       keep the nginx prefixes (logs, configs) in /tmp
#   NGINX_BIN XFLOW_MODULE BASELINE_MODULE BENCH_BROKER   set by bench.mk
#
# No timing is asserted anywhere: the run fails only when the setup is
# wrong (a target answers the wrong status, a process does not start).

set -euo pipefail

cd "$(dirname "$0")/../.."

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
XFLOW_MODULE=${XFLOW_MODULE:-$PWD/build/ngx_xflow_module.so}
BASELINE_MODULE=${BASELINE_MODULE:-$PWD/build/ngx_http_bench_baseline_module.so}
BENCH_BROKER=${BENCH_BROKER:-$PWD/build/bench-broker}

SECONDS_RUN=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-1}
CONNS=${BENCH_CONNECTIONS:-32}
CASES=${BENCH_CASES:-event300 batch50gz}
TARGETS=${BENCH_TARGETS:-read xflow-local return204 xflow-kafka}
PIN=${BENCH_PIN:-1}
KAFKA_CONF=${BENCH_KAFKA_CONF:-linger.ms=1}
PAYLOADS=${BENCH_PAYLOAD_DIR:-/work/shared/bench/payloads}
OUT=${BENCH_OUT:-build/bench}
PORT=${BENCH_PORT:-18081}
LUA=$PWD/tests/bench/post.lua
TOPIC_LOCAL=bench_local
TOPIC_KAFKA=bench_kafka

die() { echo "bench: $*" >&2; exit 1; }

for f in "$NGINX_BIN" "$XFLOW_MODULE" "$BASELINE_MODULE" "$BENCH_BROKER"; do
    [ -e "$f" ] || die "missing $f (run: make bench)"
done
command -v wrk >/dev/null || die "wrk not installed (make deps)"
command -v python3 >/dev/null || die "python3 not installed (make deps)"

if [ "$PIN" = 1 ] && [ "$(nproc)" -lt 2 ]; then
    echo "bench: one CPU only, running unpinned" >&2
    PIN=0
fi

CLIENT=()
if [ "$PIN" = 1 ]; then
    CLIENT=(taskset -c 0)
fi

# case -> payload file, Content-Encoding, events per request
case_file() {
    case $1 in
        event300)  echo "$PAYLOADS/event300.json" ;;
        batch50gz) echo "$PAYLOADS/batch50.json.gz" ;;
        batch50)   echo "$PAYLOADS/batch50.json" ;;
        *)         die "unknown case $1" ;;
    esac
}
case_encoding() { [ "$1" = batch50gz ] && echo gzip || echo ""; }
case_events() { [ "$1" = event300 ] && echo 1 || echo 50; }

# target -> nginx instance, port, URI, expected status, Kafka topic
target_inst() {
    case $1 in
        read|return204) echo base ;;
        xflow-local)    echo local ;;
        xflow-kafka)    echo kafka ;;
        *)              die "unknown target $1" ;;
    esac
}
inst_port() {
    case $1 in base) echo "$PORT" ;; local) echo $((PORT + 1)) ;;
               kafka) echo $((PORT + 2)) ;; esac
}
target_uri() {
    case $1 in read) echo /read ;; return204) echo /return204 ;;
               *) echo /collect ;; esac
}
target_status() { case $1 in xflow-*) echo 200 ;; *) echo 204 ;; esac; }
target_topic() {
    case $1 in xflow-local) echo $TOPIC_LOCAL ;;
               xflow-kafka) echo $TOPIC_KAFKA ;; *) echo "" ;; esac
}

for c in $CASES; do
    [ -r "$(case_file "$c")" ] || die "cannot read $(case_file "$c")"
done
for t in $TARGETS; do target_inst "$t" >/dev/null; done

# ------------------------------------------------------------ processes

TMP=$(mktemp -d /tmp/xflow-bench.XXXXXX)
chmod 755 "$TMP"            # workers run as nobody: keep it traversable
declare -A MASTER WORKER
BROKER_PID=

cleanup() {
    local i pid
    for i in "${!MASTER[@]}"; do
        kill -QUIT "${MASTER[$i]}" 2>/dev/null || true
    done
    for i in "${!MASTER[@]}"; do
        pid=${MASTER[$i]}
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${CLIENT[@]}" "$BENCH_BROKER" serve --topics $TOPIC_LOCAL,$TOPIC_KAFKA \
    --bootstrap-file "$TMP/bootstrap" > /dev/null &
BROKER_PID=$!
for _ in $(seq 100); do
    [ -s "$TMP/bootstrap" ] && break
    sleep 0.05
done
[ -s "$TMP/bootstrap" ] || die "the bench broker did not start"
BOOTSTRAP=$(cat "$TMP/bootstrap")

write_conf() {     # instance dir port
    local inst=$1 dir=$2 port=$3 kv
    {
        case $inst in
            base) echo "load_module $BASELINE_MODULE;" ;;
            *)    echo "load_module $XFLOW_MODULE;" ;;
        esac
        echo "worker_processes 1;"
        [ "$PIN" = 1 ] && echo "worker_cpu_affinity 10;"
        cat <<EOF
daemon off;
master_process on;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_max_body_size 1m;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
EOF
        case $inst in
            base)
                cat <<EOF
    server {
        listen 127.0.0.1:$port;
        location = /read { bench_read_body; }
        location = /return204 { return 204; }
    }
}
EOF
                ;;
            *)
                echo "    xflow_kafka_brokers $BOOTSTRAP;"
                for kv in $KAFKA_CONF; do
                    echo "    xflow_kafka_conf ${kv%%=*} ${kv#*=};"
                done
                cat <<EOF
    server {
        listen 127.0.0.1:$port;
        location = /collect {
            xflow_collect;
            xflow_topic bench_$inst;
            xflow_ack $inst;
        }
    }
}
EOF
                ;;
        esac
    } > "$dir/nginx.conf"
}

start_nginx() {    # instance
    local inst=$1 dir=$TMP/$1 port pid w=
    port=$(inst_port "$inst")
    mkdir -p "$dir"
    chmod 755 "$dir"
    write_conf "$inst" "$dir" "$port"
    "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" 2>> "$dir/error.log" &
    pid=$!
    MASTER[$inst]=$pid
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null \
            || { cat "$dir/error.log" >&2; die "nginx ($inst) exited"; }
        w=$(pgrep -P "$pid" | head -1 || true)
        [ -n "$w" ] && break
        sleep 0.05
    done
    [ -n "$w" ] || die "nginx ($inst): no worker"
    WORKER[$inst]=$w
}

declare -A NEED
for t in $TARGETS; do NEED[$(target_inst "$t")]=1; done
for inst in base local kafka; do
    [ -n "${NEED[$inst]:-}" ] && start_nginx "$inst"
done

# ------------------------------------------------------------ measuring

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

kafka_count() {    # topic settle_ms
    "$BENCH_BROKER" count --bootstrap "$BOOTSTRAP" --topics "$1" \
        --settle "$2" | awk '{ print $2 }'
}

url() {            # target
    echo "http://127.0.0.1:$(inst_port "$(target_inst "$1")")$(target_uri "$1")"
}

run_wrk() {        # case target seconds
    local enc
    enc=$(case_encoding "$1")
    BENCH_PAYLOAD=$(case_file "$1") BENCH_ENCODING=$enc \
        "${CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$3"s --timeout 5s \
        -s "$LUA" "$(url "$2")"
}

check_target() {   # case target: one request by hand, before any timing
    local c=$1 t=$2 enc code want body
    enc=$(case_encoding "$c")
    want=$(target_status "$t")
    body=$TMP/check.out
    code=$(curl -s -o "$body" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' \
        ${enc:+-H "Content-Encoding: $enc"} \
        --data-binary @"$(case_file "$c")" "$(url "$t")")
    [ "$code" = "$want" ] \
        || die "$t $c: HTTP $code, expected $want: $(head -c 300 "$body")"
    if [ "$want" = 200 ]; then
        grep -q "\"accepted\":$(case_events "$c")" "$body" \
            || die "$t $c: unexpected answer $(head -c 300 "$body")"
    fi
}

mkdir -p "$OUT"
RUNS=$OUT/runs.tsv
printf 'case\ttarget\tround\tevents_per_req\trequests\tduration_us\tp50_us\tp99_us\tcpu_ticks\trss_kb\thwm_kb\tarrived\tnon2xx\tsock_errors\tload1\n' \
    > "$RUNS"
HZ=$(getconf CLK_TCK)

measure() {        # case target round
    local c=$1 t=$2 r=$3 pid topic before=0 after=0 arrived=- t0 t1 line
    pid=${WORKER[$(target_inst "$t")]}
    topic=$(target_topic "$t")
    [ -n "$topic" ] && before=$(kafka_count "$topic" 300)
    t0=$(cpu_ticks "$pid")
    line=$(run_wrk "$c" "$t" "$SECONDS_RUN" | grep '^BENCH ') \
        || die "wrk failed on $t $c"
    t1=$(cpu_ticks "$pid")
    if [ -n "$topic" ]; then
        after=$(kafka_count "$topic" 500)
        arrived=$((after - before))
    fi
    eval "$(echo "${line#BENCH }" | tr ' ' '\n' | sed 's/^/local w_/')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$c" "$t" "$r" "$(case_events "$c")" "$w_requests" \
        "$w_duration_us" "$w_p50_us" "$w_p99_us" $((t1 - t0)) \
        "$(status_kb "$pid" VmRSS)" "$(status_kb "$pid" VmHWM)" \
        "$arrived" "$w_err_status" \
        $((w_err_connect + w_err_read + w_err_write + w_err_timeout)) \
        "$(cut -d' ' -f1 /proc/loadavg)" >> "$RUNS"
    printf 'bench: round %s %-9s %-11s %9.0f req/s  p99 %6.2f ms  %s\n' \
        "$r" "$c" "$t" \
        "$(echo "$w_requests $w_duration_us" | awk '{ print $1 / $2 * 1e6 }')" \
        "$(echo "$w_p99_us" | awk '{ print $1 / 1000 }')" \
        "${topic:+arrived $arrived}"
}

echo "bench: ${ROUNDS} rounds x ${SECONDS_RUN}s, wrk -t$THREADS -c$CONNS," \
     "pin=$PIN, kafka conf: $KAFKA_CONF, broker $BOOTSTRAP"

for c in $CASES; do
    for t in $TARGETS; do
        check_target "$c" "$t"
        run_wrk "$c" "$t" "$WARMUP" > /dev/null
    done
done

for r in $(seq "$ROUNDS"); do
    for c in $CASES; do
        for t in $TARGETS; do
            measure "$c" "$t" "$r"
        done
    done
done

for inst in "${!MASTER[@]}"; do
    if grep -E '\[(alert|emerg|crit)\]' "$TMP/$inst/error.log" >&2; then
        echo "bench: nginx ($inst) logged the errors above" >&2
    fi
done

# ------------------------------------------------------------ reporting

python3 - "$RUNS" "$HZ" "$SECONDS_RUN" "$ROUNDS" "$THREADS" "$CONNS" \
    "$PIN" "$KAFKA_CONF" << 'EOF' | tee "$OUT/summary.txt"
import csv, os, statistics, sys

runs, hz, secs, rounds, threads, conns, pin, kconf = sys.argv[1:]
hz = float(hz)
rows = list(csv.DictReader(open(runs), delimiter="\t"))

LABEL = {
    "return204": "return 204 (body NOT read)",
    "read": "baseline: reads body, 204",
    "xflow-local": "xflow ack=local",
    "xflow-kafka": "xflow ack=kafka",
}
CASE = {
    "event300": "event300.json: 1 event/request, 314 B, plain",
    "batch50gz": "batch50.json.gz: 50 events/request, 2503 B, gzip",
    "batch50": "batch50.json: 50 events/request, 15783 B, plain",
}

def per_run(r):
    req = int(r["requests"])
    dur = int(r["duration_us"]) / 1e6
    ev = int(r["events_per_req"])
    cpu_us = int(r["cpu_ticks"]) / hz * 1e6
    return {
        "rps": req / dur,
        "eps": req * ev / dur,
        "p50": int(r["p50_us"]) / 1000,
        "p99": int(r["p99_us"]) / 1000,
        "rss": int(r["rss_kb"]) / 1024,
        "cpu_req": cpu_us / req if req else float("nan"),
        "cpu_ev": cpu_us / (req * ev) if req else float("nan"),
        "acked": req * ev,
        "arrived": None if r["arrived"] == "-" else int(r["arrived"]),
        "bad": int(r["non2xx"]) + int(r["sock_errors"]),
    }

print()
print("wrk -t%s -c%s, median of %s rounds x %s s, pinned=%s, kafka: %s"
      % (threads, conns, rounds, secs, pin, kconf))
loads = [float(r["load1"]) for r in rows]
print("1-min load average after runs: %.2f..%.2f on %d CPUs (the bench"
      " keeps ~2 busy;" % (min(loads), max(loads), os.cpu_count()))
print("more means other work shared the machine: trust CPU per request"
      " over req/s then)")

for case in dict.fromkeys(r["case"] for r in rows):
    med = {}
    for t in dict.fromkeys(r["target"] for r in rows if r["case"] == case):
        rs = [per_run(r) for r in rows
              if r["case"] == case and r["target"] == t]
        m = {k: statistics.median(x[k] for x in rs)
             for k in ("rps", "eps", "p50", "p99", "rss", "cpu_req",
                       "cpu_ev")}
        acked = sum(x["acked"] for x in rs)
        arr = [x["arrived"] for x in rs if x["arrived"] is not None]
        m["arrived"] = ("%.1f%%" % (100.0 * sum(arr) / acked)
                        if arr and acked else "-")
        m["bad"] = sum(x["bad"] for x in rs)
        med[t] = m

    print()
    print("== " + CASE.get(case, case))
    print("%-27s %9s %10s %7s %7s %7s %8s %8s %8s %6s"
          % ("target", "req/s", "events/s", "p50 ms", "p99 ms", "RSS MB",
             "us/req", "us/event", "arrived", "errors"))
    for t, m in med.items():
        print("%-27s %9.0f %10.0f %7.2f %7.2f %7.1f %8.2f %8.3f %8s %6d"
              % (LABEL.get(t, t), m["rps"], m["eps"], m["p50"], m["p99"],
                 m["rss"], m["cpu_req"], m["cpu_ev"], m["arrived"],
                 m["bad"]))

    base = med.get("read")
    if base is None:
        continue
    print("-- ratio to the body-reading baseline (x)")
    print("%-27s %9s %10s %7s %7s %7s %8s %8s"
          % ("target", "req/s", "events/s", "p50", "p99", "RSS",
             "us/req", "us/event"))
    for t, m in med.items():
        if t == "read":
            continue
        print("%-27s %9.2f %10.2f %7.2f %7.2f %7.2f %8.2f %8.2f"
              % (LABEL.get(t, t), m["rps"] / base["rps"],
                 m["eps"] / base["eps"], m["p50"] / base["p50"],
                 m["p99"] / base["p99"], m["rss"] / base["rss"],
                 m["cpu_req"] / base["cpu_req"],
                 m["cpu_ev"] / base["cpu_ev"]))

print()
print("us/req, us/event: nginx worker CPU (utime+stime from /proc/<pid>/stat,"
      " all threads,")
print("librdkafka's included) per completed request / per event sent."
      " arrived: messages")
print("counted in Kafka (high watermarks) / events acknowledged by 2xx.")
EOF
echo "bench: raw runs in $RUNS"
