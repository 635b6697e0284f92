/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-route.c - routing rules from arbitrary text.
 *
 * Invariant: parsing any line as a rule never crashes or reads outside
 * the input; compiling the accepted rules and matching events built from
 * the input gives the same targets as evaluating the rules one by one in
 * order (first match wins, copy goes on), never more than
 * XF_ROUTE_MAX_TARGETS.
 *
 * Input: lines.  "R tokens..." is a rule, "E name app json" an event.
 */

#include <stdlib.h>
#include <string.h>

#include "xf_route.h"
#include "fuzz.h"


#define MAX_RULES   64
#define MAX_TOKENS  8


typedef struct {
    void   *blocks[4096];
    size_t  n;
} arena_t;


static void *
arena_alloc(void *data, size_t size)
{
    arena_t  *ar = data;

    if (ar->n == sizeof(ar->blocks) / sizeof(ar->blocks[0])) {
        return NULL;
    }

    return ar->blocks[ar->n++] = malloc(size ? size : 1);
}


static void
arena_free(void *data, void *p)
{
}


static size_t
split(const u_char *p, size_t len, xf_str_t *out, size_t max)
{
    size_t  i, start, n;

    n = 0;
    start = 0;

    for (i = 0; i <= len && n < max; i++) {
        if (i == len || p[i] == ' ') {
            if (i > start) {
                out[n].data = p + start;
                out[n++].len = i - start;
            }

            start = i + 1;
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               err[128];
    size_t             i, j, n, nrules, ntok, got, want;
    arena_t           *ar;
    uint32_t           topics[MAX_RULES];
    xf_str_t           tok[MAX_TOKENS];
    xf_alloc_t         a;
    xf_route_rule_t    rules[MAX_RULES];
    xf_route_event_t   ev;
    xf_route_table_t  *t, *one;
    xf_route_target_t  out[XF_ROUTE_MAX_TARGETS], o1[XF_ROUTE_MAX_TARGETS];
    const u_char      *p, *end, *nl;

    memset(rules, 0, sizeof(rules));
    memset(topics, 0, sizeof(topics));

    ar = calloc(1, sizeof(arena_t));
    a.alloc = arena_alloc;
    a.free = arena_free;
    a.data = ar;

    nrules = 0;
    p = data;
    end = data + size;

    /* pass 1: rules */
    while (p < end && nrules < MAX_RULES) {
        nl = memchr(p, '\n', end - p);
        n = nl ? (size_t) (nl - p) : (size_t) (end - p);

        if (n > 2 && p[0] == 'R' && p[1] == ' ') {
            ntok = split(p + 2, n - 2, tok, MAX_TOKENS);

            if (xf_route_rule_parse(tok, ntok, &a, &rules[nrules], err,
                                    sizeof(err)) == XF_OK)
            {
                topics[nrules] = (uint32_t) nrules;
                nrules++;
            }
        }

        p += n + (nl != NULL);
    }

    if (xf_route_compile(rules, topics, nrules, &a, &t) != XF_OK) {
        goto done;
    }

    /* pass 2: events */
    p = data;

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        n = nl ? (size_t) (nl - p) : (size_t) (end - p);

        if (n > 2 && p[0] == 'E' && p[1] == ' ') {
            ntok = split(p + 2, n - 2, tok, 3);

            memset(&ev, 0, sizeof(ev));
            ev.format = (xf_format_t) (n % XF_FMT_MAX);
            if (ntok > 0) { ev.name = tok[0]; }
            if (ntok > 1) { ev.app = tok[1]; }
            if (ntok > 2) { ev.tier = tok[2]; }

            /* has= needs a validated object: use "{}" */
            ev.event = (const u_char *) "{}";
            ev.event_len = 2;

            got = xf_route_match(t, &ev, out);
            if (got > XF_ROUTE_MAX_TARGETS) {
                FUZZ_FAIL("got > XF_ROUTE_MAX_TARGETS");
            }

            want = 0;
            for (i = 0; i < nrules && want < XF_ROUTE_MAX_TARGETS; i++) {
                if (xf_route_compile(&rules[i], &topics[i], 1, &a, &one)
                    != XF_OK)
                {
                    goto done;
                }

                if (xf_route_match(one, &ev, o1)) {
                    if (want >= got || out[want].topic != o1[0].topic) {
                        FUZZ_FAIL("want >= got || out[want].topic != "
                                  "o1[0].topic");
                    }

                    want++;

                    if (!rules[i].copy) {
                        break;
                    }
                }
            }

            if (want != got) {
                FUZZ_FAIL("want != got");
            }
        }

        p += n + (nl != NULL);
    }

done:

    for (j = 0; j < ar->n; j++) {
        free(ar->blocks[j]);
    }

    free(ar);

    return 0;
}
