#!/usr/bin/env bash
# make run: a dev Kafka broker and nginx with the xflow module, in the
# foreground.  Ctrl-C stops both.
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

stop() {
    trap - INT TERM EXIT
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts the dev broker with the given options; succeeds once it wrote
# its bootstrap list, fails if it exited first.
start_broker() {
    rm -f "$run/bootstrap"
    "$devbroker" --topics events --bootstrap-file "$run/bootstrap" "$@" \
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

    server {
        listen 127.0.0.1:$port;

        location /collect {
            xflow_collect;
        }
    }
}
CONF

"$nginx" -t -q -p "$run/" -c "$run/nginx.conf" -e "$run/error.log"

bootstrap=${brokers%%,*}
cat <<HELP
xflow: nginx on http://127.0.0.1:$port/collect, Kafka at $brokers
  config: $run/nginx.conf

Send an event:
  curl -sS -H 'Content-Type: application/json' \\
       --data '{"event":"page_view","distinct_id":"u1"}' \\
       http://127.0.0.1:$port/collect

See it in Kafka:
  kcat -b $bootstrap -C -t events -o beginning -e

Ctrl-C stops nginx and the broker.
HELP

"$nginx" -p "$run/" -c "$run/nginx.conf" -e "$run/error.log" &
nginx_pid=$!
wait "$nginx_pid"
