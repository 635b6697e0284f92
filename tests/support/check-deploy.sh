#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make check-deploy: what of docs/deploy/ can be checked without a Docker
# engine.
#
#   - every YAML file parses; compose.yaml passes docker-compose's schema
#     (`docker-compose config`), its bind mounts and build context exist,
#     its images are pinned
#   - the pieces agree: Traefik's health check path is the nginx.conf
#     location with xflow_health, Traefik trusts forwarded headers from
#     the ranges nginx.conf trusts, Prometheus scrapes the port and path of
#     xflow_metrics, Grafana's dashboard file is the one mounted
#   - the Grafana dashboard and every JSON file are valid JSON
#   - promtool check config on prometheus.yml, laid out as in the
#     container (rules/xflow-alerts.yml beside it)
#   - nginx -t of docs/deploy/nginx.conf with build/ngx_xflow_module.so and
#     a broker address; directives the module does not have yet
#     (strings of the .so) are reported and left out of that run
#   - the licence: every source file opens with its SPDX line
#     (check-license.py), debian/copyright is DEP-5 and says BSD-2-Clause
#   - nginx -t of the image's docs/examples/nginx.conf too, and of the
#     Debian host configuration: Debian's /etc/nginx/nginx.conf with
#     docs/deploy/debian/conf.d/xflow.conf; that snippet is a conf.d file
#     (no main-context directive, no error log or http-wide access log of
#     its own); the systemd drop-in and compose's grace period cover
#     worker_shutdown_timeout + xflow_shutdown_timeout
#   - the image: the runtime stage installs the Debian package, and every
#     library the module links (NEEDED) comes with what that stage
#     installs (check-image-deps.py), which fails on a stage that lacks one
#   - version.sh's versions sort upward from commit to commit
#     (test-version.sh)
#
# Installs python3-yaml, docker-compose and dpkg-dev with apt-get when
# missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deploy=docs/deploy
module=${XFLOW_MODULE:-$root/build/ngx_xflow_module.so}
nginx=${NGINX_BIN:-/usr/sbin/nginx}
# Debian's python3, where python3-yaml installs
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/xflow-check-deploy.XXXXXX)
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
notes=0

need_pkg() {
    # $1 command to test, $2 Debian package
    if ! eval "$1" > /dev/null 2>&1; then
        echo "check-deploy: installing $2"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends "$2" > /dev/null \
            || { apt-get update -qq && apt-get install -y -qq \
                     --no-install-recommends "$2" > /dev/null; }
    fi
}

need_pkg "$py -c 'import yaml'" python3-yaml
need_pkg "command -v docker-compose" docker-compose
need_pkg "command -v promtool" prometheus
need_pkg "command -v dpkg-shlibdeps" dpkg-dev
need_pkg "command -v git" git

# -------------------------------------------------------------- licence

tests/support/check-license.py
dep5=https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
grep -qx "Format: $dep5" debian/copyright \
    && grep -q '^License: BSD-2-Clause$' debian/copyright \
    && grep -q 'BSD 2-Clause' LICENSE \
    || { echo "FAIL debian/copyright is not DEP-5 with BSD-2-Clause"; exit 1; }
echo "ok   LICENSE and debian/copyright: BSD-2-Clause, DEP-5"

# ----------------------------------------------------------- YAML, JSON

"$py" - "$deploy" docs/monitoring << 'EOF'
import json, os, re, sys, yaml

deploy, monitoring = sys.argv[1], sys.argv[2]
fail = []

def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)

n = 0
for top in (deploy, monitoring):
    for d, _, files in os.walk(top):
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith((".yml", ".yaml")):
                load(p); n += 1
            elif f.endswith(".json"):
                json.load(open(p, encoding="utf-8")); n += 1
print(f"ok   {n} YAML and JSON files parse")

compose = load(os.path.join(deploy, "compose.yaml"))
services = compose["services"]
for name in ("kafka", "traefik", "xflow", "prometheus", "grafana"):
    if name not in services:
        fail.append(f"compose.yaml: no service {name}")

# images pinned to a version
for name, s in services.items():
    img = s.get("image")
    if img and "build" not in s:
        tag = img.rsplit(":", 1)[1] if ":" in img.split("/")[-1] else ""
        if tag in ("", "latest"):
            fail.append(f"compose.yaml: {name}: image {img} is not pinned")
if not services["kafka"]["image"].startswith("apache/kafka:"):
    fail.append("compose.yaml: kafka is not the apache/kafka image")
if "broker,controller" not in str(services["kafka"]["environment"]
                                  .get("KAFKA_PROCESS_ROLES", "")):
    fail.append("compose.yaml: kafka is not a KRaft broker+controller")

# bind mounts and the build context exist
for name, s in services.items():
    for v in s.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith((".", "/")):
            if not os.path.exists(os.path.join(deploy, src)):
                fail.append(f"compose.yaml: {name}: {src} does not exist")
    b = s.get("build")
    if b:
        ctx = os.path.join(deploy, b["context"])
        if not os.path.isfile(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
            fail.append(f"compose.yaml: {name}: no Dockerfile in {ctx}")

x = services["xflow"]
if x.get("stop_signal") != "SIGQUIT":
    fail.append("compose.yaml: xflow must stop with SIGQUIT (graceful)")
if "/health" not in json.dumps(x.get("healthcheck", {})):
    fail.append("compose.yaml: xflow's healthcheck does not ask /health")
if not any(":/var/spool/xflow" in v for v in x.get("volumes", [])):
    fail.append("compose.yaml: xflow's spool is not on a volume")

# nginx.conf: which location has xflow_health, which port xflow_metrics
conf = open(os.path.join(deploy, "nginx.conf"), encoding="utf-8").read()
health = re.search(r"location\s+=?\s*(\S+)\s*\{[^}]*xflow_health;", conf)
metrics = re.search(r"listen\s+(\d+);\s*location\s+=?\s*(\S+)\s*\{[^}]*xflow_metrics;",
                    conf)
if not health:
    fail.append("nginx.conf: no location with xflow_health")
if not metrics:
    fail.append("nginx.conf: no server with a location with xflow_metrics")

dyn = load(os.path.join(deploy, "traefik", "dynamic.yml"))
static = load(os.path.join(deploy, "traefik", "traefik.yml"))
lb = dyn["http"]["services"]["xflow"]["loadBalancer"]
if health and lb.get("healthCheck", {}).get("path") != health.group(1):
    fail.append(f"traefik: healthCheck path {lb.get('healthCheck')} is not "
                f"nginx.conf's xflow_health location {health.group(1)}")
trusted = static["entryPoints"]["web"].get("forwardedHeaders", {}).get("trustedIPs", [])
if not trusted:
    fail.append("traefik: entryPoints.web.forwardedHeaders.trustedIPs is empty")
for r in trusted:
    if f"set_real_ip_from {r};" not in conf:
        fail.append(f"traefik trusts {r} but nginx.conf has no set_real_ip_from {r}")
if "real_ip_header X-Forwarded-For;" not in conf:
    fail.append("nginx.conf: real_ip_header is not X-Forwarded-For")

prom = load(os.path.join(deploy, "prometheus.yml"))
jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
if "xflow" not in jobs:
    fail.append("prometheus.yml: no xflow job")
elif metrics:
    j = jobs["xflow"]
    targets = [t for sc in j["static_configs"] for t in sc["targets"]]
    if j.get("metrics_path", "/metrics") != metrics.group(2) or \
       not any(t.endswith(":" + metrics.group(1)) for t in targets):
        fail.append(f"prometheus.yml: xflow job {targets} "
                    f"{j.get('metrics_path')} is not nginx.conf's "
                    f":{metrics.group(1)}{metrics.group(2)}")

prov = load(os.path.join(deploy, "grafana/provisioning/dashboards/xflow.yml"))
dpath = prov["providers"][0]["options"]["path"]
if not any(v.endswith(":" + dpath + "/grafana-xflow.json:ro")
           for v in services["grafana"]["volumes"]):
    fail.append(f"compose.yaml: grafana-xflow.json is not mounted in {dpath}")

for f in fail:
    print("FAIL " + f)
if fail:
    sys.exit(1)
print("ok   compose.yaml, traefik, prometheus.yml, grafana and nginx.conf agree")
EOF

(cd "$deploy" && docker-compose -p xflow -f compose.yaml config -q)
echo "ok   docker-compose config: compose.yaml is a valid Compose file"

# ------------------------------------------------------------- promtool

mkdir -p "$tmp/prometheus/rules"
cp "$deploy/prometheus.yml" "$tmp/prometheus/prometheus.yml"
cp docs/monitoring/xflow-alerts.yml "$tmp/prometheus/rules/xflow-alerts.yml"
promtool check config "$tmp/prometheus/prometheus.yml" > "$tmp/promtool.out" 2>&1 \
    || { cat "$tmp/promtool.out"; echo "FAIL promtool check config"; exit 1; }
grep -q 'SUCCESS: 1 rule files found' "$tmp/promtool.out" \
    || { cat "$tmp/promtool.out"; echo "FAIL prometheus.yml found no rule file"; exit 1; }
echo "ok   promtool check config: prometheus.yml with rules/xflow-alerts.yml" \
     "($(grep -o 'SUCCESS: [0-9]* rules found' "$tmp/promtool.out"))"

# ------------------------------------------------------------- nginx -t

[ -f "$module" ] || { echo "FAIL $module missing: make module" >&2; exit 1; }
if nm -u "$module" | grep -q ' xf_'; then
    echo "FAIL $module has undefined xf_ symbols:" \
         "$(nm -u "$module" | grep ' xf_' | awk '{print $2}' | tr '\n' ' ')"
    exit 1
fi

strings "$module" | grep -E '^xflow_[a-z_]+$' | sort -u > "$tmp/have"

# leave_out FILE: comment out the xflow directives the built module does
# not have yet (another branch adds them), saying so
leave_out() {
    local d
    for d in $(grep -oE '^\s*xflow_[a-z_]+' "$1" | tr -d ' ' | sort -u); do
        grep -qx "$d" "$tmp/have" && continue
        echo "note $d: not in $(basename "$module") yet: left out of nginx -t"
        notes=$((notes + 1))
        if [ "$d" = xflow_health ]; then
            sed -i -E "s/^(\s*)xflow_health;/\1return 200;/" "$1"
        else
            sed -i -E "s/^(\s*)($d[ ;])/\1# \2/" "$1"
        fi
    done
}

# nginx_t NAME CONF: nginx -t of CONF, errors to $tmp
nginx_t() {
    if "$nginx" -t -q -p "$tmp/" -c "$2" -e "$tmp/error.log" \
           > "$tmp/nginx-t.out" 2>&1; then
        echo "ok   nginx -t $1"
    else
        cat "$tmp/nginx-t.out"
        echo "FAIL nginx -t $1"
        exit 1
    fi
}

# The container configurations: the compose stack's and the image's own,
# as the image's start command makes them (a broker for @KAFKA_BROKERS@,
# the hash key it writes at first start).
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/hash.key"
chmod 0400 "$tmp/hash.key"
for f in "$deploy/nginx.conf" docs/examples/nginx.conf; do
    c=$tmp/$(echo "$f" | tr / _)
    cp "$f" "$c"
    leave_out "$c"
    sed -i -e "s|^load_module .*|load_module $module;|" \
           -e "s|@KAFKA_BROKERS@|127.0.0.1:9092|" \
           -e "s|/etc/xflow/hash.key;|$tmp/hash.key;|" \
           -e "s|^pid .*|pid $tmp/nginx.pid;|" "$c"
    nginx_t "$f (container)" "$c"
done

# The Debian host: Debian's own /etc/nginx (nginx-common's nginx.conf,
# which includes modules-enabled/ at the top and conf.d/ inside http),
# the module enabled as the package enables it, conf.d/xflow.conf, and
# the worker_shutdown_timeout line the snippet asks for in nginx.conf.
# Paths under /etc/nginx, /var/log/nginx and the spool move to $tmp.
hostconf=$deploy/debian/conf.d/xflow.conf
dropin=$deploy/debian/nginx.service.d/xflow.conf
[ -f /etc/nginx/nginx.conf ] \
    || { echo "FAIL no /etc/nginx/nginx.conf: apt-get install nginx"; exit 1; }
etc=$tmp/host/etc/nginx
mkdir -p "$tmp/host/log" "$tmp/host/spool" "$(dirname "$etc")"
cp -a /etc/nginx "$etc"
rm -f "$etc"/modules-enabled/*xflow*
echo "load_module $module;" > "$etc/modules-enabled/50-mod-http-xflow.conf"
cp "$hostconf" "$etc/conf.d/xflow.conf"
leave_out "$etc/conf.d/xflow.conf"
wst=$(sed -nE 's/^#\s+worker_shutdown_timeout\s+([0-9]+)s;.*/\1/p' \
          "$hostconf")
[ -n "$wst" ] \
    || { echo "FAIL $hostconf: no worker_shutdown_timeout line"; exit 1; }
for c in "$etc/nginx.conf" "$etc/conf.d/xflow.conf"; do
    sed -i -e "s|/etc/nginx/|$etc/|g" \
           -e "s|/var/log/nginx/|$tmp/host/log/|g" \
           -e "s|/etc/xflow/hash.key;|$tmp/hash.key;|" \
           -e "s|/var/spool/xflow|$tmp/host/spool|g" "$c"
done
sed -i -e "s|^pid .*|pid $tmp/host/nginx.pid;|" \
       -e "/^pid /a worker_shutdown_timeout ${wst}s;" "$etc/nginx.conf"
grep -q "^worker_shutdown_timeout ${wst}s;" "$etc/nginx.conf" \
    || { echo "FAIL Debian's nginx.conf has no pid line to add to"; exit 1; }
nginx_t "/etc/nginx/nginx.conf with $hostconf (Debian host)" \
    "$etc/nginx.conf"

# What makes the snippet a conf.d file: nothing of the main context, no
# second error log, no access log for all of http beside Debian's, no
# /dev/stderr (the journal is a socket nginx cannot open it on).
"$py" - "$hostconf" << 'EOF'
import re, sys

path = sys.argv[1]
fail = []
depth = 0
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    code = line.split("#", 1)[0]
    words = code.split()
    if words:
        if re.match(r"(load_module|error_log|pid|user|worker_\w+|events|http"
                    r"|daemon|master_process)$", words[0]):
            fail.append(f"{path}:{n}: {words[0]} does not belong in conf.d")
        if words[0] == "access_log" and depth == 0:
            fail.append(f"{path}:{n}: access_log for all of http: Debian's "
                        "nginx.conf has one; set it per server")
    if "/dev/std" in code:
        fail.append(f"{path}:{n}: /dev/stdout or /dev/stderr")
    depth += code.count("{") - code.count("}")
for f in fail:
    print("FAIL " + f)
sys.exit(1 if fail else 0)
EOF
echo "ok   $hostconf: http-level directives and servers, Debian's logs"

# Stopping: the systemd drop-in waits for worker_shutdown_timeout plus
# xflow_shutdown_timeout (SIGQUIT), and systemd waits longer than that;
# compose's grace period covers the same sum in the container.
xst=$(sed -nE 's/^xflow_shutdown_timeout\s+([0-9]+)s;.*/\1/p' "$hostconf")
quit=$(grep -v '^#' "$dropin" | grep -oE 'retry QUIT/[0-9]+' | sed 's|.*/||')
tss=$(sed -nE 's/^TimeoutStopSec=([0-9]+)$/\1/p' "$dropin")
if ! [[ "$xst $quit $tss" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] \
   || ! grep -qx 'ExecStop=' "$dropin" \
   || [ "$quit" -lt $((wst + xst)) ] || [ "$tss" -le "$quit" ]; then
    echo "FAIL $dropin: SIGQUIT waits ${quit:-?} s, TimeoutStopSec" \
         "${tss:-?} s: want QUIT/N with N >= worker_shutdown_timeout" \
         "${wst} s + xflow_shutdown_timeout ${xst:-?} s, TimeoutStopSec > N"
    exit 1
fi
if command -v systemd-analyze > /dev/null \
   && [ -f /lib/systemd/system/nginx.service ]; then
    mkdir -p "$tmp/systemd/nginx.service.d"
    cp /lib/systemd/system/nginx.service "$tmp/systemd/"
    cp "$dropin" "$tmp/systemd/nginx.service.d/xflow.conf"
    SYSTEMD_UNIT_PATH=$tmp/systemd: systemd-analyze verify \
        "$tmp/systemd/nginx.service" > "$tmp/verify.out" 2>&1 || true
    if grep -q 'xflow.conf' "$tmp/verify.out"; then
        cat "$tmp/verify.out"
        echo "FAIL systemd-analyze verify nginx.service with $dropin"
        exit 1
    fi
fi
echo "ok   $dropin: SIGQUIT waits $quit s >= $wst s + $xst s," \
     "TimeoutStopSec $tss s"
cwst=$(sed -nE 's/^worker_shutdown_timeout\s+([0-9]+)s;.*/\1/p' \
           "$deploy/nginx.conf")
cxst=$(sed -nE 's/^\s*xflow_shutdown_timeout\s+([0-9]+)s;.*/\1/p' \
           "$deploy/nginx.conf")
grace=$(awk '/^  xflow:/ { x = 1; next } /^  [a-z]/ { x = 0 }
             x && $1 == "stop_grace_period:" { sub(/s$/, "", $2); print $2 }' \
            "$deploy/compose.yaml")
if ! [[ "$grace $cwst $cxst" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] \
   || [ "$grace" -lt $((cwst + cxst)) ]; then
    echo "FAIL compose.yaml: xflow's stop_grace_period ${grace:-?} s <" \
         "worker_shutdown_timeout ${cwst:-?} s + xflow_shutdown_timeout" \
         "${cxst:-?} s"
    exit 1
fi
echo "ok   compose.yaml: stop_grace_period $grace s >= $cwst s + $cxst s"

# -------------------------------------------------------------- the image

# The image installs the Debian package make deb builds, so the module is
# where the package puts it, which is where nginx.conf loads it from.
so=$(grep -oE '^load_module \S+;' "$deploy/nginx.conf" \
         | sed 's/load_module //; s/;//')
# One installed name everywhere: the image, the Debian package, the
# examples and the README all load ngx_http_xflow_module.so.
[ "$so" = /usr/lib/nginx/modules/ngx_http_xflow_module.so ] \
    && grep -qE '^\s+nginx /tmp/libnginx-mod-http-xflow_\*\.deb' Dockerfile \
    || { echo "FAIL Dockerfile does not install the package, whose module" \
              "is $so"; exit 1; }
for f in README.md docs/examples/nginx.conf debian/mod-http-xflow.conf; do
    if grep -E '^\s*load_module' "$root/$f" \
           | grep -vq 'ngx_http_xflow_module\.so;'; then
        echo "FAIL $f loads the module under another name"; exit 1
    fi
done
grep -q '/etc/xflow/nginx.conf.in' Dockerfile \
    || { echo "FAIL Dockerfile does not read /etc/xflow/nginx.conf.in"; \
         exit 1; }
echo "ok   Dockerfile installs the package ($so) and reads" \
     "/etc/xflow/nginx.conf.in"

# Every library the module links is in the runtime stage: derived from
# the package's Depends (dpkg-shlibdeps), not listed by hand.  The check
# itself must catch a missing one: the runtime stage of issue 28, which
# listed the libraries by hand and forgot libdeflate0, fails it.
tests/support/check-image-deps.py Dockerfile "$module"
cat > "$tmp/Dockerfile.hand" << 'EOF'
FROM debian:bookworm AS build
FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        nginx librdkafka1 libzstd1 zlib1g libssl3 libmaxminddb0
COPY --from=build /src/build/ngx_xflow_module.so /usr/lib/nginx/modules/
EOF
if tests/support/check-image-deps.py "$tmp/Dockerfile.hand" "$module" \
       > "$tmp/hand.out" 2>&1 \
   || ! grep -q '^FAIL libdeflate.so.0 (libdeflate0)' "$tmp/hand.out" \
   || ! grep -q '^FAIL libbrotlidec.so.1 (libbrotli1)' "$tmp/hand.out"; then
    cat "$tmp/hand.out"
    echo "FAIL check-image-deps.py passes a runtime stage without" \
         "libdeflate0 or libbrotli1"
    exit 1
fi
echo "ok   check-image-deps.py fails a runtime stage that lacks libdeflate0" \
     "and libbrotli1"

# -------------------------------------------------------------- version

tests/support/test-version.sh

echo "check-deploy: passed ($notes note(s))"
