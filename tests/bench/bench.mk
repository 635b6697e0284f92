# SPDX-License-Identifier: BSD-2-Clause
# tests/bench/bench.mk - `make bench`, included by the top Makefile.
#
# Builds the body-reading baseline module against its own copy of the nginx
# tree (the same configure flags as the xflow module, so both load into
# Debian's nginx), the bench broker (mock Kafka that can count what
# arrived), and runs tests/bench/run.sh.  See docs/benchmarks.md.
#
#   make bench BENCH_SECONDS=10 BENCH_ROUNDS=3    (environment works too)

BENCH_NGINX    := $(B)/bench-nginx
BENCH_BASELINE := $(B)/ngx_http_bench_baseline_module.so
BENCH_BROKER   := $(B)/bench-broker
BENCH_SRCS     := tests/bench/baseline/config \
                  tests/bench/baseline/ngx_http_bench_baseline_module.c

.PHONY: bench-build

$(BENCH_NGINX)/objs/Makefile: tests/bench/baseline/config $(B)/.deps-ok
	rm -rf $(BENCH_NGINX) && mkdir -p $(B) \
	    && cp -r $(NGINX_SRC) $(BENCH_NGINX)
	cd $(BENCH_NGINX) && ./configure --with-compat \
	    --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR)/tests/bench/baseline \
	    > configure.log || { tail -30 configure.log; exit 1; }

$(BENCH_BASELINE): $(BENCH_NGINX)/objs/Makefile $(BENCH_SRCS)
	$(MAKE) -C $(BENCH_NGINX) -f objs/Makefile modules
	cp $(BENCH_NGINX)/objs/ngx_http_bench_baseline_module.so $@

$(BENCH_BROKER): tests/bench/bench-broker.c | $(B)/.deps-ok
	$(CC) $(CFLAGS_BASE) $< -o $@ -lrdkafka

$(B)/producer-floor: tests/bench/producer-floor.c | $(B)/.deps-ok
	$(CC) $(CFLAGS_BASE) $< -o $@ -lrdkafka

bench-build: $(MODULE) $(BENCH_BASELINE) $(BENCH_BROKER) $(B)/producer-floor \
             $(B)/xflow-load

bench: bench-build
	NGINX_BIN=$(NGINX_BIN) \
	    XFLOW_MODULE=$(CURDIR)/$(MODULE) \
	    BASELINE_MODULE=$(CURDIR)/$(BENCH_BASELINE) \
	    BENCH_BROKER=$(CURDIR)/$(BENCH_BROKER) \
	    PRODUCER_FLOOR=$(CURDIR)/$(B)/producer-floor \
	    XFLOW_LOAD=$(CURDIR)/$(B)/xflow-load \
	    tests/bench/run.sh

# The open-loop load client of the e2e tests as a command.
$(B)/xflow-load: tests/bench/load.c tests/support/xf_test_load.c \
                 tests/support/xf_load.h | $(B)/.deps-ok
	$(CC) $(CFLAGS_BASE) tests/bench/load.c tests/support/xf_test_load.c \
	    -o $@

.PHONY: bench-spool

# One worker's capacity while Kafka is away (docs/spool.md).
bench-spool: $(MODULE) $(B)/xflow-load $(B)/xflow-devbroker
	NGINX_BIN=$(NGINX_BIN) XFLOW_MODULE=$(CURDIR)/$(MODULE) \
	    XFLOW_LOAD=$(CURDIR)/$(B)/xflow-load \
	    DEVBROKER=$(CURDIR)/$(B)/xflow-devbroker \
	    tests/bench/spool-capacity.sh

.PHONY: bench-capacity

# Events/s and CPU per event against events per upload: docs/capacity.svg
bench-capacity: $(MODULE) $(BENCH_BROKER)
	NGINX_BIN=$(NGINX_BIN) XFLOW_MODULE=$(CURDIR)/$(MODULE) \
	    BENCH_BROKER=$(CURDIR)/$(BENCH_BROKER) tests/bench/capacity.sh

.PHONY: bench-plan

# What the catalog, a 500-event plan, ten kill switches and 200 bot
# patterns cost per event, in instructions (callgrind: the machine's
# load does not change them), each stage run with 10,000 and 20,000
# events so that the set-up cancels out (docs/benchmarks.md).
$(B)/micro-plan: tests/bench/micro-plan.c $(CORE_SRCS) $(CORE_HDRS) \
                 $(RL_SRCS) | $(B)/.deps-ok
	$(CC) -std=gnu11 -O2 -g -D_GNU_SOURCE -I$(CORE_DIR) -Irate_limit $< \
	    $(CORE_SRCS) $(RL_SRCS) -o $@ $(CORE_LIBS)

BENCH_PLAN_STAGES ?= none kill plan catalog all bots bots-scan all-bots

bench-plan: $(B)/micro-plan
	@printf 'stage\tinstructions per event\n'
	@for s in $(BENCH_PLAN_STAGES); do \
	    for n in 10000 20000; do \
	        valgrind --tool=callgrind --callgrind-out-file=/dev/null \
	            $(B)/micro-plan $$s $$n 2>&1 >/dev/null \
	            | sed -n 's/.*Collected : *//p'; \
	    done | { read a; read b; \
	             printf '%s\t%s\n' $$s $$(( (b - a) / 10000 )); }; \
	done
