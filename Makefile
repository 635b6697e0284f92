# SPDX-License-Identifier: BSD-2-Clause
# xflow: build the nginx module, run it with a dev broker, test, bench, fuzz.
#
#   make            build/ngx_xflow_module.so for the installed nginx
#   make run        dev Kafka broker + nginx on 127.0.0.1:8080 (foreground)
#   make test       lint, unit (plain, ASan/UBSan, clang), fuzz corpus
#                   replay, e2e against Debian's nginx and an ASan nginx
#   make bench      wrk against a body-reading baseline and xflow
#   make fuzz       every libFuzzer target for FUZZ_SECONDS each
#   make lint       the house rules, cppcheck and clang-tidy
#   make deps       install the Debian packages all of the above need

SHELL       := /bin/bash
NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
B           := build
MODULE      := $(B)/ngx_xflow_module.so
FUZZ_SECONDS ?= 60

CORE_DIR    := ngx_xflow_module/core
CORE_SRCS   := $(wildcard $(CORE_DIR)/*.c)
CORE_HDRS   := $(wildcard $(CORE_DIR)/*.h)
RL_SRCS     := $(wildcard rate_limit/*.c)
RL_HDRS     := $(wildcard rate_limit/*.h)
GLUE_FILES  := $(wildcard ngx_xflow_module/*.c ngx_xflow_module/*.h)
SUPPORT_SRCS := $(wildcard tests/support/xf_test_*.c)
UNIT_SRCS   := $(wildcard tests/unit/test-*.c)
E2E_SRCS    := $(wildcard tests/e2e/test-*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz-%.c,%,$(FUZZ_SRCS))

CC          ?= cc
WARN        := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_BASE := -std=gnu11 -g -O2 $(WARN) -I$(CORE_DIR) -Irate_limit \
               -Itests/support -D_GNU_SOURCE
# The stricter warnings zstd builds with, for the clang builds (unit-clang,
# module-clang), and the one nginx adds for clang (conditional-uninitialized)
STRICT      := -Wcast-qual -Wshadow -Wdeclaration-after-statement \
               -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
               -Wundef -Wpointer-arith -Wvla -Wformat=2 -Winit-self \
               -Wfloat-equal -Wwrite-strings -Wredundant-decls \
               -Wconditional-uninitialized
SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
CORE_LIBS   := -lz -ldeflate -lzstd -lbrotlidec -lcrypto -lm -lmaxminddb
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
E2E_LIBS    := -lrdkafka -lcurl -lpthread -ljansson

# Debian's flags, so the module is built the way Debian builds nginx.
NGX_CC_OPT  := -g -O2 -fstack-protector-strong -Wformat \
               -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
NGX_LD_OPT  := -Wl,-z,relro -Wl,-z,now -fPIC

export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1:detect_odr_violation=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export CK_DEFAULT_TIMEOUT ?= 60

.PHONY: all module deps run test unit unit-plain unit-asan e2e e2e-asan \
        dashboard-shots \
        fuzz fuzz-replay bench clean asan-nginx monitoring-check callgraph \
        lint lint-selftest unit-clang module-clang e2e-all

all: module

# ---------------------------------------------------------------- deps

deps:
	@tests/support/deps.sh

# Runs deps only when something is missing, so make run/test are one
# command on a fresh Debian 12 machine.
$(B)/.deps-ok: tests/support/deps.sh
	@tests/support/deps.sh --if-missing
	@mkdir -p $(B) && touch $@

# -------------------------------------------------------------- module

module: $(MODULE)

# The config script lists the sources when nginx's configure runs: a file
# added or removed must reconfigure.  The list is rewritten only when it
# changes, so its timestamp says when it last did.
MODULE_SRCS := $(sort $(wildcard ngx_xflow_module/*.c ngx_xflow_module/*.h \
                 $(CORE_DIR)/*.c $(CORE_DIR)/*.h rate_limit/*.c rate_limit/*.h))
SRCLIST := $(B)/.module-sources
$(shell mkdir -p $(B); echo '$(MODULE_SRCS)' | cmp -s - $(SRCLIST) \
        || echo '$(MODULE_SRCS)' > $(SRCLIST))

# The version and commit the module says (version.sh: git describe).  The
# stamp is rewritten only when they change; config wrote them into nginx's
# build directory as a file of their own, which the module's recipe
# refreshes, so a new commit compiles that file again, not the module.
XFLOW_VERSION := $(shell ./version.sh)
VERSION_STAMP := $(B)/.version
$(shell echo '$(XFLOW_VERSION)' | cmp -s - $(VERSION_STAMP) \
        || echo '$(XFLOW_VERSION)' > $(VERSION_STAMP))

$(B)/nginx/objs/Makefile: config $(SRCLIST) $(B)/.deps-ok
	rm -rf $(B)/nginx && mkdir -p $(B) && cp -r $(NGINX_SRC) $(B)/nginx
	cd $(B)/nginx && ./configure --with-compat \
	    --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR) > configure.log \
	    || { tail -30 configure.log; exit 1; }

$(MODULE): $(B)/nginx/objs/Makefile $(GLUE_FILES) $(CORE_SRCS) $(CORE_HDRS) \
           $(RL_SRCS) $(RL_HDRS) $(VERSION_STAMP)
	./version.sh --c $(B)/nginx/objs/ngx_http_xflow_version.c
	$(MAKE) -C $(B)/nginx -f objs/Makefile modules
	@# a running nginx has the old file mapped: replace, never overwrite
	cp $(B)/nginx/objs/ngx_http_xflow_module.so $@.tmp && mv -f $@.tmp $@

# The module built by clang with the stricter warnings, against a second
# copy of the nginx tree: its objs/Makefile builds only the module's files
# for "modules".  nginx's headers test macros they leave undefined
# (#if NGX_THREADS), and its macros drop qualifiers (ngx_string("...")
# casts a literal to u_char *, ngx_timeofday() casts volatile away):
# -Wundef, -Wwrite-strings and -Wcast-qual are for core/, rate_limit/
# and the unit tests only.
NGX_STRICT  := $(filter-out -Wundef -Wwrite-strings -Wcast-qual,$(STRICT))
CLANG_MODULE := $(B)/clang-nginx/objs/ngx_http_xflow_module.so

module-clang: $(CLANG_MODULE)

$(B)/clang-nginx/objs/Makefile: config $(SRCLIST) $(B)/.deps-ok
	rm -rf $(B)/clang-nginx && mkdir -p $(B) \
	    && cp -r $(NGINX_SRC) $(B)/clang-nginx
	cd $(B)/clang-nginx && ./configure --with-compat --with-cc=clang \
	    --with-cc-opt="$(NGX_CC_OPT) $(NGX_STRICT)" \
	    --with-ld-opt="$(NGX_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR) > configure.log \
	    || { tail -30 configure.log; exit 1; }

$(CLANG_MODULE): $(B)/clang-nginx/objs/Makefile $(GLUE_FILES) $(CORE_SRCS) \
                 $(CORE_HDRS) $(RL_SRCS) $(RL_HDRS)
	$(MAKE) -C $(B)/clang-nginx -f objs/Makefile modules

# An nginx binary and module built with ASan+UBSan, for e2e-asan, from
# Debian's nginx source package (nginx-dev has headers only).  nginx itself
# passes NULL with a zero length to memcpy by design: that one check is off.
ASAN_NGINX  := $(B)/asan-nginx/objs/nginx

asan-nginx: $(ASAN_NGINX)

$(B)/asan-nginx/objs/Makefile: config $(SRCLIST) $(B)/.deps-ok
	[ -x $(B)/asan-nginx/configure ] \
	    || tests/support/nginx-source.sh $(B)/asan-nginx
	cd $(B)/asan-nginx && ./configure --with-compat --with-threads \
	    --with-http_realip_module --with-debug \
	    --with-cc-opt="-g -O1 $(SAN) -fno-sanitize=nonnull-attribute -fPIC" \
	    --with-ld-opt="$(SAN) -fPIC" \
	    --add-dynamic-module=$(CURDIR) > configure.log \
	    || { tail -30 configure.log; exit 1; }

$(ASAN_NGINX): $(B)/asan-nginx/objs/Makefile $(GLUE_FILES) $(CORE_SRCS) \
               $(CORE_HDRS) $(RL_SRCS) $(RL_HDRS) $(VERSION_STAMP)
	./version.sh --c $(B)/asan-nginx/objs/ngx_http_xflow_version.c
	$(MAKE) -C $(B)/asan-nginx -f objs/Makefile binary modules

# ---------------------------------------------------------- unit tests

$(B)/obj/%.o: %.c $(CORE_HDRS) $(RL_HDRS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -c $< -o $@

$(B)/asan/obj/%.o: %.c $(CORE_HDRS) $(RL_HDRS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 $(SAN) -c $< -o $@

LIB_OBJS      = $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRCS) $(RL_SRCS))
LIB_ASAN_OBJS = $(patsubst %.c,$(B)/asan/obj/%.o,$(CORE_SRCS) $(RL_SRCS))

# Every test-*.c defines make_<unit>_suite(); the runner's list of suites
# is generated from them so that adding a file is all it takes.
SUITES_H = @mkdir -p $(dir $@); cat $^ /dev/null \
	    | grep -oE '^make_[a-z0-9_]+_suite' | sort -u \
	    | sed -E 's/.*/XF_SUITE(&)/' > $@

$(B)/unit/suites.h: $(UNIT_SRCS)
	$(SUITES_H)

$(B)/e2e/suites.h: $(E2E_SRCS)
	$(SUITES_H)

$(B)/unit/run: $(patsubst %.c,$(B)/obj/%.o,$(UNIT_SRCS)) $(LIB_OBJS) \
               tests/support/xf_check_main.c $(B)/unit/suites.h
	$(CC) $(CFLAGS_BASE) -I$(B)/unit tests/support/xf_check_main.c \
	    $(filter %.o,$^) -o $@ $(CORE_LIBS) $(CHECK_LIBS) -ljansson -lbrotlienc

$(B)/asan/unit/run: $(patsubst %.c,$(B)/asan/obj/%.o,$(UNIT_SRCS)) \
                    $(LIB_ASAN_OBJS) tests/support/xf_check_main.c \
                    $(B)/unit/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 $(SAN) -I$(B)/unit \
	    tests/support/xf_check_main.c $(filter %.o,$^) -o $@ \
	    $(CORE_LIBS) $(CHECK_LIBS) -ljansson -lbrotlienc

# The same core and unit tests built by clang with STRICT, beside gcc's
# build: each compiler sees what the other misses.  The suite builders are
# called through the generated runner only, so the unit tests have no
# prototype for them.

$(B)/clang/obj/%.o: %.c $(CORE_HDRS) $(RL_HDRS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	clang $(CFLAGS_BASE) $(STRICT) \
	    $(if $(filter tests/%,$<),-Wno-missing-prototypes) -c $< -o $@

LIB_CLANG_OBJS = $(patsubst %.c,$(B)/clang/obj/%.o,$(CORE_SRCS) $(RL_SRCS))

$(B)/clang/unit/run: $(patsubst %.c,$(B)/clang/obj/%.o,$(UNIT_SRCS)) \
                     $(LIB_CLANG_OBJS) tests/support/xf_check_main.c \
                     $(B)/unit/suites.h
	@mkdir -p $(dir $@)
	clang $(CFLAGS_BASE) $(STRICT) -Wno-missing-prototypes -I$(B)/unit \
	    tests/support/xf_check_main.c $(filter %.o,$^) -o $@ \
	    $(CORE_LIBS) $(CHECK_LIBS) -ljansson -lbrotlienc

unit-clang: $(B)/clang/unit/run
	$(B)/clang/unit/run

unit: unit-plain unit-asan

unit-plain: $(B)/unit/run
	$(B)/unit/run

# check's runner reads every message a test sends (each passing
# ck_assert is one) and frees it into ASan's quarantine, 256 MiB by
# default: the runner grew past 500 MiB, each forked test inherited it,
# and the suites took 11 minutes instead of 4.  16 MiB of quarantine per
# process still catches a use after free within a test.
unit-asan: $(B)/asan/unit/run
	ASAN_OPTIONS=$(ASAN_OPTIONS):quarantine_size_mb=16 $(B)/asan/unit/run

# ----------------------------------------------------------- e2e tests

$(B)/e2e/run: $(patsubst %.c,$(B)/obj/%.o,$(E2E_SRCS) $(SUPPORT_SRCS)) \
              tests/support/xf_check_main.c $(B)/e2e/suites.h
	$(CC) $(CFLAGS_BASE) -I$(B)/e2e tests/support/xf_check_main.c \
	    $(filter %.o,$^) -o $@ $(E2E_LIBS) $(CHECK_LIBS)

e2e: $(MODULE) $(B)/e2e/run
	XFLOW_NGINX=$(NGINX_BIN) XFLOW_MODULE=$(CURDIR)/$(MODULE) \
	    XFLOW_SRC=$(CURDIR) $(B)/e2e/run

e2e-asan: $(ASAN_NGINX) $(B)/e2e/run
	XFLOW_NGINX=$(CURDIR)/$(ASAN_NGINX) \
	    XFLOW_MODULE=$(CURDIR)/$(B)/asan-nginx/objs/ngx_http_xflow_module.so \
	    XFLOW_SRC=$(CURDIR) XFLOW_ASAN=1 $(B)/e2e/run

# Both of the above, suites side by side (tests/support/e2e-all.sh says
# why and which run alone); make test's way.  E2E_JOBS=n sets how many.
e2e-all: $(MODULE) $(ASAN_NGINX) $(B)/e2e/run
	XFLOW_NGINX=$(NGINX_BIN) XFLOW_MODULE=$(CURDIR)/$(MODULE) \
	    XFLOW_ASAN_NGINX=$(CURDIR)/$(ASAN_NGINX) \
	    XFLOW_ASAN_MODULE=$(CURDIR)/$(B)/asan-nginx/objs/ngx_http_xflow_module.so \
	    XFLOW_SRC=$(CURDIR) E2E_LOGS=$(B)/e2e-logs \
	    tests/support/e2e-all.sh $(B)/e2e/run $(B)/e2e/suites.h

# ---------------------------------------------------------------- fuzz

# Replay: each target's corpus through the target, built with gcc and
# ASan+UBSan, in ordinary make test (no libFuzzer needed).
$(B)/fuzz-replay/%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
                    $(LIB_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 $(SAN) $< tests/fuzz/replay.c \
	    $(LIB_ASAN_OBJS) -o $@ $(CORE_LIBS)

fuzz-replay: $(addprefix $(B)/fuzz-replay/,$(FUZZ_NAMES))
	@for t in $(FUZZ_NAMES); do \
	    $(B)/fuzz-replay/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

FUZZ_CFLAGS := -std=gnu11 -g -O1 -I$(CORE_DIR) -Irate_limit -Itests/support \
               -D_GNU_SOURCE \
               -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer

$(B)/fuzz/%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(CORE_SRCS) $(CORE_HDRS) \
             $(RL_SRCS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $< $(CORE_SRCS) $(RL_SRCS) -o $@ $(CORE_LIBS)

fuzz: $(addprefix $(B)/fuzz/,$(FUZZ_NAMES))
	@for t in $(FUZZ_NAMES); do \
	    mkdir -p $(B)/fuzz-corpus/$$t; \
	    echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	    $(B)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	        -artifact_prefix=$(B)/fuzz/$$t- \
	        $(B)/fuzz-corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# ------------------------------------------------------------- run/bench

# xf_spool_record.c checks each record with xf_crc32c.c.  The Debian
# package ships it (debian/rules passes Debian's CPPFLAGS, CFLAGS and
# LDFLAGS).
$(B)/xflow-spool-dump: tests/support/xflow-spool-dump.c \
                       $(CORE_DIR)/xf_spool_record.c $(CORE_DIR)/xf_crc32c.c \
                       $(CORE_HDRS)
	$(CC) $(CFLAGS_BASE) $(CPPFLAGS) $(CFLAGS) $< \
	    $(CORE_DIR)/xf_spool_record.c $(CORE_DIR)/xf_crc32c.c -o $@ $(LDFLAGS)

$(B)/xflow-devbroker: tests/support/devbroker.c | $(B)/.deps-ok
	$(CC) $(CFLAGS_BASE) $< -o $@ -lrdkafka

run: $(MODULE) $(B)/xflow-devbroker
	@tests/support/run.sh

# tests/bench/bench.mk: the body-reading baseline module and `make bench`
-include tests/bench/bench.mk

# ---------------------------------------------------------------- test

# promtool on the alert rules and their tests, the dashboard's queries
monitoring-check: $(B)/.deps-ok
	tests/support/check-monitoring.sh

# docs/monitoring/*.png: the dashboard drawn from a real scrape of three
# scenes (normal, outage, throttling) and the /limits page, in Chromium
dashboard-shots: $(MODULE) $(B)/xflow-load $(B)/xflow-devbroker
	@command -v chromium > /dev/null || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium > /dev/null; }
	XFLOW_MODULE=$(CURDIR)/$(MODULE) XFLOW_LOAD=$(CURDIR)/$(B)/xflow-load \
	    DEVBROKER=$(CURDIR)/$(B)/xflow-devbroker \
	    tests/support/dashboard-shots.sh

# the module's file-level call graph, glue and core: calls go down only,
# and core never up into the glue (docs/architecture.md)
callgraph: $(MODULE)
	tests/support/callgraph.sh --check

# the house rules (CONTRIBUTING.md), after a check that each rule fails on
# a violation planted in a copy of the tree
lint: lint-selftest
	tests/support/lint.sh

lint-selftest:
	tests/support/lint-selftest.sh

# make test builds with every core (JOBS) though called without -j; the
# steps stay in order, so the first failure is the one reported.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: $(B)/.deps-ok
	$(MAKE) -j$(JOBS) module
	$(MAKE) callgraph
	$(MAKE) lint
	$(MAKE) -j$(JOBS) module-clang
	$(MAKE) -j$(JOBS) $(B)/unit/run $(B)/asan/unit/run $(B)/clang/unit/run
	$(MAKE) unit
	$(MAKE) unit-clang
	$(MAKE) -j$(JOBS) $(addprefix $(B)/fuzz-replay/,$(FUZZ_NAMES))
	$(MAKE) fuzz-replay
	$(MAKE) monitoring-check
	$(MAKE) check-deploy
	$(MAKE) -j$(JOBS) $(MODULE) $(ASAN_NGINX) $(B)/e2e/run
	$(MAKE) e2e-all

clean:
	rm -rf $(B)

# debian/packaging.mk: make deb, test-deb, check-deploy; tests/browser:
# test-browser, record-captures
-include debian/packaging.mk
-include tests/browser/browser.mk
