#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make test-deb: the Debian package, as an administrator would use it.
#
#   1. lintian on the .changes (the .deb, its -dbgsym, the .buildinfo):
#      any E: tag fails the test
#   2. apt-get install ./libnginx-mod-http-xflow_*.deb: dependencies come
#      from the archive, the module lands in /usr/lib/nginx/modules, the
#      snippet in /usr/share/nginx/modules-available, enabled in
#      /etc/nginx/modules-enabled; Debian's own nginx.conf still passes -t
#   3. Debian's nginx with a configuration that includes the packaged
#      snippet (no load_module of ours), the dev broker, one JSON event
#      and one Sensors upload through to Kafka, read back with kcat
#   4. apt-get purge: files and the modules-enabled link are gone
#
# and, installed: the version (version.sh's, in the package, the module
# and xflow_build_info), the licence in /usr/share/doc/<pkg>/copyright,
# xflow-spool-dump in /usr/bin with its manual page, the dashboard, alert
# rules and docs, and the Debian host configuration the package ships as
# an example (conf.d/xflow.conf in Debian's nginx.conf) passing nginx -t.
#
# Usage: tests/support/test-deb.sh [path/to/package.deb]
# XF_TEST_KEEP=1 keeps the temporary directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
pkg=libnginx-mod-http-xflow
deb=${1:-$(ls "$root"/build/deb/${pkg}_*.deb 2>/dev/null | head -1)}
devbroker=$root/build/xflow-devbroker
nginx=/usr/sbin/nginx
snippet=/usr/share/nginx/modules-available/mod-http-xflow.conf
enabled=/etc/nginx/modules-enabled/50-mod-http-xflow.conf
so=/usr/lib/nginx/modules/ngx_http_xflow_module.so

[ -f "$deb" ] || { echo "test-deb: no package: run make deb" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
changes=${deb%.deb}.changes
[ -x "$devbroker" ] || { echo "test-deb: $devbroker missing" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d /tmp/xflow-test-deb.XXXXXX)
chmod 0755 "$tmp"
broker_pid=
installed=0
failures=0

ok()   { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

cleanup() {
    set +e
    if [ -s "$tmp/nginx.pid" ]; then
        kill -QUIT "$(cat "$tmp/nginx.pid")" 2>/dev/null
        for _ in $(seq 50); do
            [ -e "$tmp/nginx.pid" ] || break
            sleep 0.1
        done
    fi
    if [ -n "$broker_pid" ]; then
        kill -TERM "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
    fi
    if [ "$installed" = 1 ]; then
        apt-get purge -y -qq "$pkg" > "$tmp/purge.log" 2>&1 \
            || cat "$tmp/purge.log"
    fi
    if [ "${XF_TEST_KEEP:-}" = 1 ] || [ "$failures" -gt 0 ]; then
        echo "test-deb: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

# ----------------------------------------------------------------- lint

command -v lintian > /dev/null \
    || apt-get install -y -qq --no-install-recommends lintian > /dev/null
target=$deb
[ -f "$changes" ] && target=$changes
# lintian warns when run as root; that line is not a tag.  A build with
# uncommitted changes has a version too long for CD media (.dirty): it
# is never shipped, so that tag is not shown for it.
suppress=
case $deb in
*.dirty_*) suppress=--suppress-tags=package-has-long-file-name ;;
esac
lintian --info --pedantic $suppress --fail-on error "$target" 2>&1 \
    | grep -v 'running with root privileges' > "$tmp/lintian.log" || true
if lintian --fail-on error "$target" > /dev/null 2>&1; then
    ok "lintian: no errors ($(grep -c '^E:' "$tmp/lintian.log") E," \
       "$(grep -c '^W:' "$tmp/lintian.log") W," \
       "$(grep -c '^I:' "$tmp/lintian.log") I," \
       "$(grep -c '^P:' "$tmp/lintian.log") P)"
else
    fail "lintian reports errors"
fi
cat "$tmp/lintian.log"

# -------------------------------------------------------------- install

dpkg-deb -f "$deb" Depends | grep -q 'nginx-abi-' \
    && ok "Depends carries the nginx ABI: $(dpkg-deb -f "$deb" Depends)" \
    || fail "Depends lacks nginx-abi-*: $(dpkg-deb -f "$deb" Depends)"

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'
then
    echo "test-deb: $pkg was installed: purging it first"
    apt-get purge -y -qq "$pkg" > /dev/null
fi

if apt-get install -y -q --no-install-recommends "$deb" \
       > "$tmp/install.log" 2>&1; then
    installed=1
    ok "apt-get install $(basename "$deb")"
else
    cat "$tmp/install.log"
    fail "apt-get install"
    exit 1
fi

[ -f "$so" ] && ok "module at $so" || fail "no $so"
key=/etc/xflow/hash.key
[ "$(stat -c '%a %U' "$key" 2>/dev/null)" = "400 root" ] \
    && grep -qxE '[0-9a-f]{64}' "$key" \
    && ok "the hash key made at install: $key, 0400 root, 32 bytes" \
    || fail "no hash key at $key (or not 0400 root, 64 hex digits)"
[ -f "$snippet" ] \
    && ok "snippet at $snippet: $(grep '^load_module' "$snippet")" \
    || fail "no $snippet"
[ -L "$enabled" ] && ok "enabled: $enabled -> $(readlink "$enabled")" \
    || fail "no $enabled link"
ldd "$so" | grep -q 'not found' && fail "ldd: $(ldd "$so" | grep 'not found')" \
    || ok "ldd: every library of the module resolves"

# one version: the package's is version.sh's, and the module says it
version=$(dpkg-query -W -f='${Version}' "$pkg")
[ "$version" = "$(dpkg-deb -f "$deb" Version)" ] \
    && dpkg --compare-versions "$version" ge \
           "$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)" \
    && strings "$so" | grep -qxF "$version" \
    && ok "version $version: the package's and the module's" \
    || fail "version: package $version, module" \
            "$(strings "$so" | grep -E '^[0-9]+\.[0-9]+.*\+' | head -1)"

doc=/usr/share/doc/$pkg
grep -qx 'License: BSD-2-Clause' "$doc/copyright" \
    && ok "licence: $doc/copyright says BSD-2-Clause" \
    || fail "licence: no BSD-2-Clause in $doc/copyright"
rc=0
/usr/bin/xflow-spool-dump > "$tmp/dump.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: xflow-spool-dump' "$tmp/dump.out" \
    && [ -f /usr/share/man/man1/xflow-spool-dump.1.gz ] \
    && ok "/usr/bin/xflow-spool-dump runs, with its manual page" \
    || fail "xflow-spool-dump: exit $rc: $(cat "$tmp/dump.out")"
missing=
for f in monitoring/grafana-xflow.json monitoring/xflow-alerts.yml \
         deploy.md.gz monitoring.md.gz spool.md.gz \
         examples/conf.d/xflow.conf examples/nginx.service.d/xflow.conf; do
    [ -f "$doc/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "dashboard, alerts, docs and examples in $doc" \
    || fail "missing in $doc:$missing"

# The Debian host configuration as the package ships it, in a copy of
# Debian's /etc/nginx with the module enabled by the package: conf.d/
# xflow.conf and the worker_shutdown_timeout it asks for in nginx.conf.
# Logs and the spool go to $tmp, so that -t creates nothing elsewhere.
etc=$tmp/host/etc/nginx
mkdir -p "$tmp/host/log" "$tmp/host/spool" "$(dirname "$etc")"
cp -a /etc/nginx "$etc"
cp "$doc/examples/conf.d/xflow.conf" "$etc/conf.d/xflow.conf"
wst=$(sed -nE 's/^#\s+worker_shutdown_timeout\s+([0-9]+)s;.*/\1/p' \
          "$etc/conf.d/xflow.conf")
for c in "$etc/nginx.conf" "$etc/conf.d/xflow.conf"; do
    sed -i -e "s|/etc/nginx/|$etc/|g" \
           -e "s|/var/log/nginx/|$tmp/host/log/|g" \
           -e "s|/var/spool/xflow|$tmp/host/spool|g" "$c"
done
sed -i -e "s|^pid .*|pid $tmp/host/nginx.pid;|" \
       -e "/^pid /a worker_shutdown_timeout ${wst:-15}s;" "$etc/nginx.conf"
if "$nginx" -t -q -c "$etc/nginx.conf" -e "$tmp/host/error.log" \
       > "$tmp/host-t.log" 2>&1; then
    ok "nginx -t of Debian's nginx.conf with examples/conf.d/xflow.conf"
else
    cat "$tmp/host-t.log"
    fail "nginx -t of Debian's nginx.conf with examples/conf.d/xflow.conf"
fi

# Debian's stock configuration loads every enabled module: it must still
# pass with ours loaded and no xflow directive in it.
if "$nginx" -t -q > "$tmp/stock-t.log" 2>&1; then
    ok "nginx -t of /etc/nginx/nginx.conf with the module enabled"
else
    cat "$tmp/stock-t.log"
    fail "nginx -t of /etc/nginx/nginx.conf"
fi

# ---------------------------------------------------------------- serve

rm -f "$tmp/bootstrap"
"$devbroker" --topics events --bootstrap-file "$tmp/bootstrap" \
    > "$tmp/devbroker.out" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do
    [ -s "$tmp/bootstrap" ] && break
    sleep 0.05
done
[ -s "$tmp/bootstrap" ] || { cat "$tmp/devbroker.out"; fail "dev broker"; exit 1; }
brokers=$(cat "$tmp/bootstrap")

# a free loopback port: bind 0, read it back
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# No -p: nginx keeps its compiled prefix, so the snippet's relative
# "modules/..." resolves exactly as it does for Debian's nginx.conf.
cat > "$tmp/nginx.conf" <<CONF
include $snippet;

worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/error.log info;

events {
    worker_connections 256;
}

http {
    client_body_temp_path $tmp/body;
    access_log $tmp/access.log;
    large_client_header_buffers 8 16k;

    xflow_kafka_brokers $brokers;
    xflow_topic events;

    server {
        listen 127.0.0.1:$port;

        location /collect {
            xflow_collect json;
        }

        location = /sa.gif {
            xflow_collect sensors;
        }

        location = /metrics {
            xflow_metrics;
        }
    }
}
CONF

if "$nginx" -t -q -c "$tmp/nginx.conf" -e "$tmp/error.log" > "$tmp/t.log" 2>&1
then
    ok "nginx -t with the packaged snippet"
else
    cat "$tmp/t.log"
    fail "nginx -t with the packaged snippet"
    exit 1
fi
"$nginx" -c "$tmp/nginx.conf" -e "$tmp/error.log"

# ready: both workers up (each creates its producer before accepting)
for _ in $(seq 100); do
    [ -s "$tmp/nginx.pid" ] \
        && [ "$(pgrep -c -P "$(cat "$tmp/nginx.pid")" 2>/dev/null)" -ge 2 ] \
        && break
    sleep 0.05
done

marker="deb-$(date +%s)-$$"
code=$(curl -sS -m 10 -o "$tmp/answer" -w '%{http_code}' \
            -H 'Content-Type: application/json' \
            --data "{\"event\":\"deb_check\",\"distinct_id\":\"$marker\",\"properties\":{\"city\":\"上海\",\"mood\":\"🙂\"}}" \
            "http://127.0.0.1:$port/collect" || true)
if [ "$code" = 200 ] && grep -q '"accepted":1' "$tmp/answer"; then
    ok "POST /collect: $code $(cat "$tmp/answer")"
else
    fail "POST /collect: $code $(cat "$tmp/answer")"
fi

# Sensors, as its JS SDK sends in ajax mode: a form with data = base64
# of the event, urlencoded
sa_event="{\"type\":\"track\",\"event\":\"deb_sa\",\"distinct_id\":\"$marker\",\"properties\":{\"\$lib\":\"js\"}}"
code=$(curl -sS -m 10 -o "$tmp/sa-answer" -w '%{http_code}' \
            --data-urlencode "data=$(printf '%s' "$sa_event" | base64 -w0)" \
            "http://127.0.0.1:$port/sa.gif?project=default" || true)
if [ "$code" = 200 ]; then
    ok "POST /sa.gif: $code $(cat "$tmp/sa-answer")"
else
    fail "POST /sa.gif: $code $(cat "$tmp/sa-answer" 2>/dev/null)"
fi

# both events in Kafka, each once, in envelope v1
kcat -C -b "${brokers%%,*}" -t events -o beginning -e -q -f '%s\n' \
    > "$tmp/events.ndjson" 2> "$tmp/kcat.err" || true
python3 - "$tmp/events.ndjson" "$marker" <<'PY' && ok "Kafka: both events, once each, envelope v1" || fail "Kafka: see above"
import json, sys
path, marker = sys.argv[1], sys.argv[2]
seen = {}
for line in open(path, encoding="utf-8"):
    if marker not in line:
        continue
    env = json.loads(line)
    ev = env["event"]
    assert env["v"] == 1, env
    seen.setdefault(ev["event"], []).append(env)
want = {"deb_check": "json", "deb_sa": "sensors"}
ok = True
for name, src in want.items():
    got = seen.get(name, [])
    if len(got) != 1 or got[0]["src"] != src:
        print(f"  {name}: {len(got)} messages, want 1 with src={src}: {got}")
        ok = False
if ok:
    p = seen["deb_check"][0]["event"]["properties"]
    if p != {"city": "上海", "mood": "🙂"}:
        print(f"  deb_check properties changed: {p}")
        ok = False
sys.exit(0 if ok else 1)
PY

# what runs says which build it is
curl -sS -m 10 "http://127.0.0.1:$port/metrics" > "$tmp/metrics" || true
info=$(grep '^xflow_build_info{' "$tmp/metrics" || true)
case $info in
"xflow_build_info{version=\"$version\",commit=\""*)
    ok "/metrics: $info" ;;
*)
    fail "/metrics: xflow_build_info is '$info', want version $version" ;;
esac

kill -QUIT "$(cat "$tmp/nginx.pid")"
for _ in $(seq 100); do
    [ -e "$tmp/nginx.pid" ] || break
    sleep 0.1
done
grep -E '\[(alert|emerg|crit)\]' "$tmp/error.log" \
    && fail "alerts in the error log" || ok "no alert in the error log"

# ---------------------------------------------------------------- purge

if apt-get purge -y -qq "$pkg" > "$tmp/purge.log" 2>&1; then
    installed=0
    [ ! -e "$so" ] && [ ! -e "$snippet" ] && [ ! -L "$enabled" ] \
        && [ ! -e /etc/xflow/hash.key ] \
        && ok "apt-get purge: module, snippet, link and hash key removed" \
        || fail "apt-get purge left files behind"
else
    cat "$tmp/purge.log"
    fail "apt-get purge"
fi

if [ "$failures" -gt 0 ]; then
    echo "test-deb: $failures failure(s)"
    exit 1
fi
echo "test-deb: all passed"
