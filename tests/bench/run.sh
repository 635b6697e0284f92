#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - wrk against a body-reading nginx baseline and against
# xflow_collect (ack=local, ack=kafka, privacy and GeoIP, 1,000 routing
# rules, a rate limit, the spool's fsync modes), in the same run,
# alternating targets round by round, and a table of medians and ratios
# to the baseline; then latency at half of the peak, and bytes per event
# into Kafka.  `make bench` builds what it needs and calls this; see
# docs/benchmarks.md for the method.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS      length of each measured wrk run [5]
#   BENCH_ROUNDS       rounds; every target runs once per round [3]
#   BENCH_WARMUP       seconds of unmeasured load per target first [2]
#   BENCH_THREADS      wrk -t [1]
#   BENCH_CONNECTIONS  wrk -c [32]
#   BENCH_CASES        payload cases: event300 batch50gz batch50 realmix
#                      [event300 batch50gz realmix]
#   BENCH_TARGETS      read return204 xflow-local xflow-kafka xflow-privacy
#                      xflow-routes xflow-limit xflow-spool-always
#                      xflow-spool-interval xflow-spool-off xflow-mix
#                      xflow-shipped [all]
#                      realmix: every recorded request of every SDK
#                      family (tests/bench/realmix.py), in turn, with the
#                      browser's headers; xflow-mix is the shipped
#                      locations (docs/deploy/nginx.conf: a format per
#                      path), xflow-shipped the same with the documented
#                      privacy setup (docs/privacy.md); both ack=local;
#                      xflow-shipped-CODEC (none, lz4, zstd, zstd1: zstd
#                      at compression.level 1) is xflow-shipped with
#                      compression.type CODEC, for comparing codecs in
#                      one run
#   BENCH_MIX_RATES    realmix open loop (build/xflow-load -f): requests/s
#                      for read, xflow-mix, xflow-shipped ["1000 3000";
#                      "" skips]
#   BENCH_MIX_BYTES    1: BENCH_SECONDS of realmix on each xflow mix
#                      target, then Kafka bytes on the wire
#                      (xflow_kafka_tx_bytes_total) per event and against
#                      the decoded upload [1]
#   BENCH_HEADERS      1: every request carries a browser's Cookie (~2 KB),
#                      User-Agent and X-Forwarded-For; 0: none [1]
#   BENCH_HALF         targets paced at half their peak req/s for p99
#                      ["xflow-local xflow-kafka"; "" skips]
#   BENCH_BYTES        1: bytes per event into Kafka for the SDK captures
#                      and the payloads, with and without references [1]
#   BENCH_CAPTURES     [tests/fixtures/sdk-captures]
#   BENCH_GEOIP        City database [tests/fixtures/geoip/
#                      GeoIP2-City-Test.mmdb]
#   BENCH_SOAK         seconds of BENCH_SOAK_CASE on BENCH_SOAK_TARGET
#                      after the rounds, RSS sampled every 10 s [0: none]
#   BENCH_SOAK_CASE    [batch50gz; realmix: the real mix]
#   BENCH_SOAK_TARGET  [xflow-local; with realmix: xflow-shipped]
#   BENCH_PIN          1: nginx worker (and so librdkafka's threads) on
#                      CPU 1, wrk and the broker on CPU 0; 0: no pinning [1]
#   BENCH_KAFKA_CONF   librdkafka properties for xflow, "name=value ..."
#                      [none: the module's own defaults]
#   BENCH_PROFILES     profiles run one after the other, each with the
#                      baseline beside it, then one goals table for all
#                      ["shipped tuned"; "" runs once with the settings
#                      above]:
#                        shipped  the module's defaults as users run them:
#                                 no xflow_kafka_conf, unpinned
#                        tuned    pinned (BENCH_PIN=1), BENCH_TUNED_CONF
#                                 [linger.ms=1], BENCH_TUNED_TARGETS
#                                 [read xflow-local xflow-kafka
#                                 xflow-privacy xflow-routes xflow-mix
#                                 xflow-shipped]
#   BENCH_FLOOR        1: a bare librdkafka producer (producer-floor)
#                      against the same broker with the same settings:
#                      librdkafka's own CPU per message [1]
#   BENCH_PAYLOAD_DIR  [tests/bench/payloads]
#   BENCH_OUT          results directory [build/bench]
#   BENCH_PORT         first of nine loopback ports [18081]
#   BENCH_KEEP=1       keep the nginx prefixes (logs, configs) in /tmp
#   NGINX_BIN XFLOW_MODULE BASELINE_MODULE BENCH_BROKER   set by bench.mk
#
# No timing is asserted anywhere: the run fails only when the setup is
# wrong (a target answers the wrong status, a process does not start).

set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD

# ------------------------------------------------------------ profiles

PROFILES=${BENCH_PROFILES-shipped tuned}
if [ -z "${BENCH_PROFILE:-}" ] && [ -n "$PROFILES" ]; then
    TOP=${BENCH_OUT:-build/bench}
    mkdir -p "$TOP"
    for p in $PROFILES; do
        case $p in
            shipped)
                BENCH_PROFILE=$p BENCH_PIN=0 BENCH_KAFKA_CONF= \
                    BENCH_OUT=$TOP/$p "$0" ;;
            tuned)
                BENCH_PROFILE=$p BENCH_PIN=1 \
                    BENCH_KAFKA_CONF=${BENCH_TUNED_CONF-linger.ms=1} \
                    BENCH_TARGETS=${BENCH_TUNED_TARGETS:-read xflow-local \
                                   xflow-kafka xflow-privacy xflow-routes \
                                   xflow-mix xflow-shipped} \
                    BENCH_BYTES=0 BENCH_SOAK=0 \
                    BENCH_OUT=$TOP/$p "$0" ;;
            *)
                echo "bench: unknown profile $p" >&2; exit 2 ;;
        esac
    done
    python3 "$ROOT/tests/bench/goals.py" "$TOP" $PROFILES \
        | tee "$TOP/goals.txt"
    exit 0
fi

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
XFLOW_MODULE=${XFLOW_MODULE:-$PWD/build/ngx_xflow_module.so}
BASELINE_MODULE=${BASELINE_MODULE:-$PWD/build/ngx_http_bench_baseline_module.so}
BENCH_BROKER=${BENCH_BROKER:-$PWD/build/bench-broker}

SECONDS_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-1}
CONNS=${BENCH_CONNECTIONS:-32}
CASES=${BENCH_CASES:-event300 batch50gz realmix}
TARGETS=${BENCH_TARGETS:-read xflow-local return204 xflow-kafka \
    xflow-privacy xflow-routes xflow-limit xflow-spool-always \
    xflow-spool-interval xflow-spool-off xflow-mix xflow-shipped}
MIX_RATES=${BENCH_MIX_RATES-1000 3000}
MIX_BYTES=${BENCH_MIX_BYTES:-1}
XFLOW_LOAD=${XFLOW_LOAD:-$ROOT/build/xflow-load}
HEADERS=${BENCH_HEADERS:-1}
HALF=${BENCH_HALF-xflow-local xflow-kafka}
BYTES=${BENCH_BYTES:-1}
CAPTURES=${BENCH_CAPTURES:-$ROOT/tests/fixtures/sdk-captures}
GEOIP=${BENCH_GEOIP:-$ROOT/tests/fixtures/geoip/GeoIP2-City-Test.mmdb}
SOAK=${BENCH_SOAK:-0}
SOAK_CASE=${BENCH_SOAK_CASE:-batch50gz}
SOAK_TARGET=${BENCH_SOAK_TARGET:-$([ "$SOAK_CASE" = realmix ] \
                                   && echo xflow-shipped || echo xflow-local)}
PIN=${BENCH_PIN:-1}
KAFKA_CONF=${BENCH_KAFKA_CONF-}
FLOOR=${BENCH_FLOOR:-1}
PRODUCER_FLOOR=${PRODUCER_FLOOR:-$ROOT/build/producer-floor}
PAYLOADS=${BENCH_PAYLOAD_DIR:-$ROOT/tests/bench/payloads}
OUT=${BENCH_OUT:-build/bench}
rm -f "$OUT/half.tsv" "$OUT/bytes.tsv" "$OUT/soak.tsv" "$OUT/floor.txt" \
      "$OUT/mix.tsv" "$OUT/mixbytes.tsv" "$OUT/openloop.tsv"
PORT=${BENCH_PORT:-18081}
LUA=$PWD/tests/bench/post.lua
MIXLUA=$PWD/tests/bench/realmix.lua
INSTANCES="base local kafka privacy routes limit spool-always spool-interval
           spool-off mix shipped shipped-none shipped-lz4 shipped-zstd
           shipped-zstd1"

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

# case -> payload file, Content-Encoding, events per request (realmix:
# the list of request files, and the mean of the mix, measured at start)
MIX_EPR=1
case_file() {
    case $1 in
        event300)  echo "$PAYLOADS/event300.json" ;;
        batch50gz) echo "$PAYLOADS/batch50.json.gz" ;;
        batch50)   echo "$PAYLOADS/batch50.json" ;;
        realmix)   echo "$TMP/mix/list" ;;
        *)         die "unknown case $1" ;;
    esac
}
case_encoding() { [ "$1" = batch50gz ] && echo gzip || echo ""; }
case_events() {
    case $1 in event300) echo 1 ;; realmix) echo "$MIX_EPR" ;;
               *) echo 50 ;; esac
}

# target -> nginx instance, port, URI, expected status, Kafka topic
target_inst() {
    case $1 in
        read|return204) echo base ;;
        xflow-local|xflow-kafka|xflow-privacy|xflow-routes|xflow-limit\
        |xflow-spool-always|xflow-spool-interval|xflow-spool-off\
        |xflow-mix|xflow-shipped|xflow-shipped-none|xflow-shipped-lz4\
        |xflow-shipped-zstd|xflow-shipped-zstd1)
                        echo "${1#xflow-}" ;;
        *)              die "unknown target $1" ;;
    esac
}
inst_port() {
    local i=0 n
    for n in $INSTANCES; do
        [ "$n" = "$1" ] && { echo $((PORT + i)); return; }
        i=$((i + 1))
    done
    die "unknown instance $1"
}
inst_topic() { echo "bench_${1//-/_}"; }
target_uri() {
    case $1 in read) echo /read ;; return204) echo /return204 ;;
               *) echo /collect ;; esac
}
target_status() { case $1 in xflow-*) echo 200 ;; *) echo 204 ;; esac; }
target_topic() {
    case $1 in xflow-*) inst_topic "$(target_inst "$1")" ;;
               *) echo "" ;; esac
}

for c in $CASES; do
    [ "$c" = realmix ] && continue
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

TOPICS=bench_ua,bench_routes_other,bench_floor
for inst in $INSTANCES; do
    TOPICS=$TOPICS,$(inst_topic "$inst")
done

"${CLIENT[@]}" "$BENCH_BROKER" serve --topics "$TOPICS" \
    --bootstrap-file "$TMP/bootstrap" > /dev/null &
BROKER_PID=$!
for _ in $(seq 100); do
    [ -s "$TMP/bootstrap" ] && break
    sleep 0.05
done
[ -s "$TMP/bootstrap" ] || die "the bench broker did not start"
BOOTSTRAP=$(cat "$TMP/bootstrap")

# write_headers (a browser's headers) and write_mix_server (the real
# mix's locations): tests/bench/mix.sh, shared with profile.sh
# shellcheck source=tests/bench/mix.sh
. "$ROOT/tests/bench/mix.sh"

# 1,000 routing rules, as a gateway serving many apps might have: exact
# event names, prefixes, apps, formats; only the last one matches the
# bench events (page_view)
write_routes() {   # file
    local i
    {
        for i in $(seq 0 998); do
            case $((i % 4)) in
                0) echo "xflow_route event=ev_$i topic=bench_routes_other;" ;;
                1) echo "xflow_route event=ev_${i}_* topic=bench_routes_other;" ;;
                2) echo "xflow_route app=app_$i topic=bench_routes_other;" ;;
                3) echo "xflow_route app=app_$i event=ev_$i format=sensors" \
                        "topic=bench_routes_other;" ;;
            esac
        done
        echo "xflow_route event=page_view topic=bench_routes;"
    } > "$1"
}

[ "$HEADERS" = 1 ] && write_headers "$TMP/headers"
python3 "$ROOT/tests/bench/realmix.py" "$TMP/mix" "$TMP/headers" \
    "$CAPTURES" "$ROOT/tests/fixtures/app-sdk"
write_routes "$TMP/routes.conf"
head -c 48 /dev/urandom > "$TMP/hash.key"
chmod 644 "$TMP/hash.key" "$TMP/routes.conf"

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
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
EOF
        if [ "$inst" = base ]; then
            cat <<EOF
    server {
        listen 127.0.0.1:$port;
        location = /read { bench_read_body; }
        location = /return204 { return 204; }
        location / { bench_read_body; }
    }
}
EOF
            return
        fi

        echo "    xflow_kafka_brokers $BOOTSTRAP;"
        for kv in $KAFKA_CONF; do
            echo "    xflow_kafka_conf ${kv%%=*} ${kv#*=};"
        done

        case $inst in
            privacy|shipped*)
                write_mix_http "$TMP/hash.key" "$GEOIP"
                ;;
            limit)
                echo "    xflow_limit_zone bench:1m key=\$binary_remote_addr" \
                     "rate=100000000r/s burst=100000000;"
                ;;
            spool-*)
                mkdir -p "$dir/spool"
                chmod 777 "$dir/spool"
                echo "    xflow_spool $dir/spool max_size=1g" \
                     "fsync=${inst#spool-}$([ "$inst" = spool-interval ] \
                                           && echo "=100ms");"
                ;;
        esac

        case $inst in
            shipped-zstd1)
                echo "    xflow_kafka_conf compression.type zstd;"
                echo "    xflow_kafka_conf compression.level 1;" ;;
            shipped-*)
                echo "    xflow_kafka_conf compression.type ${inst#*-};" ;;
        esac

        case $inst in mix|shipped*)
            write_mix_server "$port" "$(inst_topic "$inst")" \
                "$([ "$inst" = mix ] && echo 0 || echo 1)"
            echo "}"
            return ;;
        esac

        cat <<EOF
    server {
        listen 127.0.0.1:$port;
        location = /metrics { xflow_metrics; }
        location / {
            xflow_collect;
            xflow_topic $(inst_topic "$inst");
            xflow_ack $([ "$inst" = kafka ] && echo kafka || echo local);
EOF
        case $inst in
            privacy)
                echo "            xflow_cookie_ref sensorsdata2015jssdkcross" \
                     "ph_* session;"
                echo "            xflow_strip_field ua hash;"
                echo "            xflow_strip_field properties.\$user_agent hash;"
                ;;
            routes)
                sed 's/^/            /' "$TMP/routes.conf"
                ;;
            limit)
                echo "            xflow_limit bench;"
                ;;
        esac
        echo "        }"
        echo "    }"
        echo "}"
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
if [ "$BYTES" = 1 ]; then NEED[local]=1; NEED[privacy]=1; fi
[ "$SOAK" -gt 0 ] && NEED[$(target_inst "$SOAK_TARGET")]=1
for inst in $INSTANCES; do
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

run_wrk() {        # case target seconds [delay_ms]
    local enc
    if [ "$1" = realmix ]; then
        BENCH_MIX=$TMP/mix/list BENCH_DELAY_MS=${4:-} \
            "${CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$3"s \
            --timeout 5s -s "$MIXLUA" "$(url "$2")"
        return
    fi
    enc=$(case_encoding "$1")
    BENCH_PAYLOAD=$(case_file "$1") BENCH_ENCODING=$enc \
        BENCH_HEADERS=$([ "$HEADERS" = 1 ] && echo "$TMP/headers") \
        BENCH_DELAY_MS=${4:-} \
        "${CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$3"s --timeout 5s \
        -s "$LUA" "$(url "$2")"
}

# xflow's counters of one instance: events accepted, decoded and received
# bytes, Kafka bytes on the wire (librdkafka's txbytes, every
# statistics.interval.ms), payload bytes produced
xflow_counters() {     # port
    curl -s "http://127.0.0.1:$1/metrics" | awk '
        /^xflow_events_total\{.*result="accepted"/ { ev += $NF }
        /^xflow_decoded_bytes_total[ {]/ { dec += $NF }
        /^xflow_received_bytes_total[ {]/ { rec += $NF }
        /^xflow_kafka_tx_bytes_total[ {]/ { tx += $NF }
        /^xflow_kafka_produced_bytes_total[ {]/ { prod += $NF }
        END { printf "%d %d %d %d %d\n", ev, dec, rec, tx, prod }'
}

# every request of the mix once, in order, on one connection: each must
# get a 2xx (a 404 is a location missing for a path)
check_mix() {      # target
    python3 - "$TMP/mix/manifest.tsv" "$(inst_port "$(target_inst "$1")")" \
        "$1" << 'EOF'
import csv, socket, sys
man, port, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
f = s.makefile("rb")
for r in csv.DictReader(open(man), delimiter="\t"):
    s.sendall(open(r["file"], "rb").read())
    status = f.readline().split()[1].decode()
    clen = 0
    while True:
        h = f.readline().strip()
        if not h:
            break
        k, _, v = h.decode().partition(":")
        if k.lower() == "content-length":
            clen = int(v)
    body = f.read(clen)
    if not status.startswith("2"):
        sys.exit("bench: %s %s %s %s: HTTP %s %s" % (
            target, r["source"], r["method"], r["path"], status,
            body[:200]))
EOF
}

check_target() {   # case target: one request by hand, before any timing
    local c=$1 t=$2 enc code want body
    if [ "$c" = realmix ]; then
        check_mix "$t" || die "$t: the real mix is not answered"
        return
    fi
    enc=$(case_encoding "$c")
    want=$(target_status "$t")
    body=$TMP/check.out
    code=$(curl -s -o "$body" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' \
        ${enc:+-H "Content-Encoding: $enc"} \
        $([ "$HEADERS" = 1 ] && echo "-H @$TMP/headers") \
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

# the mix's events per request, as xflow counts them (accepted events
# of one pass over the mix), and its decoded bytes per request
case " $CASES " in *" realmix "*)
    mixt=
    for t in xflow-mix xflow-shipped; do
        case " $TARGETS " in *" $t "*) mixt=$t; break ;; esac
    done
    [ -n "$mixt" ] || die "realmix needs xflow-mix or xflow-shipped"
    mixport=$(inst_port "$(target_inst "$mixt")")
    read -r ev0 _ < <(xflow_counters "$mixport")
    check_mix "$mixt" || die "the real mix is not answered"
    sleep 0.3
    read -r ev1 _ < <(xflow_counters "$mixport")
    MIX_N=$(($(wc -l < "$TMP/mix/list")))
    MIX_EPR=$(echo "$ev1 $ev0 $MIX_N" \
              | awk '{ printf "%.4f", ($1 - $2) / $3 }')
    MIX_DEC=$(awk -F'\t' 'NR > 1 { s += $6 }
                          END { printf "%.1f", s / (NR - 1) }' \
              "$TMP/mix/manifest.tsv")
    MIX_BODY=$(awk -F'\t' 'NR > 1 { s += $5 }
                           END { printf "%.1f", s / (NR - 1) }' \
               "$TMP/mix/manifest.tsv")
    mkdir -p "$OUT"
    { printf 'requests\tevents\tevents_per_req\tdecoded_per_req'
      printf '\tbody_per_req\n%s\t%s\t%s\t%s\t%s\n' "$MIX_N" \
          "$((ev1 - ev0))" "$MIX_EPR" "$MIX_DEC" "$MIX_BODY"
    } > "$OUT/mix.tsv"
    echo "bench: real mix: $MIX_N requests, $((ev1 - ev0)) events" \
         "($MIX_EPR per request), $MIX_DEC decoded bytes per request"
    ;;
esac

# realmix requests carry their own paths: return204 would be read's twin
skip() { [ "$1" = realmix ] && [ "$2" = return204 ]; }

for c in $CASES; do
    for t in $TARGETS; do
        skip "$c" "$t" && continue
        check_target "$c" "$t"
        run_wrk "$c" "$t" "$WARMUP" > /dev/null
    done
done

for r in $(seq "$ROUNDS"); do
    for c in $CASES; do
        for t in $TARGETS; do
            skip "$c" "$t" && continue
            measure "$c" "$t" "$r"
        done
    done
done

# ------------------------------------------------------------ real mix

# Kafka bytes on the wire: BENCH_SECONDS of the mix on each xflow mix
# target, its counters read once librdkafka's statistics (every 5 s)
# were taken after the last delivery; per event, and against the decoded
# upload (the manifest's final-layer bytes of the requests wrk completed)
counters_settled() {   # port: the counters after the next statistics
    local a b
    sleep 0.5
    a=$(xflow_counters "$1")
    for _ in $(seq 40); do
        sleep 0.25
        b=$(xflow_counters "$1")
        [ "$(echo "$b" | cut -d' ' -f4)" \
          != "$(echo "$a" | cut -d' ' -f4)" ] && break
    done
    echo "$b"
}

MIXB_TSV=$OUT/mixbytes.tsv
case " $CASES " in *" realmix "*)
if [ "$MIX_BYTES" = 1 ]; then
    printf 'target\trequests\tevents\tdecoded_manifest\tdecoded_metric' \
        > "$MIXB_TSV"
    printf '\treceived\ttx_bytes\tproduced_bytes\n' >> "$MIXB_TSV"
    for t in $TARGETS; do
        case $t in xflow-mix|xflow-shipped*) ;; *) continue ;; esac
        port=$(inst_port "$(target_inst "$t")")
        read -r e0 d0 r0 x0 p0 < <(counters_settled "$port")
        line=$(run_wrk realmix "$t" "$SECONDS_RUN" | grep '^BENCH ') \
            || die "wrk failed on $t (mix bytes)"
        read -r e1 d1 r1 x1 p1 < <(counters_settled "$port")
        eval "$(echo "${line#BENCH }" | tr ' ' '\n' | sed 's/^/m_/')"
        printf '%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\n' "$t" "$m_requests" \
            $((e1 - e0)) "$(echo "$m_requests $MIX_DEC" \
                            | awk '{ print $1 * $2 }')" \
            $((d1 - d0)) $((r1 - r0)) $((x1 - x0)) $((p1 - p0)) \
            >> "$MIXB_TSV"
    done
fi

# open loop: requests leave at a fixed rate (build/xflow-load -f), the
# latency counted from when each was due; CPU per request at that rate
OPEN_TSV=$OUT/openloop.tsv
if [ -n "$MIX_RATES" ] && [ -x "$XFLOW_LOAD" ]; then
    printf 'target\trate\trequests\tok\tother\tnone\tachieved' \
        > "$OPEN_TSV"
    printf '\tp50_ms\tp99_ms\tmax_ms\tcpu_us_req\n' >> "$OPEN_TSV"
    for rate in $MIX_RATES; do
        for t in read xflow-mix xflow-shipped; do
            case " $TARGETS " in *" $t "*) ;; *) continue ;; esac
            pid=${WORKER[$(target_inst "$t")]}
            t0=$(cpu_ticks "$pid")
            line=$("${CLIENT[@]}" "$XFLOW_LOAD" \
                   -p "$(inst_port "$(target_inst "$t")")" \
                   -f "$TMP/mix/list" -r "$rate" -d "$SECONDS_RUN") \
                || die "xflow-load failed on $t"
            t1=$(cpu_ticks "$pid")
            eval "$(echo "$line" | tr ' ' '\n' | sed 's/^/o_/')"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
                "$t" "$rate" "$o_requests" "$o_ok" "$o_other" "$o_none" \
                "$o_achieved" "$o_p50_ms" "$o_p99_ms" "$o_max_ms" \
                "$(echo "$t0 $t1 $HZ $o_requests" \
                   | awk '{ printf "%.2f", ($2 - $1) / $3 * 1e6 / $4 }')" \
                >> "$OPEN_TSV"
            echo "bench: open loop $t at $rate r/s: $line"
        done
    done
fi
;;
esac

# ------------------------------------------------------------ half load

# p99 at half of the peak req/s this run measured: a paced load, each of
# enough connections waiting ~10 ms between its requests
HALF_TSV=$OUT/half.tsv
printf 'case\ttarget\twant_rps\tconns\tdelay_ms\trps\tp50_us\tp99_us\n' \
    > "$HALF_TSV"
for c in $CASES; do
    for t in $HALF; do
        case " $TARGETS " in *" $t "*) ;; *) continue ;; esac
        read -r want conns delay < <(python3 -c '
import csv, statistics, sys
c, t, f = sys.argv[1:]
rs = [r for r in csv.DictReader(open(f), delimiter="\t")
      if r["case"] == c and r["target"] == t]
rps = statistics.median(int(r["requests"]) / int(r["duration_us"]) * 1e6
                        for r in rs)
p50 = statistics.median(int(r["p50_us"]) for r in rs) / 1000
half, delay = rps / 2, 10
print(int(half), max(2, round(half * (delay + p50) / 1000)), delay)
' "$c" "$t" "$RUNS")
        line=$(BENCH_PAYLOAD=$(case_file "$c") \
               BENCH_ENCODING=$(case_encoding "$c") \
               BENCH_HEADERS=$([ "$HEADERS" = 1 ] && echo "$TMP/headers") \
               BENCH_DELAY_MS=$delay \
               "${CLIENT[@]}" wrk -t"$THREADS" -c"$conns" -d"$SECONDS_RUN"s \
               --timeout 5s -s "$LUA" "$(url "$t")" | grep '^BENCH ') \
            || die "wrk failed on $t $c (half load)"
        eval "$(echo "${line#BENCH }" | tr ' ' '\n' | sed 's/^/h_/')"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$t" "$want" \
            "$conns" "$delay" \
            "$(echo "$h_requests $h_duration_us" \
               | awk '{ printf "%d", $1 / $2 * 1e6 }')" \
            "$h_p50_us" "$h_p99_us" >> "$HALF_TSV"
    done
done

# ------------------------------------------------------------ bytes/event

# every request of every SDK capture, then each payload, replayed to the
# plain and the privacy instance with the browser's headers; bytes that
# reached Kafka (xflow_kafka_produced_bytes_total, delivery reports, the
# UA dictionary's messages included) over events accepted
BYTES_TSV=$OUT/bytes.tsv
if [ "$BYTES" = 1 ] && [ -n "${WORKER[local]:-}" ] \
   && [ -n "${WORKER[privacy]:-}" ]
then
    python3 - "$BYTES_TSV" "$(inst_port local)" "$(inst_port privacy)" \
        "$CAPTURES" "$PAYLOADS" "${TMP}/headers" << 'EOF'
import base64, glob, http.client, json, os, re, sys, time

out, port_plain, port_priv, captures, payloads, hfile = sys.argv[1:]
extra = {}
if os.path.exists(hfile):
    for line in open(hfile):
        k, v = line.rstrip("\n").split(": ", 1)
        extra[k.lower()] = (k, v)

def metrics(port):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    tot = lambda name: sum(float(m.group(1)) for m in re.finditer(
        r"^%s(?:\{[^}]*\})? (\S+)$" % name, text, re.M))
    return tot("xflow_kafka_produced_bytes_total"), tot("xflow_events_total")

def settled(port):
    last = None
    for _ in range(50):
        m = metrics(port)
        if m == last:
            return m
        last = m
        time.sleep(0.2)
    return last

def send(port, recs):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    for r in recs:
        h = {}
        for k, v in r["headers"].items():
            if k in ("host", "content-length", "connection",
                     "transfer-encoding"):
                continue
            h[k] = v
        for k, (name, v) in extra.items():
            if k == "cookie" and h.get("cookie"):
                h["cookie"] = h["cookie"] + "; " + v
            else:
                h[k] = v
        path = r["path"] + ("?" + r["query"] if r.get("query") else "")
        body = base64.b64decode(r.get("bodyBase64") or "")
        c.request(r["method"], path, body if body else None, h)
        c.getresponse().read()

rows = []
for f in sorted(glob.glob(os.path.join(captures, "*.json"))):
    recs = json.load(open(f))["serverRecords"]
    rows.append((os.path.basename(f)[:-5], recs))
for name, enc in (("event300.json", ""), ("batch50.json.gz", "gzip")):
    body = open(os.path.join(payloads, name), "rb").read()
    h = {"content-type": "application/json"}
    if enc:
        h["content-encoding"] = enc
    rows.append((name, [{"method": "POST", "path": "/collect",
                         "headers": h,
                         "bodyBase64": base64.b64encode(body).decode()}]))

with open(out, "w") as o:
    o.write("source\trequests\tevents\tbytes_plain\tbytes_refs\n")
    for name, recs in rows:
        res = []
        for port in (port_plain, port_priv):
            b0, e0 = settled(port)
            send(port, recs)
            b1, e1 = settled(port)
            res.append((b1 - b0, e1 - e0))
        ev = res[0][1]
        o.write("%s\t%d\t%d\t%.0f\t%.0f\n" % (
            name, len(recs), ev,
            res[0][0] / ev if ev else 0, res[1][0] / res[1][1]
            if res[1][1] else 0))
EOF
fi

# ------------------------------------------------------------ floor

# librdkafka alone, as xflow uses it (50 keyed ~420 B messages per
# produce_batch), same broker, same settings, on the worker's CPU when
# pinned: the part of a per-event cost no change in xflow can remove
if [ "$FLOOR" = 1 ] && [ -x "$PRODUCER_FLOOR" ]; then
    FLOOR_CPU=()
    [ "$PIN" = 1 ] && FLOOR_CPU=(taskset -c 1)
    # shellcheck disable=SC2086
    "${FLOOR_CPU[@]}" "$PRODUCER_FLOOR" "$BOOTSTRAP" bench_floor 500000 \
        $KAFKA_CONF > "$OUT/floor.txt" \
        || echo "bench: producer-floor failed" >&2
fi

# ------------------------------------------------------------ soak

SOAK_TSV=$OUT/soak.tsv
SOAK_PID=${WORKER[$(target_inst "$SOAK_TARGET")]:-}
if [ "$SOAK" -gt 0 ] && [ -n "$SOAK_PID" ]; then
    printf 'second\trss_kb\thwm_kb\trps\tcase\ttarget\n' > "$SOAK_TSV"
    for s in $(seq 10 10 "$SOAK"); do
        line=$(run_wrk "$SOAK_CASE" "$SOAK_TARGET" 10 | grep '^BENCH ') \
            || die "wrk failed (soak)"
        eval "$(echo "${line#BENCH }" | tr ' ' '\n' | sed 's/^/s_/')"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" \
            "$(status_kb "$SOAK_PID" VmRSS)" \
            "$(status_kb "$SOAK_PID" VmHWM)" \
            "$(echo "$s_requests $s_duration_us" \
               | awk '{ printf "%d", $1 / $2 * 1e6 }')" "$SOAK_CASE" \
            "$SOAK_TARGET" >> "$SOAK_TSV"
    done
fi

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
    "xflow-privacy": "local+privacy refs+GeoIP",
    "xflow-routes": "local+1000 route rules",
    "xflow-limit": "local+1 rate-limit check",
    "xflow-spool-always": "local+spool fsync=always",
    "xflow-spool-interval": "local+spool fsync=100ms",
    "xflow-spool-off": "local+spool fsync=off",
    "xflow-mix": "mix: shipped locations",
    "xflow-shipped": "mix: + shipped privacy",
}
CASE = {
    "event300": "event300.json: 1 event/request, 314 B, plain",
    "batch50gz": "batch50.json.gz: 50 events/request, 2503 B, gzip",
    "batch50": "batch50.json: 50 events/request, 15783 B, plain",
    "realmix": "realmix: every SDK family's recorded requests in turn",
}

def per_run(r):
    req = int(r["requests"])
    dur = int(r["duration_us"]) / 1e6
    ev = float(r["events_per_req"])
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
      % (threads, conns, rounds, secs, pin,
         kconf or "the module's defaults (no xflow_kafka_conf)"))
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
python3 - "$HALF_TSV" "$BYTES_TSV" "$SOAK_TSV" "$OUT/mix.tsv" \
    "$MIXB_TSV" "$OUT/openloop.tsv" "$RUNS" "$HZ" "$KAFKA_CONF" << 'EOF' \
    | tee -a "$OUT/summary.txt"
import csv, os, statistics, sys

half, nbytes, soak, mix, mixb, openl, runs, hz, kconf = sys.argv[1:]
rows = lambda f: (list(csv.DictReader(open(f), delimiter="\t"))
                  if os.path.exists(f) else [])

if rows(half):
    print()
    print("== latency at half of the peak req/s (paced: conns x delay)")
    print("%-10s %-22s %9s %9s %6s %7s %7s"
          % ("case", "target", "want r/s", "got r/s", "conns", "p50 ms",
             "p99 ms"))
    for r in rows(half):
        print("%-10s %-22s %9s %9s %6s %7.2f %7.2f"
              % (r["case"], r["target"], r["want_rps"], r["rps"], r["conns"],
                 int(r["p50_us"]) / 1000, int(r["p99_us"]) / 1000))

if rows(nbytes):
    print()
    print("== bytes per event into Kafka (envelope included), with the"
          " browser headers")
    print("%-26s %8s %7s %10s %10s %6s"
          % ("source", "requests", "events", "plain B", "refs B", "ratio"))
    for r in rows(nbytes):
        a, b = float(r["bytes_plain"]), float(r["bytes_refs"])
        print("%-26s %8s %7s %10.0f %10.0f %6.2f"
              % (r["source"], r["requests"], r["events"], a, b,
                 b / a if a else 0))

if rows(mix):
    m = rows(mix)[0]
    epr = float(m["events_per_req"])
    print()
    print("== real mix: %s requests in turn, %s events (%.2f per request),"
          " %.0f B decoded" % (m["requests"], m["events"], epr,
                               float(m["decoded_per_req"])))
    print("   and %.0f B of body per request; kafka: %s"
          % (float(m["body_per_req"]), kconf or "the module's defaults"))
    rr = [r for r in rows(runs) if r["case"] == "realmix"]
    med = {}
    for t in dict.fromkeys(r["target"] for r in rr):
        x = [int(r["cpu_ticks"]) / float(hz) * 1e6 / int(r["requests"])
             for r in rr if r["target"] == t]
        med[t] = statistics.median(x)
    base = med.get("read")
    if med:
        print("%-16s %10s %10s %9s" % ("target", "us/req", "us/event",
                                       "x baseline"))
    for t, v in med.items():
        print("%-16s %10.2f %10.2f %9s" % (t, v, v / epr,
              "%.2f" % (v / base) if base else "-"))
    for r in rows(mixb):
        ev, dec = int(r["events"]), float(r["decoded_manifest"])
        tx = int(r["tx_bytes"])
        if not ev or not dec:
            continue
        print("%-16s Kafka on the wire %6.0f B/event = %5.1f%% of the"
              " decoded upload (%.0f B/event);" % (r["target"], tx / ev,
                                                   100.0 * tx / dec,
                                                   dec / ev))
        print("%-16s produced values %6.0f B/event; xflow_decoded_bytes"
              " %.0f B/event" % ("", int(r["produced_bytes"]) / ev,
                                 int(r["decoded_metric"]) / ev))
    if rows(openl):
        print("-- open loop (xflow-load -f: fixed rate, latency from when"
              " each request was due)")
        print("%-16s %6s %8s %6s %6s %7s %7s %8s"
              % ("target", "rate", "achieved", "non2xx", "none", "p50 ms",
                 "p99 ms", "us/req"))
        for r in rows(openl):
            print("%-16s %6s %8s %6s %6s %7s %7s %8s"
                  % (r["target"], r["rate"], r["achieved"], r["other"],
                     r["none"], r["p50_ms"], r["p99_ms"], r["cpu_us_req"]))

if rows(soak):
    print()
    print("== soak: %s on %s, RSS every 10 s"
          % (rows(soak)[0].get("case", "batch50gz"),
             rows(soak)[0].get("target", "xflow-local")))
    for r in rows(soak):
        print("%5ss  RSS %6.1f MB  peak %6.1f MB  %7s req/s"
              % (r["second"], int(r["rss_kb"]) / 1024,
                 int(r["hwm_kb"]) / 1024, r["rps"]))
EOF
if [ -s "$OUT/floor.txt" ]; then
    { echo; echo "== librdkafka alone (tests/bench/producer-floor.c)"
      cat "$OUT/floor.txt"; } | tee -a "$OUT/summary.txt"
fi
echo "bench: raw runs in $RUNS"
