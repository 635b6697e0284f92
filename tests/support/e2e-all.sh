#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# e2e-all.sh - every e2e suite twice, against Debian's nginx with the
# module and against the ASan+UBSan nginx, several suites at a time.
#
#   tests/support/e2e-all.sh RUNNER SUITES_H
#
# Environment: XFLOW_NGINX, XFLOW_MODULE (the plain pair), XFLOW_ASAN_NGINX,
# XFLOW_ASAN_MODULE (the sanitizer pair), XFLOW_SRC, E2E_JOBS (default 3),
# E2E_LOGS (default build/e2e-logs).
#
# Why in parallel: an e2e suite spends most of its time waiting (for a
# broker to come back, a spool to drain, a deadline to pass), so the
# machine idles while one runs alone.  Every test has its own nginx
# prefix (mkdtemp), its own ports and its own in-process mock cluster,
# so suites do not see each other.
#
# Why some alone: `outage_load` bounds how long a request waits and
# `limit` counts admissions against a rate, both with wide margins on a
# quiet machine.  They run after the others, one at a time, so that
# their margins are not spent on a neighbour's load.
#
# Each run writes its own log; the summary lists every run with its time
# and result, and the logs of failed runs follow it in full.

set -u

runner=$1
suites_h=$2
jobs=${E2E_JOBS:-3}
logs=${E2E_LOGS:-build/e2e-logs}
alone="make_outage_load_suite make_limit_suite"
# longest first, so that the last to finish is a short one
heavy="make_collect_suite make_spool_e2e_suite make_nolink_suite
       make_formats_suite make_hostile_suite make_outage_suite"

rm -rf "$logs"
mkdir -p "$logs"

all=$(sed -nE 's/^XF_SUITE\((.*)\)$/\1/p' "$suites_h")

is_in() {
    case " $(echo $2) " in *" $1 "*) return 0 ;; esac
    return 1
}

order=""
for s in $heavy; do
    is_in "$s" "$all" && order="$order $s"
done
for s in $all; do
    is_in "$s" "$heavy $alone" || order="$order $s"
done
last=""
for s in $alone; do
    is_in "$s" "$all" && last="$last $s"
done

# one run: MODE SUITE; its status and seconds go to the summary file
run_one() {
    local mode=$1 suite=$2 log t0 rc
    log="$logs/$mode-${suite#make_}.log"
    t0=$(date +%s)
    if [ "$mode" = asan ]; then
        XFLOW_NGINX=$XFLOW_ASAN_NGINX XFLOW_MODULE=$XFLOW_ASAN_MODULE \
            XFLOW_ASAN=1 XF_TEST_SUITE=$suite "$runner" >"$log" 2>&1
    else
        XF_TEST_SUITE=$suite "$runner" >"$log" 2>&1
    fi
    rc=$?
    echo "$mode ${suite#make_} $(( $(date +%s) - t0 )) $rc" \
        >>"$logs/summary"
}

start=$(date +%s)
running=0

# the sanitizer runs first: they are the slower of each pair
for s in $order; do
    for mode in asan plain; do
        if [ "$running" -ge "$jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
        run_one "$mode" "$s" &
        running=$((running + 1))
    done
done
wait

for s in $last; do
    for mode in asan plain; do
        run_one "$mode" "$s"
    done
done

failed=0
echo "e2e: suite runs (mode suite seconds status), $jobs at a time:"
while read -r mode suite secs rc; do
    tail=$(grep -E '^[0-9]+%: Checks' "$logs/$mode-$suite.log" | tail -1)
    printf '  %-5s %-16s %4ss  %s\n' "$mode" "$suite" "$secs" \
        "${tail:-no check summary (exit $rc)}"
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
done <"$logs/summary"

if [ "$failed" -gt 0 ]; then
    while read -r mode suite secs rc; do
        [ "$rc" -eq 0 ] && continue
        echo "==== $mode $suite: $logs/$mode-$suite.log"
        cat "$logs/$mode-$suite.log"
    done <"$logs/summary"
    echo "e2e: $failed run(s) failed in $(( $(date +%s) - start ))s"
    exit 1
fi

echo "e2e: every run passed in $(( $(date +%s) - start ))s"
