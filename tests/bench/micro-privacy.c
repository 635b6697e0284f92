/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * micro-privacy.c - nanoseconds per reference, per strip of a 300-byte
 * event, per cookie member and per seen-table lookup.  Not a test: run
 * by hand, numbers go to docs/privacy.md.
 *
 *   cc -O2 -D_GNU_SOURCE -Ingx_xflow_module/core \
 *       tests/bench/micro-privacy.c ngx_xflow_module/core/*.c \
 *       -lz -ldeflate -lzstd -lcrypto -lmaxminddb -lm \
 *       -o build/micro-privacy && build/micro-privacy
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xf_cookie.h"
#include "xf_hashref.h"
#include "xf_seen.h"
#include "xf_strip.h"


#define KEY32  "0123456789abcdef0123456789abcdef"


static const char  ua[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/* 300 bytes, a PostHog-like capture */
static const char  event[] =
    "{\"event\":\"$pageview\",\"distinct_id\":\"018c2a1b-7f3e-7a9d-b6c1-"
    "3f2e1d0c9b8a\",\"properties\":{\"$current_url\":\"https://example.com/"
    "pricing\",\"$ip\":\"81.2.69.160\",\"$user_agent\":\"Mozilla/5.0 (X11; "
    "Linux x86_64)\",\"$browser\":\"Chrome\",\"$os\":\"Linux\",\"$lib\":\""
    "web\"},\"timestamp\":\"2024-11-25T01:02:03.456Z\",\"uuid\":\"018c2a1b-"
    "7f3e\"}";

static const char  cookie[] =
    "_ga=GA1.2.123456789.1700000000; _gid=GA1.2.987654321.1700000000; "
    "sensorsdata2015jssdkcross=%7B%22distinct_id%22%3A%2218c2a1b7f3e%22%7D; "
    "ph_phc_abcdefghijklmnop_posthog=%7B%22distinct_id%22%3A%22018c%22%7D; "
    "session=abcdef0123456789";


static double
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}


int
main(void)
{
    int                  i, n;
    void                *mem;
    u_char               ref[XF_HASHREF_LEN], out[2048];
    size_t               len, sink;
    double               t;
    xf_seen_t           *seen;
    xf_hashref_t        *h;
    xf_strip_conf_t      conf;
    xf_strip_rule_t      rules[3];
    xf_cookie_pattern_t  pats[2];

    n = 2000000;
    sink = 0;

    if (xf_hashref_create((const u_char *) KEY32, 32, (const u_char *) "k1",
                          2, &xf_alloc_libc, &h) != NULL)
    {
        return 1;
    }

    t = now_ns();
    for (i = 0; i < n; i++) {
        xf_hashref(h, XF_HASHREF_UA, (const u_char *) ua, sizeof(ua) - 1, ref);
        sink += ref[0];
    }
    printf("hashref UA (%zu bytes)          %6.0f ns\n", sizeof(ua) - 1,
           (now_ns() - t) / n);

    t = now_ns();
    for (i = 0; i < n; i++) {
        xf_hashref(h, XF_HASHREF_IP, (const u_char *) "81.2.69.160", 11, ref);
        sink += ref[0];
    }
    printf("hashref IP (11 bytes)            %6.0f ns\n", (now_ns() - t) / n);

    xf_strip_rule_init(&rules[0], (const u_char *) "properties.$ip", 14,
                       XF_STRIP_DROP);
    xf_strip_rule_init(&rules[1], (const u_char *) "properties.$user_agent",
                       22, XF_STRIP_HASH);
    xf_strip_rule_init(&rules[2], (const u_char *) "context.userAgent", 17,
                       XF_STRIP_HASH);
    conf.rules = rules;
    conf.n = 3;
    conf.h = h;
    conf.anon = NULL;
    conf.ua = NULL;

    t = now_ns();
    for (i = 0; i < n; i++) {
        xf_strip(&conf, &xf_alloc_libc, (const u_char *) event,
                 sizeof(event) - 1, out, sizeof(out), &len);
        sink += len;
    }
    printf("strip %zu-byte event (drop+hash) %6.0f ns\n", sizeof(event) - 1,
           (now_ns() - t) / n);

    conf.n = 1;
    t = now_ns();
    for (i = 0; i < n; i++) {
        xf_strip(&conf, &xf_alloc_libc, (const u_char *) event,
                 sizeof(event) - 1, out, sizeof(out), &len);
        sink += len;
    }
    printf("strip %zu-byte event (drop only) %6.0f ns\n", sizeof(event) - 1,
           (now_ns() - t) / n);

    xf_strip_rule_init(&rules[0], (const u_char *) "context.userAgent", 17,
                       XF_STRIP_HASH);
    t = now_ns();
    for (i = 0; i < n; i++) {
        xf_strip(&conf, &xf_alloc_libc, (const u_char *) event,
                 sizeof(event) - 1, out, sizeof(out), &len);
        sink += len;
    }
    printf("strip %zu-byte event (no match)  %6.0f ns\n", sizeof(event) - 1,
           (now_ns() - t) / n);

    xf_cookie_pattern(&pats[0], (const u_char *) "sensorsdata2015jssdkcross",
                      25);
    xf_cookie_pattern(&pats[1], (const u_char *) "ph_*", 4);

    t = now_ns();
    for (i = 0; i < n; i++) {
        xf_cookie_member(h, pats, 2, 8, (const u_char *) cookie,
                         sizeof(cookie) - 1, out, sizeof(out), &len);
        sink += len;
    }
    printf("cookie member (%zu bytes, 2 refs) %5.0f ns\n", sizeof(cookie) - 1,
           (now_ns() - t) / n);

    mem = malloc(xf_seen_size(1 << 16));
    seen = xf_seen_init(mem, xf_seen_size(1 << 16));

    t = now_ns();
    for (i = 0; i < n; i++) {
        sink += xf_seen_check_and_set(seen, (uint64_t) (i % 5000)
                                      * 0x9e3779b97f4a7c15ULL, 1000, 3600);
    }
    printf("seen check_and_set               %6.0f ns\n", (now_ns() - t) / n);

    free(mem);
    xf_hashref_destroy(h, &xf_alloc_libc);

    return sink == 42;
}
