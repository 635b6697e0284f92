/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * micro-format.c - the core's share of one request, without nginx or
 * Kafka: decode the body (gzip or identity) and split it into events with
 * their fields, as the module does.  Not a test: prints ns per event, and
 * runs a fixed number of iterations so that callgrind counts are
 * repeatable.
 *
 *   cc -O2 -g -D_GNU_SOURCE -Ingx_xflow_module/core \
 *      tests/bench/micro-format.c ngx_xflow_module/core/*.c \
 *      -lz -ldeflate -lzstd -lcrypto -lmaxminddb -lm -o build/micro-format
 *   build/micro-format FILE [gzip|identity] [ITERATIONS] [PATH]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xf_decode.h"
#include "xf_format.h"


static double
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}


int
main(int argc, char **argv)
{
    FILE           *f;
    long            size;
    size_t          i, iters, events, len;
    double          t0, t1;
    u_char         *body;
    const u_char   *p;
    xf_status_t     st;
    xf_limits_t     lim;
    xf_upload_t     up;
    xf_request_t    req;
    xf_decoder_t   *d;
    xf_encoding_t   enc;

    if (argc < 2) {
        fprintf(stderr, "usage: micro-format FILE [gzip|identity] [N] "
                "[PATH]\n");
        return 2;
    }

    f = fopen(argv[1], "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
        perror(argv[1]);
        return 1;
    }

    rewind(f);
    body = malloc(size + 1);
    if (body == NULL || fread(body, 1, size, f) != (size_t) size) {
        perror(argv[1]);
        return 1;
    }

    fclose(f);

    enc = (argc > 2 && strcmp(argv[2], "gzip") == 0) ? XF_ENC_GZIP
                                                     : XF_ENC_IDENTITY;
    iters = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;

    memset(&lim, 0, sizeof(lim));
    lim.max_decoded = 10 << 20;
    lim.max_events = 1000;
    lim.max_event_size = 64 << 10;
    lim.max_depth = 32;

    events = 0;
    t0 = now_ns();

    for (i = 0; i < iters; i++) {
        if (xf_decoder_create(&d, enc, 10 << 20, &xf_alloc_libc) != XF_OK
            || xf_decoder_feed_whole(d, body, size) != XF_OK
            || xf_decoder_finish(d, &p, &len) != XF_OK)
        {
            fprintf(stderr, "micro-format: cannot decode\n");
            return 1;
        }

        memset(&req, 0, sizeof(req));
        req.format = XF_FMT_AUTO;
        req.method = XF_METHOD_POST;
        req.path.data = (u_char *) (argc > 4 ? argv[4] : "/collect");
        req.path.len = strlen((char *) req.path.data);
        req.content_type.data = (u_char *) "application/json";
        req.content_type.len = sizeof("application/json") - 1;
        req.body = p;
        req.body_len = len;

        memset(&up, 0, sizeof(up));
        st = xf_format_parse(&req, &lim, &xf_alloc_libc, &up);
        if (st != XF_OK) {
            fprintf(stderr, "micro-format: %s\n", xf_strerror(st));
            return 1;
        }

        events += up.n;
        xf_format_free(&up, &xf_alloc_libc);
        xf_decoder_free(d);
    }

    t1 = now_ns();

    printf("%zu requests, %zu events: %.1f ns/request, %.1f ns/event\n",
           iters, events, (t1 - t0) / iters, (t1 - t0) / events);

    return 0;
}
