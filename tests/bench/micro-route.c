/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * micro-route.c - cost of routing one event against N rules, and what a
 * split saves a consumer.  Not a test: prints numbers for docs/routing.md.
 *
 *   cc -O2 -g -D_GNU_SOURCE -Ingx_xflow_module/core tests/bench/micro-route.c \
 *      ngx_xflow_module/core/*.c -lz -ldeflate -lzstd -lcrypto \
 *      -lmaxminddb -lm -o build/micro-route
 *   build/micro-route
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xf_route.h"


static double
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}


/* events per case: argv[1], for callgrind runs; else 2,000,000 */
static size_t  micro_iters = 2000000;


static void
bench(size_t nrules, int mix)
{
    char               *text;
    size_t              i, k, iters, matched;
    double              t0, t1;
    uint32_t           *topics;
    xf_str_t            tok[4];
    xf_route_rule_t    *rules;
    xf_route_table_t   *t;
    xf_route_event_t    ev;
    xf_route_target_t   out[XF_ROUTE_MAX_TARGETS];
    char                names[64][32];
    const char         *event = "{\"event\":\"e17\",\"properties\":"
                                "{\"$os\":\"Linux\",\"price\":9.5}}";

    rules = calloc(nrules + 1, sizeof(xf_route_rule_t));
    topics = calloc(nrules + 1, sizeof(uint32_t));
    text = calloc(nrules + 1, 64);

    for (i = 0; i < nrules; i++) {
        char *p = text + i * 64;

        if (mix == 0 || (mix == 1 && i % 10) || (mix == 2 && i % 4)) {
            snprintf(p, 64, "event=e%zu", i + 1000);

        } else if (mix == 2) {
            /* one rule in four is a prefix rule: the trie */
            snprintf(p, 64, "event=e%zu_*", i);

        } else {
            /* one rule in ten is a prefix or has= rule */
            snprintf(p, 64, i % 20 ? "event=x%zu*" : "has=p%zu", i);
        }

        tok[0].data = (const u_char *) p;
        tok[0].len = strlen(p);
        tok[1].data = (const u_char *) "topic=t";
        tok[1].len = 7;

        if (xf_route_rule_parse(tok, 2, &xf_alloc_libc, &rules[i], NULL, 0)
            != XF_OK)
        {
            abort();
        }

        topics[i] = (uint32_t) i;
    }

    if (xf_route_compile(rules, topics, nrules, &xf_alloc_libc, &t) != XF_OK)
    {
        abort();
    }

    for (i = 0; i < 64; i++) {
        snprintf(names[i], sizeof(names[i]), "e%zu", i < 32 ? i : i + 968);
    }

    iters = micro_iters;
    matched = 0;

    memset(&ev, 0, sizeof(ev));
    ev.app.data = (const u_char *) "shop";
    ev.app.len = 4;
    ev.format = XF_FMT_JSON;
    ev.event = (const u_char *) event;
    ev.event_len = strlen(event);

    t0 = now_ns();

    for (k = 0; k < iters; k++) {
        ev.name.data = (const u_char *) names[k & 63];
        ev.name.len = strlen(names[k & 63]);
        matched += xf_route_match(t, &ev, out);
    }

    t1 = now_ns();

    printf("%5zu rules (%s): %6.1f ns/event, %zu of %zu matched\n", nrules,
           mix == 0 ? "exact names"
           : mix == 1 ? "90% exact, 5% prefix, 5% has="
           : "75% exact, 25% prefix", (t1 - t0) / iters, matched, iters);
}


int
main(int argc, char **argv)
{
    if (argc > 1) {
        micro_iters = strtoul(argv[1], NULL, 10);
    }

    bench(0, 0);
    bench(10, 0);
    bench(1000, 0);
    bench(1000, 2);
    bench(10, 1);
    bench(1000, 1);
    return 0;
}
