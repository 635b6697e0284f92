/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-abuse.c - abuse by the byte: clients that hold the decode budget
 * with a few bytes each, against a real nginx with the module.  The
 * clients are told apart by their loopback source address (127.0.0.x).
 *
 * As the other suites, no assertion depends on how long anything takes:
 * waits are bounded, and what is asserted is answers and counters.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_test.h"


#define AB_TOPIC        "events"
#define AB_DEAD_LETTER  "xflow_dead_letter"
#define AB_METRIC_MS    15000
#define AB_HELD         "xflow_decoded_inflight_bytes"
#define AB_ATTACKERS    150
#define AB_LEGIT        24


static void
ab_setup(void)
{
    xf_fixture_setup(1, 15000, AB_TOPIC, 1, AB_DEAD_LETTER, 1, NULL);
}


/* One worker, /collect reading json; extra directives per level. */
static void
ab_start(const char *http, const char *location)
{
    char  snippet[2048];

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " AB_TOPIC ";\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; %s }\n"
             "        location = /metrics { xflow_metrics; }\n"
             "        location = /health { xflow_health; }\n"
             "    }\n",
             http, location);

    xf_fixture_nginx(snippet, 1);
}


static uint64_t
ab_metric(const char *series)
{
    char      *text;
    uint64_t   v;

    text = xf_metrics_scrape(nginx);
    v = xf_metrics_value(text, series);
    free(text);

    return v;
}


/* A gzip batch of n small events. */
static u_char *
ab_batch(int n, size_t *len)
{
    int      i;
    char    *json, *p;
    u_char  *gz;

    json = malloc(n * 80 + 2);
    ck_assert_ptr_nonnull(json);

    p = json;
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"event\":\"legit\",\"distinct_id\":\"u%d\"}",
                     i ? "," : "", i);
    }

    *p++ = ']';

    gz = xf_compress(XF_TEST_GZIP, json, p - json, len);
    free(json);

    return gz;
}


/*
 * One upload from 127.0.0.<host>, on its own connection: its status and
 * body's error code (in *body, caller frees).
 */
static long
ab_upload(int host, const u_char *gz, size_t len, char **body)
{
    int            fd;
    long           status;
    char          *req;
    size_t         rlen;
    xf_raw_resp_t  resp;

    static const char *const  hdrs[] = {
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        "Connection: close",
        NULL
    };

    req = xf_raw_build("POST", "/collect", hdrs, gz, len, -1, &rlen);

    fd = xf_raw_connect_from(nginx->port, host);
    xf_raw_write_all(fd, req, rlen);
    xf_raw_answer(fd, 0, &resp);
    close(fd);
    free(req);

    status = resp.status;
    *body = strdup(resp.body);
    xf_raw_resp_free(&resp);

    return status;
}


/*
 * Item 1 of the audit: silent connections from one address each hold
 * decoded memory for a few bytes sent; 150 of them held the worker's
 * whole xflow_max_decoded_in_flight and every other client got 503.
 * Half send a gzip prefix that decodes to almost xflow_max_decoded and
 * stall (over 64 KiB of it: a smaller gzip body is held compressed until
 * its end, and holds nothing decoded), half a zstd frame header (a 1 MiB
 * window, allowed) and stall.
 * Their address may hold only its share (4 x 8m + 2 x 1m here): uploads
 * from other addresses are all answered 2xx, and the stalled bodies,
 * holding hundreds of times what they sent, are closed after
 * xflow_hoard_timeout, long before client_body_timeout.
 */
START_TEST(test_silent_clients)
{
    int        fd[AB_ATTACKERS], i, ok;
    char       head[512], *body;
    u_char    *bomb, *gz;
    size_t     bomblen, gzlen;
    int64_t    deadline;
    uint64_t   held, refused;

    static const u_char  zhdr[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50 };

    ab_start("    xflow_max_decoded_in_flight 64m;",
             "xflow_max_decoded 8m; xflow_hoard_timeout 2s;"
             " client_body_timeout 120s;");

    bomb = xf_gzip_streamed_bomb((size_t) 15 << 19, &bomblen);

    for (i = 0; i < AB_ATTACKERS; i++) {
        fd[i] = xf_raw_connect_from(nginx->port, 2);

        snprintf(head, sizeof(head),
                 "POST /collect HTTP/1.1\r\nHost: localhost\r\n"
                 "Content-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                 i % 2 ? "zstd" : "gzip",
                 (i % 2 ? sizeof(zhdr) : bomblen) + 4096);

        xf_raw_write_all(fd[i], head, strlen(head));

        if (i % 2) {
            xf_raw_write_all(fd[i], zhdr, sizeof(zhdr));
        } else {
            xf_raw_write_all(fd[i], bomb, bomblen);
        }
    }

    free(bomb);

    /* until the worker has read them all: each is held or refused */
    deadline = xf_now_ms() + AB_METRIC_MS;
    do {
        held = ab_metric(AB_HELD);
        refused = ab_metric("xflow_decoded_inflight_refused_total");
        xf_sleep_ms(100);
    } while (refused < AB_ATTACKERS / 2 && xf_now_ms() < deadline);

    fprintf(stderr, "silent clients: %llu bytes held, %llu refused\n",
            (unsigned long long) held, (unsigned long long) refused);

    /* one address holds no more than its share */
    ck_assert_uint_le(held, (uint64_t) 34 << 20);

    gz = ab_batch(200, &gzlen);
    ok = 0;

    for (i = 0; i < AB_LEGIT; i++) {
        if (ab_upload(3 + i % 4, gz, gzlen, &body) == 200) {
            ok++;
        } else {
            fprintf(stderr, "legit upload %d: %s\n", i, body);
        }

        free(body);
    }

    free(gz);
    ck_assert_int_eq(ok, AB_LEGIT);

    /* the stalled bodies are let go at the short timeout */
    deadline = xf_now_ms() + AB_METRIC_MS;
    do {
        held = ab_metric(AB_HELD);
        if (held == 0) {
            break;
        }
        xf_sleep_ms(200);
    } while (xf_now_ms() < deadline);

    ck_assert_uint_eq(held, 0);

    for (i = 0; i < AB_ATTACKERS; i++) {
        close(fd[i]);
    }
}
END_TEST


/* A gzip batch of n events of pad bytes each, all alike: ~1000:1. */
static u_char *
ab_flood(int n, size_t pad, size_t *len, size_t *decoded)
{
    int      i;
    char    *json, *p;
    u_char  *gz;

    json = malloc(n * (pad + 80) + 2);
    ck_assert_ptr_nonnull(json);

    p = json;
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"event\":\"flood\",\"distinct_id\":\"f\","
                     "\"pad\":\"", i ? "," : "");
        memset(p, 'a', pad);
        p += pad;
        p += sprintf(p, "\"}");
    }

    *p++ = ']';
    *decoded = p - json;

    gz = xf_compress(XF_TEST_GZIP, json, p - json, len);
    free(json);

    return gz;
}


/*
 * Item 2 of the audit: one client looping on batches that compress
 * 1000:1 put gigabytes into Kafka.  A byte zone keyed by address
 * (256 KiB/s, a 1 MiB burst) gives it its limit status; what it got
 * into Kafka stays within burst + rate x time (plus the envelopes);
 * another address's uploads and /health are answered 200 meanwhile.
 */
START_TEST(test_byte_budget)
{
    int              i, ok, limited, legit_ok, legit;
    char            *body, url[128];
    u_char          *flood, *gz;
    size_t           flen, fdec, gzlen, kbytes, j;
    int64_t          start, elapsed;
    uint64_t         budget;
    xf_http_resp_t   resp;
    xf_kafka_msgs_t  msgs;

    ab_start("    xflow_limit_zone bytes:1m key=$binary_remote_addr "
             "rate=256kB/s burst=1m;",
             "xflow_limit bytes;");

    flood = ab_flood(50, 20000, &flen, &fdec);
    gz = ab_batch(20, &gzlen);
    fprintf(stderr, "flood: %zu bytes sent, %zu decoded\n", flen, fdec);

    ok = 0;
    limited = 0;
    legit = 0;
    legit_ok = 0;
    start = xf_now_ms();

    for (i = 0; xf_now_ms() - start < 4000; i++) {
        switch (ab_upload(2, flood, flen, &body)) {
        case 200:
            ok++;
            break;
        case 429:
        case 503:
            ck_assert_msg(strstr(body, "\"error\":\"rate_limited\"")
                          != NULL, "%s", body);
            limited++;
            break;
        default:
            ck_abort_msg("flood: %s", body);
        }

        free(body);

        if (i % 4 == 0) {
            legit++;
            legit_ok += ab_upload(3, gz, gzlen, &body) == 200;
            free(body);
        }
    }

    elapsed = xf_now_ms() - start;
    free(flood);
    free(gz);

    fprintf(stderr, "flood: %d accepted, %d limited in %lld ms; "
            "legit %d of %d\n", ok, limited, (long long) elapsed,
            legit_ok, legit);

    ck_assert_int_gt(limited, 0);
    ck_assert_int_eq(legit_ok, legit);

    /* the bucket: burst + rate x time, and one request over at most */
    budget = (1 << 20) + (uint64_t) (256 << 10) * (elapsed + 999) / 1000
             + fdec;
    ck_assert_uint_le((uint64_t) ok * fdec, budget);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, AB_TOPIC, (size_t) ok * 50 + legit * 20,
                     AB_METRIC_MS, 500, &msgs);

    kbytes = 0;
    for (j = 0; j < msgs.n; j++) {
        if (xf_memstr(msgs.msgs[j].value, msgs.msgs[j].value_len,
                      "\"flood\"") != NULL)
        {
            kbytes += msgs.msgs[j].value_len;
        }
    }

    fprintf(stderr, "flood: %zu bytes in Kafka, budget %llu\n", kbytes,
            (unsigned long long) budget);

    /* envelopes add a few hundred bytes to each 20 KB event */
    ck_assert_uint_le(kbytes, budget + budget / 20);
    ck_assert_uint_eq(msgs.n, (size_t) ok * 50 + legit * 20);
    xf_kafka_msgs_free(&msgs);

    snprintf(url, sizeof(url), "%s/health", nginx->url);
    ck_assert_int_eq(xf_http_request("GET", url, NULL, NULL, 0, &resp), 200);
    xf_http_resp_free(&resp);
}
END_TEST


/*
 * xflow_max_decode_ratio: past xflow_decode_ratio_from, a body that
 * decodes to more than the ratio times what it sent is refused (413)
 * while it streams; an ordinary batch passes.
 */
START_TEST(test_decode_ratio)
{
    char    *body;
    u_char  *flood, *gz;
    size_t   flen, fdec, gzlen;

    ab_start("", "xflow_max_decode_ratio 100; xflow_decode_ratio_from 256k;");

    flood = ab_flood(50, 20000, &flen, &fdec);
    ck_assert_int_eq(ab_upload(2, flood, flen, &body), 413);
    ck_assert_msg(strstr(body, "too_large") != NULL, "%s", body);
    free(body);
    free(flood);

    /* small, however well it compresses */
    flood = ab_flood(5, 20000, &flen, &fdec);
    ck_assert_int_eq(ab_upload(2, flood, flen, &body), 200);
    free(body);
    free(flood);

    gz = ab_batch(200, &gzlen);
    ck_assert_int_eq(ab_upload(2, gz, gzlen, &body), 200);
    free(body);
    free(gz);
}
END_TEST


/*
 * nginx with 64 hash rules (p.a0 .. p.a63) on /collect: each turns a
 * 1-byte value into a 24-byte reference.  http and location are extra
 * directives.
 */
static void
ab_start_strip(const char *http, const char *location)
{
    int     i;
    char   *rules, *q, snippet[8192], key[256];

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    snprintf(key, sizeof(key), "%s/hash.key", nginx->dir);
    xf_write_file(key, "0123456789abcdef0123456789abcdef\n", 0400);

    rules = malloc(64 * 48);
    ck_assert_ptr_nonnull(rules);
    q = rules;

    for (i = 0; i < 64; i++) {
        q += sprintf(q, "    xflow_strip_field p.a%d hash;\n", i);
    }

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " AB_TOPIC ";\n"
             "    xflow_hash_key hash.key;\n"
             "%s%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; %s }\n"
             "        location = /metrics { xflow_metrics; }\n"
             "    }\n",
             rules, http, location);
    free(rules);

    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);
}


/* An event whose 64 members p.a0 .. p.a63 are all 1: ~500 bytes. */
static char *
ab_growing_event(char *p, int n)
{
    int  i;

    p += sprintf(p, "{\"event\":\"grow\",\"distinct_id\":\"g%d\",\"p\":{",
                 n);

    for (i = 0; i < 64; i++) {
        p += sprintf(p, "%s\"a%d\":1", i ? "," : "", i);
    }

    return p + sprintf(p, "}}");
}


/*
 * Item 3 of the audit, the size: xflow_max_event_size is checked as
 * sent, and 64 hashed members grow a 500-byte event to 2k.  The
 * stripped event is over the limit: it is dead-lettered
 * (event_too_large), not sent.
 */
START_TEST(test_strip_growth_dead_letter)
{
    char             body[4096], *end, url[128];
    xf_http_resp_t   resp;
    xf_kafka_msgs_t  msgs;
    static const char *const  hdrs[] = {
        "Content-Type: application/json", NULL
    };

    ab_start_strip("    xflow_max_event_size 1k;", "");

    end = ab_growing_event(body, 0);
    ck_assert_uint_lt(end - body, 1024);

    snprintf(url, sizeof(url), "%s/collect", nginx->url);
    ck_assert_int_eq(xf_http_request("POST", url, hdrs, body, end - body,
                                     &resp), 200);
    ck_assert_msg(strstr(resp.body, "\"accepted\":0,\"rejected\":1")
                  != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, AB_DEAD_LETTER, 1, AB_METRIC_MS, 500, &msgs);
    ck_assert_msg(xf_memstr(msgs.msgs[0].value, msgs.msgs[0].value_len,
                            "event_too_large") != NULL, "%.*s",
                  (int) msgs.msgs[0].value_len, msgs.msgs[0].value);
    xf_kafka_msgs_free(&msgs);

    ck_assert_int_eq(xf_kafka_count(kafka, AB_TOPIC), 0);
}
END_TEST


static long
ab_rss_kb(pid_t pid, const char *field)
{
    long   kb;
    char   path[64], line[256];
    FILE  *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);

    kb = -1;

    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, strlen(field)) == 0) {
            kb = strtol(line + strlen(field) + 1, NULL, 10);
            break;
        }
    }

    fclose(f);
    ck_assert_int_ge(kb, 0);

    return kb;
}


#define AB_STRIP_CLIENTS   24
#define AB_STRIP_EVENTS    1000
#define AB_INFLIGHT_MB     32
#define AB_RSS_SLACK_MB    40


/*
 * Item 3 of the audit, the memory: stripped copies and rendered
 * envelopes are held in the bytes in flight until the batch is freed.
 * 24 clients at once each send 1000 events that triple when stripped,
 * while Kafka takes 2 s to acknowledge (ack=kafka: every request holds
 * its memory meanwhile).  The worker's peak RSS grows by at most
 * xflow_max_decoded_in_flight (32m) + 40 MiB (one request's decoded
 * body, stripped copies and batch: ~9 MiB; librdkafka's queue and
 * allocator slack); the requests that do not fit are refused with the
 * retry status (decoded_in_flight), the others are answered 200.
 */
START_TEST(test_strip_memory)
{
    int             fd[AB_STRIP_CLIENTS], i, ok, refused;
    char           *json, *p, *req;
    long            base, peak;
    pid_t           pids[2];
    u_char         *gz;
    size_t          gzlen, rlen;
    xf_raw_resp_t   resp;

    static const char *const  hdrs[] = {
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        NULL
    };

    ab_start_strip("    xflow_max_decoded_in_flight 32m;", "");
    ck_assert_uint_eq(xf_nginx_workers(nginx, pids, 2), 1);

    json = malloc(AB_STRIP_EVENTS * 800);
    ck_assert_ptr_nonnull(json);
    p = json;
    *p++ = '[';

    for (i = 0; i < AB_STRIP_EVENTS; i++) {
        if (i) {
            *p++ = ',';
        }
        p = ab_growing_event(p, i);
    }

    *p++ = ']';

    gz = xf_compress(XF_TEST_GZIP, json, p - json, &gzlen);
    fprintf(stderr, "strip: %zu bytes decoded, %zu sent\n",
            (size_t) (p - json), gzlen);
    free(json);

    req = xf_raw_build("POST", "/collect", hdrs, gz, gzlen, -1, &rlen);
    free(gz);

    /* one request first: what the worker holds when idle */
    fd[0] = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd[0], req, rlen);
    xf_raw_answer(fd[0], 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    xf_raw_resp_free(&resp);
    close(fd[0]);

    base = ab_rss_kb(pids[0], "VmRSS:");

    xf_kafka_set_rtt(kafka, 2000);

    for (i = 0; i < AB_STRIP_CLIENTS; i++) {
        fd[i] = xf_raw_connect(nginx->port);
        xf_raw_write_all(fd[i], req, rlen);
    }

    ok = 0;
    refused = 0;

    for (i = 0; i < AB_STRIP_CLIENTS; i++) {
        xf_raw_answer(fd[i], 0, &resp);

        if (resp.status == 200) {
            ok++;
        } else {
            ck_assert_msg(strstr(resp.body, "decoded_in_flight") != NULL,
                          "%ld %s", resp.status, resp.body);
            refused++;
        }

        xf_raw_resp_free(&resp);
        close(fd[i]);
    }

    xf_kafka_set_rtt(kafka, 0);
    free(req);

    peak = ab_rss_kb(pids[0], "VmHWM:");

    fprintf(stderr, "strip: %d answered 200, %d refused; RSS %ld kB "
            "before, peak %ld kB\n", ok, refused, base, peak);

    ck_assert_int_gt(ok, 0);

    /*
     * Under ASan freed memory waits in its quarantine and every block
     * has redzones: RSS says nothing of what xflow holds there, so the
     * bound is the plain run's (the budget is still enforced above:
     * the refusals).
     */
    if (getenv("XFLOW_ASAN") == NULL) {
        ck_assert_int_le(peak - base,
                         (long) (AB_INFLIGHT_MB + AB_RSS_SLACK_MB) * 1024);
    }
}
END_TEST


/*
 * Expect: 100-continue with a Content-Length over xflow_max_body: the
 * answer is the 413 at once, never a "100 Continue" that invites the
 * client to send what will be refused.
 */
START_TEST(test_expect_over_limit)
{
    int            fd;
    const char    *req;
    xf_raw_resp_t  resp;

    ab_start("", "");

    req = "POST /collect HTTP/1.1\r\nHost: localhost\r\n"
          "Content-Type: application/json\r\n"
          "Expect: 100-continue\r\n"
          "Content-Length: 5000000\r\n\r\n";

    fd = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd, req, strlen(req));
    xf_raw_answer(fd, 0, &resp);
    close(fd);

    ck_assert_msg(resp.status == 413, "%ld %s", resp.status, resp.headers);
    xf_raw_resp_free(&resp);
}
END_TEST


static void
ab_setup_ua(void)
{
    xf_fixture_setup(1, 15000, AB_TOPIC, 1, AB_DEAD_LETTER, 1, "xflow.ua", 1,
                     NULL);
}


static void
ab_post_ua(const char *ua, const char *body, long status)
{
    char             url[128], uah[128];
    const char      *hdrs[3];
    xf_http_resp_t   resp;

    snprintf(url, sizeof(url), "%s/collect", nginx->url);
    snprintf(uah, sizeof(uah), "User-Agent: %s", ua);
    hdrs[0] = "Content-Type: application/json";
    hdrs[1] = uah;
    hdrs[2] = NULL;

    ck_assert_int_eq(xf_http_request("POST", url, hdrs, body, strlen(body),
                                     &resp), status);
    xf_http_resp_free(&resp);
}


/*
 * A request refused whole (not JSON) does not publish its User-Agent to
 * the dictionary: anyone could fill it with refused uploads.  The same
 * User-Agent with an accepted event is published, once.
 */
START_TEST(test_rejected_ua_unpublished)
{
    size_t           i, evil;
    char             key[256], snippet[1024];
    xf_kafka_msgs_t  msgs;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    snprintf(key, sizeof(key), "%s/hash.key", nginx->dir);
    xf_write_file(key, "0123456789abcdef0123456789abcdef\n", 0400);

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " AB_TOPIC ";\n"
             "    xflow_hash_key hash.key;\n"
             "    xflow_ua_dictionary xflow.ua ttl=1h;\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; }\n"
             "    }\n");
    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);

    ab_post_ua("Refused/1.0", "{not json", 400);
    ab_post_ua("Refused/2.0", "[{\"event\":1}", 400);
    ab_post_ua("Accepted/1.0",
               "{\"event\":\"e\",\"distinct_id\":\"u\"}", 200);
    ab_post_ua("Refused/1.0",
               "{\"event\":\"e\",\"distinct_id\":\"u\"}", 200);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, "xflow.ua", 2, AB_METRIC_MS, 1000, &msgs);

    evil = 0;
    for (i = 0; i < msgs.n; i++) {
        evil += xf_memstr(msgs.msgs[i].value, msgs.msgs[i].value_len,
                          "Refused/2.0") != NULL;
    }

    ck_assert_uint_eq(msgs.n, 2);
    ck_assert_uint_eq(evil, 0);
    xf_kafka_msgs_free(&msgs);
}
END_TEST


/*
 * A requests zone keyed on $xflow_app would never limit: requests are
 * counted before the body names its app.  nginx -t refuses it, and
 * takes the same key with bytes; bad byte rates are refused too.
 */
START_TEST(test_zone_config)
{
    char        *out, snippet[1024];
    size_t       i;
    xf_nginx_t  *n;

    /* a zone's rate, and what nginx -t says of it (NULL: it passes) */
    static const char  *cases[][2] = {
        { "rate=10r/s", "would never limit" },
        { "rate=10kb/s", "invalid rate" },
        { "rate=10ke/s", "invalid rate" },
        { "rate=10MB/s burst=64m", NULL },
    };

    n = xf_nginx_new("", kafka->bootstraps, 1);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(snippet, sizeof(snippet),
                 "    xflow_kafka_brokers @BROKERS@;\n"
                 "    xflow_topic " AB_TOPIC ";\n"
                 "    xflow_limit_zone z:1m key=$xflow_app %s;\n"
                 "    server {\n"
                 "        listen 127.0.0.1:@PORT@;\n"
                 "        location /collect { xflow_collect json; "
                 "xflow_limit z; }\n"
                 "    }\n", cases[i][0]);

        if (cases[i][1] != NULL) {
            out = xf_nginx_refuses(n, snippet, kafka->bootstraps,
                                   cases[i][1]);

        } else {
            xf_nginx_write_conf(n, snippet, kafka->bootstraps);
            ck_assert_msg(xf_nginx_test_config(n, &out) == 0, "%s: %s",
                          cases[i][0], out);
        }

        free(out);
    }

    xf_nginx_free(n);
}
END_TEST


Suite *
make_abuse_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("abuse");

    tc = xf_tcase(s, "budget", 120, ab_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_silent_clients);
    tcase_add_test(tc, test_byte_budget);
    tcase_add_test(tc, test_decode_ratio);
    tcase_add_test(tc, test_strip_growth_dead_letter);
    tcase_add_test(tc, test_strip_memory);
    tcase_add_test(tc, test_expect_over_limit);
    tcase_add_test(tc, test_zone_config);

    tc = xf_tcase(s, "dictionary", 60, ab_setup_ua, xf_fixture_teardown);
    tcase_add_test(tc, test_rejected_ua_unpublished);

    return s;
}
