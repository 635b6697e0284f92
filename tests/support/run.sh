#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make run: a dev Kafka broker and nginx with the xflow module, in the
# foreground, configured as a small production gateway: acknowledgement
# after Kafka, a disk spool, a per-address rate limit in dry run, dead
# letters, health, metrics and the limit report.  Ctrl-C (SIGINT to
# make's process group) or SIGTERM to this script or to make stops nginx
# and the broker and leaves no process behind.
#
#   XFLOW_PORT=8080        nginx listens on 127.0.0.1:$XFLOW_PORT
#   KAFKA_BROKERS=h:p,...  use these brokers instead of starting the dev one
#   XFLOW_KAFKA_PORT=9092  fixed bootstrap port of the dev broker (falls
#                          back to ephemeral ports if it is taken)
#   NGINX_BIN=/usr/sbin/nginx
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
run=$root/build/run
module=$root/build/ngx_xflow_module.so
devbroker=$root/build/xflow-devbroker
nginx=${NGINX_BIN:-/usr/sbin/nginx}
port=${XFLOW_PORT:-8080}
kafka_port=${XFLOW_KAFKA_PORT:-9092}

for f in "$module" "$devbroker"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "run.sh: $f missing: use make run" >&2; exit 1; }
done

rm -rf "$run"
mkdir -p "$run"
# Workers run as nobody when nginx starts as root: the prefix must be
# traversable (nginx creates and chowns the body temp directory itself).
chmod 0755 "$run"

broker_pid=
nginx_pid=

# stop_pid PID SIGNAL TENTHS: SIGNAL, then SIGKILL of the process and its
# children (nginx workers) if it is still there after TENTHS/10 seconds.
stop_pid() {
    kill -"$2" "$1" 2>/dev/null || true
    for _ in $(seq "$3"); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        pkill -KILL -P "$1" 2>/dev/null || true
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}

# Stops nginx (graceful: in-flight events are flushed or spooled) and then
# the broker, and waits for both.  A second signal while stopping does
# not interrupt it: the waits below are bounded.
stop() {
    trap '' INT TERM
    trap - EXIT
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        stop_pid "$nginx_pid" QUIT 150
    fi
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        stop_pid "$broker_pid" TERM 50
    fi
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
# make passes SIGTERM to this script only when it is sent to the process
# group; a SIGTERM to make alone makes make exit and the script sees its
# parent go: watch for that too.
parent=$PPID

# The topics of the configuration below: the dev broker creates these
# and refuses any other, like a cluster with auto-create off.
topics=events,xflow_dead_letter

# Starts the dev broker with the given options; succeeds once it wrote
# its bootstrap list, fails if it exited first.
start_broker() {
    rm -f "$run/bootstrap"
    "$devbroker" --topics "$topics" --bootstrap-file "$run/bootstrap" "$@" \
        > "$run/devbroker.out" 2>&1 &
    broker_pid=$!
    for _ in $(seq 100); do
        [ -s "$run/bootstrap" ] && return 0
        kill -0 "$broker_pid" 2>/dev/null || { broker_pid=; return 1; }
        sleep 0.05
    done
    echo "run.sh: the dev broker did not start:" >&2
    cat "$run/devbroker.out" >&2
    exit 1
}

if [ -n "${KAFKA_BROKERS:-}" ]; then
    brokers=$KAFKA_BROKERS
else
    if ! start_broker --port "$kafka_port"; then
        echo "run.sh: 127.0.0.1:$kafka_port is taken, dev broker on" \
             "ephemeral ports" >&2
        start_broker || { cat "$run/devbroker.out" >&2; exit 1; }
    fi
    brokers=$(cat "$run/bootstrap")
fi

cat > "$run/nginx.conf" <<CONF
load_module $module;

worker_processes 2;
daemon off;
master_process on;
error_log stderr info;
pid $run/nginx.pid;

events {
    worker_connections 1024;
}

http {
    client_body_temp_path $run/body;
    access_log $run/access.log;

    # SDKs send kilobytes of first-party cookies.
    large_client_header_buffers 8 16k;
    client_max_body_size 10m;

    xflow_kafka_brokers $brokers;
    xflow_topic events;
    xflow_dead_letter_topic xflow_dead_letter;
    xflow_ack kafka;
    xflow_spool $run/spool max_size=256m;

    # requests per client address, in dry run: /limits shows who would
    # have been refused before anything is enforced
    xflow_limit_zone per_ip:1m key=\$binary_remote_addr rate=50r/s burst=100;
    xflow_limit per_ip dry_run;

    server {
        listen 127.0.0.1:$port;

        location /collect {
            xflow_collect;
        }

        location = /health  { xflow_health; access_log off; }
        location = /metrics { xflow_metrics; access_log off; }
        location = /limits  { xflow_limit_report; allow 127.0.0.1; deny all; }
    }
}
CONF

"$nginx" -t -q -p "$run/" -c "$run/nginx.conf" -e "$run/error.log"

bootstrap=${brokers%%,*}
cat <<HELP
xflow: nginx on 127.0.0.1:$port, Kafka at $brokers
  collect:  http://127.0.0.1:$port/collect   (ack after Kafka)
  health:   http://127.0.0.1:$port/health
  metrics:  http://127.0.0.1:$port/metrics   (Prometheus)
  limits:   http://127.0.0.1:$port/limits    (rate-limit report, dry run)
  spool:    $run/spool   (what Kafka cannot take yet)
  config:   $run/nginx.conf
  logs:     $run/error.log, $run/access.log
  broker:   topics $topics only; $run/devbroker.out names any other
            topic the gateway tried (refused, like auto-create off)

Send an event:
  curl -sS -H 'Content-Type: application/json' \\
       --data '{"event":"page_view","distinct_id":"u1"}' \\
       http://127.0.0.1:$port/collect

See it in Kafka (invalid events go to xflow_dead_letter):
  kcat -b $bootstrap -C -t events -o beginning -e

Ctrl-C stops nginx and the broker.
HELP

"$nginx" -p "$run/" -c "$run/nginx.conf" -e "$run/error.log" &
nginx_pid=$!
# wait returns early on a trapped signal; poll so that a vanished parent
# (make killed on its own) stops us too
while kill -0 "$nginx_pid" 2>/dev/null; do
    if [ "$(ps -o ppid= -p $$ | tr -d ' ')" != "$parent" ]; then
        exit 143
    fi
    sleep 0.5
done
wait "$nginx_pid"
