#!/usr/bin/env bash
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
#
# Installs python3-yaml and docker-compose with apt-get when missing.
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
cp "$deploy/nginx.conf" "$tmp/nginx.conf"
for d in $(grep -oE '^\s*xflow_[a-z_]+' "$deploy/nginx.conf" | tr -d ' ' | sort -u)
do
    grep -qx "$d" "$tmp/have" && continue
    echo "note $d: not in $(basename "$module") yet: left out of nginx -t"
    notes=$((notes + 1))
    if [ "$d" = xflow_health ]; then
        sed -i -E "s/^(\s*)xflow_health;/\1return 200;/" "$tmp/nginx.conf"
    else
        sed -i -E "s/^(\s*)($d[ ;])/\1# \2/" "$tmp/nginx.conf"
    fi
done
# the key the container makes at first start (Dockerfile), here a test one
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/hash.key"
chmod 0400 "$tmp/hash.key"
sed -i -e "s|^load_module .*|load_module $module;|" \
       -e "s|@KAFKA_BROKERS@|127.0.0.1:9092|" \
       -e "s|/etc/xflow/hash.key;|$tmp/hash.key;|" \
       -e "s|^pid .*|pid $tmp/nginx.pid;|" "$tmp/nginx.conf"
if "$nginx" -t -q -p "$tmp/" -c "$tmp/nginx.conf" -e "$tmp/error.log" \
       > "$tmp/nginx-t.out" 2>&1; then
    echo "ok   nginx -t docs/deploy/nginx.conf"
else
    cat "$tmp/nginx-t.out"
    echo "FAIL nginx -t docs/deploy/nginx.conf"
    exit 1
fi

# The image installs the module where nginx.conf loads it from, and
# reads the file compose.yaml mounts.
so=$(grep -oE '^load_module \S+;' "$deploy/nginx.conf" | sed 's/load_module //; s/;//')
# One installed name everywhere: the image, the Debian package, the
# examples and the README all load ngx_http_xflow_module.so.
grep -q "build/ngx_xflow_module.so $so\$" Dockerfile \
    && [ "$(basename "$so")" = ngx_http_xflow_module.so ] \
    || { echo "FAIL Dockerfile does not install the module as $so"; exit 1; }
for f in README.md docs/examples/nginx.conf debian/mod-http-xflow.conf; do
    if grep -E '^\s*load_module' "$root/$f" | grep -vq 'ngx_http_xflow_module\.so;'; then
        echo "FAIL $f loads the module under another name"; exit 1
    fi
done
grep -q '/etc/xflow/nginx.conf.in' Dockerfile \
    || { echo "FAIL Dockerfile does not read /etc/xflow/nginx.conf.in"; exit 1; }
echo "ok   Dockerfile installs $so and reads /etc/xflow/nginx.conf.in"

echo "check-deploy: passed ($notes note(s))"
