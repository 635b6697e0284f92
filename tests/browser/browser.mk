# SPDX-License-Identifier: BSD-2-Clause
# make test-browser: the real browser SDKs of seven families (npm: Sensors
# Data, PostHog, Mixpanel, Amplitude, Segment, RudderStack, Snowplow) in
# Debian's Chromium, sending to xflow across origins; every event read
# back from Kafka (tests/browser/run.js).  Included from the Makefile.
#
#   XF_BROWSER_MODES=sensors:image,mixpanel:batch make test-browser
#   runs only those modes; XF_TEST_KEEP=1 keeps the temporary directory.
#
# make record-captures: the same SDKs and modes sending to a recording
# server instead (tests/browser/record.js), which writes
# tests/fixtures/sdk-captures/<sdk>__<mode>.json; XF_RECORD_MODES=
# segment,snowplow:get records only those (default: Segment,
# RudderStack, Snowplow, Mixpanel, Amplitude), XF_RECORD_DIR elsewhere.

BROWSER_DIR  := tests/browser
# chromium: the browser (playwright-core drives /usr/bin/chromium: no
# browser download); kcat: reads Kafka.  Node 20 or later.
BROWSER_PKGS := chromium kcat

.PHONY: test-browser record-captures browser-pkgs record-posthog-node

$(BROWSER_DIR)/node_modules/.package-lock.json: $(BROWSER_DIR)/package.json \
                                                $(BROWSER_DIR)/package-lock.json
	@command -v npm > /dev/null || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends nodejs npm > /dev/null; }
	cd $(BROWSER_DIR) && npm ci --ignore-scripts --no-audit --no-fund

browser-pkgs:
	@missing=; for p in $(BROWSER_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "browser: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing \
	        > /dev/null; \
	fi
	@v=$$(node -p 'process.versions.node.split(".")[0]'); [ "$$v" -ge 20 ] \
	    || { echo "browser: node $$v: playwright-core needs 20+" >&2; exit 1; }

test-browser: $(MODULE) $(B)/xflow-devbroker \
              $(BROWSER_DIR)/node_modules/.package-lock.json browser-pkgs
	cd $(BROWSER_DIR) && node run.js

record-captures: $(BROWSER_DIR)/node_modules/.package-lock.json browser-pkgs
	cd $(BROWSER_DIR) && node record.js

# make record-posthog-node: posthog-node's upload to PostHog's v1 capture
# (POSTHOG_CAPTURE_MODE=v1) as a recording server on loopback receives
# it, into tests/fixtures/posthog-v1/ (the receipts e2e suite replays it).
# Its own install, so that the browser SDKs' dependencies stay as they are.
record-posthog-node:
	cd $(BROWSER_DIR)/posthog-node && npm ci --ignore-scripts --no-audit \
	    --no-fund && node record.js
