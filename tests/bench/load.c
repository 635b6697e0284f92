/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load.c - xflow-load: the open-loop load client of the e2e tests
 * (tests/support/xf_test_load.c) as a command, for the spool capacity
 * runs of tests/bench/spool-capacity.sh and for trying a gateway by hand.
 *
 *   xflow-load -p PORT [-u /collect] [-r RATE | -c CONNS] [-d SECONDS]
 *              [-b BODY_FILE] [-m MARKER] [-B] [-H 'Name: value' ...]
 *   xflow-load -p PORT -f LIST [-r RATE | -c CONNS] [-d SECONDS]
 *
 *   -r  requests/s, open loop (independent clients) [100]
 *   -c  closed loop with this many connections instead
 *   -B  a browser's headers: a 2 KB Cookie, Chrome's User-Agent, Origin,
 *       X-Forwarded-For
 *   -m  the 16 bytes after MARKER in the body get each request's id
 *   -f  LIST names files of complete HTTP requests, one per line
 *       (tests/bench/realmix.py writes them): they are sent in turn,
 *       as they are, instead of -u, -b, -B, -H
 *
 * Prints one line of key=value: requests, answers by class, latency
 * p50/p99/max in ms (from when each request was due), connections.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_load.h"


#define LOAD_MAX_HEADERS  32
#define LOAD_MAX_RAW      4096


static char *
load_file(const char *path, size_t *len)
{
    char   *buf;
    long    n;
    FILE   *f;

    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        perror(path);
        exit(2);
    }

    rewind(f);
    buf = malloc((size_t) n + 1);

    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        perror(path);
        exit(2);
    }

    fclose(f);
    buf[n] = '\0';
    *len = (size_t) n;

    return buf;
}


/* The request files that LIST names, one per line, into conf. */
static void
load_list(const char *list, xf_load_conf_t *conf)
{
    char           line[4096];
    size_t         n;
    FILE          *f;
    static char   *raw[LOAD_MAX_RAW];
    static size_t  raw_len[LOAD_MAX_RAW];

    f = fopen(list, "r");
    if (f == NULL) {
        perror(list);
        exit(2);
    }

    n = 0;

    while (n < LOAD_MAX_RAW && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';

        if (line[0] != '\0') {
            raw[n] = load_file(line, &raw_len[n]);
            n++;
        }
    }

    fclose(f);

    if (n == 0) {
        fprintf(stderr, "%s: no request files\n", list);
        exit(2);
    }

    conf->raw = (const char *const *) raw;
    conf->raw_len = raw_len;
    conf->nraw = n;
}


int
main(int argc, char **argv)
{
    int               opt, nh;
    size_t            i;
    static char       cookie[2300];
    const char       *headers[LOAD_MAX_HEADERS + 8];
    xf_load_conf_t    conf;
    xf_load_stats_t   st;
    xf_load_result_t  res;

    memset(&conf, 0, sizeof(conf));
    conf.path = "/collect";
    conf.rate = 100;
    conf.duration_ms = 10000;
    conf.body = "{\"event\":\"page_view\",\"distinct_id\":\"u1\"}";
    conf.body_len = strlen(conf.body);
    nh = 0;
    headers[nh++] = "Content-Type: application/json";

    while ((opt = getopt(argc, argv, "p:u:r:c:d:b:m:f:BH:")) != -1) {
        switch (opt) {
        case 'p': conf.port = atoi(optarg); break;
        case 'u': conf.path = optarg; break;
        case 'r': conf.rate = atof(optarg); break;
        case 'c': conf.conns = (unsigned) atoi(optarg); conf.rate = 0; break;
        case 'd': conf.duration_ms = atoi(optarg) * 1000; break;
        case 'b': conf.body = load_file(optarg, &conf.body_len); break;
        case 'm': conf.marker = optarg; break;
        case 'f': load_list(optarg, &conf); break;

        case 'B':
            i = (size_t) snprintf(cookie, sizeof(cookie),
                                  "Cookie: _ga=GA1.1.1234567890.1732492800; "
                                  "pref=");
            for ( ; i < 2048 + 8; i++) {
                cookie[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
            }
            cookie[i] = '\0';

            headers[nh++] = "User-Agent: Mozilla/5.0 (Windows NT 10.0; "
                            "Win64; x64) AppleWebKit/537.36 (KHTML, like "
                            "Gecko) Chrome/131.0.0.0 Safari/537.36";
            headers[nh++] = "Origin: https://shop.example.com";
            headers[nh++] = "X-Forwarded-For: 203.0.113.77";
            headers[nh++] = cookie;
            break;

        case 'H':
            if (nh < LOAD_MAX_HEADERS) {
                headers[nh++] = optarg;
            }
            break;

        default:
            fprintf(stderr, "usage: %s -p PORT [-u PATH] [-r RATE | -c "
                    "CONNS] [-d SECONDS] [-b BODY] [-m MARKER] [-B] "
                    "[-H HEADER]... [-f LIST]\n", argv[0]);
            return 2;
        }
    }

    if (conf.port == 0) {
        fprintf(stderr, "%s: -p PORT is required\n", argv[0]);
        return 2;
    }

    headers[nh] = NULL;
    conf.headers = headers;

    if (xf_load_run(&conf, &res) != 0) {
        perror("xflow-load");
        return 1;
    }

    xf_load_stats(&res, 0, INT64_MAX, &st);

    printf("rate=%.0f conns=%u seconds=%.1f requests=%zu ok=%zu other=%zu "
           "first_other=%d none=%zu not_sent=%zu achieved=%.0f "
           "p50_ms=%d p99_ms=%d max_ms=%d conns_max=%u conns_opened=%u\n",
           conf.rate, conf.conns, res.elapsed_ms / 1000.0, st.requests,
           st.ok, st.other, st.first_other, st.none, st.not_sent,
           res.elapsed_ms ? st.ok * 1000.0 / res.elapsed_ms : 0.0,
           st.p50_ms, st.p99_ms, st.max_ms, res.conns_max,
           res.conns_opened);

    xf_load_free(&res);

    return 0;
}
