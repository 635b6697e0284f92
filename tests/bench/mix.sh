# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# mix.sh - sourced by tests/bench/run.sh and tests/bench/profile.sh: the
# request headers of a browser, and the nginx server of the real mix
# (tests/bench/realmix.py writes its requests).

# what a browser sends along with an SDK upload: a ~2 KB Cookie (analytics
# and session cookies, the SDKs' own among them), a User-Agent, and the
# client address as a proxy in front would pass it (the GeoIP test
# database knows 81.2.69.160)
write_headers() {  # file
    python3 - "$1" << 'EOF'
import hashlib, sys
h = lambda s, n: (hashlib.sha256(s.encode()).hexdigest() * 8)[:n]
cookies = [
    ("_ga", "GA1.2.%s.1732492800" % h("ga", 10)),
    ("_gid", "GA1.2.%s.1732492800" % h("gid", 10)),
    ("sensorsdata2015jssdkcross",
     "%7B%22distinct_id%22%3A%22" + h("sd", 40) + "%22%2C%22first_id%22"
     "%3A%22%22%2C%22props%22%3A%7B%22%24latest_traffic_source_type%22%3A"
     "%22%E7%9B%B4%E6%8E%A5%E6%B5%81%E9%87%8F%22%7D%2C%22identities%22%3A%22"
     + h("id", 180) + "%22%7D"),
    ("ph_phc_" + h("tok", 20) + "_posthog",
     "%7B%22distinct_id%22%3A%22" + h("ph", 36) + "%22%2C%22%24sesid%22%3A"
     "%5B1732492800123%2C%22" + h("ses", 36) + "%22%5D%7D"),
    ("session", h("session", 64)),
    ("csrftoken", h("csrf", 32)),
    ("cart", h("cart", 300)),
    ("prefs", h("prefs", 400)),
    ("_fbp", "fb.1.1732492800123." + h("fb", 10)),
    ("consent", h("consent", 380)),
]
with open(sys.argv[1], "w") as f:
    f.write("Cookie: " + "; ".join("%s=%s" % c for c in cookies) + "\n")
    f.write("User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36 Edg/131.0.0.0\n")
    f.write("X-Forwarded-For: 81.2.69.160\n")
    f.write("Accept-Language: en-GB,en;q=0.9,zh-CN;q=0.8\n")
    f.write("Origin: https://shop.example.com\n")
    f.write("Referer: https://shop.example.com/p/32c3bb81?ref=home\n")
EOF
}

# The real mix's server: the locations of docs/deploy/nginx.conf (a format
# per path; /sa and /batch added for the app SDKs' paths, /beacon/v1/ for
# RudderStack's beacon mode, which posts there), ack=local.
# With PRIVACY 1, the privacy directives docs/privacy.md documents: cookie
# references and the four strip rules here, and at http level (from
# write_mix_http) the key, the User-Agent dictionary and GeoIP.
write_mix_server() {   # port topic privacy
    local loc fmt
    echo "    server {"
    echo "        listen 127.0.0.1:$1;"
    echo "        xflow_topic $2;"
    echo "        xflow_ack local;"
    if [ "$3" = 1 ]; then
        echo "        xflow_cookie_ref sensorsdata2015jssdkcross ph_*;"
        echo "        xflow_strip_field properties.\$user_agent hash;"
        echo "        xflow_strip_field context.userAgent hash;"
        echo "        xflow_strip_field lib.\$ua hash;"
        echo "        xflow_strip_field properties.\$ip drop;"
    fi
    echo "        location = /metrics { xflow_metrics; }"
    for loc in "= /sa.gif sensors" "= /sa sensors" "/e/ posthog" \
               "/i/v0/e/ posthog" "/batch posthog" "/array/ posthog" \
               "/flags/ posthog" "/decide/ posthog" "/v1/ segment" \
               "/beacon/v1/ segment" \
               "/com.snowplowanalytics.snowplow/ snowplow" \
               "= /i snowplow" "/track mixpanel" "/engage mixpanel" \
               "/groups mixpanel" "= /2/httpapi amplitude" \
               "= /amplitude/batch amplitude" "/collect json"
    do
        fmt=${loc##* }
        echo "        location ${loc% *} { xflow_collect $fmt; }"
    done
    echo "        location / { return 404; }"
    echo "    }"
}

# The http-level privacy directives of the shipped setup.
write_mix_http() {     # key_file geoip_city_db
    echo "    xflow_hash_key $1 id=bench;"
    echo "    xflow_ua_dictionary bench_ua ttl=1d;"
    echo "    xflow_geoip city=$2;"
}
