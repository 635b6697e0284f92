#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Check docs/monitoring: the alert rules load (promtool check rules) and
# behave (promtool test rules on synthetic series), the Grafana dashboard
# is valid JSON whose queries parse as PromQL, and every xflow_* metric the
# rules and the dashboard use is one the module exports.
set -euo pipefail

cd "$(dirname "$0")/../.."

dir=docs/monitoring
promtool=${PROMTOOL:-promtool}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v "$promtool" > /dev/null || {
    echo "check-monitoring: promtool not found (Debian: apt-get install prometheus)" >&2
    exit 1
}

"$promtool" check rules "$dir/xflow-alerts.yml"
"$promtool" test rules "$dir/xflow-alerts.test.yml"

# The five scenarios the rules are judged by, each with every alert's
# verdict (a scenario dropped or an alert left out fails here).
python3 - "$dir/xflow-alerts.yml" "$dir/xflow-alerts.test.yml" << 'EOF'
import sys, yaml

alerts = {r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"]
          for r in g["rules"]}
tests = yaml.safe_load(open(sys.argv[2]))["tests"]
bad = []
for want in ("normal", "throttling only", "broker outage", "spool full",
             "scrape gone"):
    found = [t for t in tests if t["name"].startswith("scenario: " + want)]
    if not found:
        bad.append("no scenario '%s'" % want)
    for t in found:
        times = {}
        for a in t["alert_rule_test"]:
            times.setdefault(a["eval_time"], set()).add(a["alertname"])
        for at, names in times.items():
            if names != alerts:
                bad.append("%s at %s: no verdict for %s"
                           % (t["name"], at, ", ".join(sorted(alerts - names))))
if bad:
    sys.exit("check-monitoring: " + "\n  ".join(bad))
print("alert scenarios: 5, every alert judged in each")
EOF

python3 -m json.tool "$dir/grafana-xflow.json" > /dev/null
echo "grafana-xflow.json: valid JSON"

# The dashboard's queries as recording rules, with Grafana's variables
# given values, so that promtool parses each of them.
python3 - "$dir/grafana-xflow.json" "$tmp/dashboard-rules.yml" << 'EOF'
import json, sys

dash = json.load(open(sys.argv[1]))
exprs = []
for p in dash["panels"]:
    if p.get("type") == "row":
        continue
    assert p.get("title") and p.get("description"), p
    for t in p.get("targets", []):
        e = t["expr"].replace("$__rate_interval", "5m")
        exprs.append(e.replace("$instance", ".*"))

with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write("      - record: dashboard:query_%d\n" % i)
        f.write("        expr: %s\n" % json.dumps(e))
print("grafana-xflow.json: %d queries" % len(exprs))
EOF
"$promtool" check rules "$tmp/dashboard-rules.yml"

# Metric names the rules and the dashboard's queries use vs. the families
# defined in core/xf_metrics.c and core/xf_ledger.c.
python3 - ngx_xflow_module/core/xf_metrics.c "$dir/xflow-alerts.yml" \
          "$dir/grafana-xflow.json" ngx_xflow_module/core/xf_ledger.c << 'EOF'
import json, re, sys

# the registry's families, and the ledger's (rendered on the same page)
src = open(sys.argv[1]).read() + open(sys.argv[4]).read()
families = set(re.findall(r'"(xflow_[a-z0-9_]+)"', src))
if not families:
    sys.exit("check-monitoring: no families found in %s" % sys.argv[1])

texts = {sys.argv[2]: open(sys.argv[2]).read()}
dash = json.load(open(sys.argv[3]))
texts[sys.argv[3]] = "\n".join(t["expr"] for p in dash["panels"]
                               for t in p.get("targets", []))

bad = []
for path, text in texts.items():
    for name in set(re.findall(r'\b(xflow_[a-z0-9_]+)', text)):
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        if name not in families and base not in families:
            bad.append("%s: %s" % (path, name))

if bad:
    sys.exit("check-monitoring: unknown metrics:\n  " + "\n  ".join(bad))
print("metric names: all known (%d families)" % len(families))
EOF
