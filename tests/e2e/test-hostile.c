/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-hostile.c - hostile and broken uploads against a real nginx with
 * the module: compression bombs, corrupt and truncated streams, bad
 * base64 and forms, invalid UTF-8, lone surrogates, deep nesting, huge
 * and short bodies, NUL bytes, limits.
 *
 * Every test asserts
 *
 *   - the answer: status and the JSON error code;
 *   - the counters of /metrics that must move, by their exact delta
 *     (scraped before and after; a request is counted when nginx logs it,
 *     which for a connection nginx keeps reading may be only once the
 *     client closed it, so the "after" scrape is repeated until the
 *     counter moved, bounded, then compared exactly);
 *   - what reached Kafka: the valid events of a batch whose bad part is
 *     per event, nothing of a refused request (its one dead letter aside),
 *     and a valid request sent afterwards arrives: the worker survived.
 *
 * No assertion depends on how long anything takes; "without reading it
 * all" is asserted in bytes sent, memory in the worker's VmRSS.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "xf_test.h"


#define HS_TOPIC        "events"
#define HS_DEAD_LETTER  "xflow_dead_letter"
#define HS_CONSUME_MS   10000
#define HS_SETTLE_MS    1000
#define HS_METRIC_MS    10000       /* bound on waiting for a counter */
#define HS_IO_MS        15000       /* bound on one raw exchange */
#define HS_SENTINEL     "{\"event\":\"sentinel\",\"distinct_id\":\"s1\"}"
#define HS_MAX_RSS_KB   (200 * 1024)

#define HS_SERIES_EVENTS(fmt, res)                                        \
    "xflow_events_total{format=\"" fmt "\",result=\"" res "\"}"
#define HS_SERIES_DECODE(kind)                                            \
    "xflow_decode_errors_total{kind=\"" kind "\"}"
#define HS_SERIES_REJECTED(reason)                                        \
    "xflow_events_rejected_total{reason=\"" reason "\"}"
#define HS_SERIES_HTTP(fmt, code)                                         \
    "xflow_http_requests_total{format=\"" fmt "\",code=\"" code "\"}"


/* Makes the next chunk of a streamed body; 0: no more. */
typedef size_t (*hs_gen_pt)(void *data, u_char *buf, size_t cap);


static pid_t        worker;
static char        *last_headers;   /* of hs_post's last answer */


static void hs_setup(void);
static void hs_teardown(void);
static void hs_start(const char *http, const char *location);
static char *hs_url(const char *path);
static void hs_post(const char *path, const char *const *headers,
    const void *body, size_t len, long status, const char *code,
    const char *answer);
static void hs_sentinel(void);
static void hs_sentinel_arrives(const char *event);
static void hs_delta(const char *before, const char *series,
    uint64_t delta);
static size_t hs_received(const char *before);
static void hs_expect_events(const char *const *events, size_t n);
static void hs_expect_dead(const char *const *codes,
    const char *const *events, size_t n);
static void hs_check_worker(void);
static long hs_rss_kb(pid_t pid, const char *field);
static char *hs_base64(const void *p, size_t len);
static char *hs_form_b64(const char *name, const char *json);
static char *hs_form_b64_len(const char *name, const void *p, size_t len);
static size_t hs_stream(const char *path, const char *const *headers,
    hs_gen_pt gen, void *data, size_t max_total, xf_raw_resp_t *resp);


/* ------------------------------------------------------------ fixture */

static void
hs_setup(void)
{
    xf_fixture_setup(1, 15000, HS_TOPIC, 1, HS_DEAD_LETTER, 1, NULL);
    worker = 0;
}


static void
hs_teardown(void)
{
    xf_fixture_teardown();

    free(last_headers);
    last_headers = NULL;
}


/*
 * One worker; /collect reads json, /auto/ detects the format, /sa is
 * Sensors.  http and location are extra directives (may be empty).
 */
static void
hs_start(const char *http, const char *location)
{
    char   snippet[2048];
    pid_t  pids[4];

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " HS_TOPIC ";\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; %s }\n"
             "        location /auto/ { xflow_collect auto; %s }\n"
             "        location /sa { xflow_collect sensors; %s }\n"
             "        location = /metrics { xflow_metrics; }\n"
             "    }\n",
             http, location, location, location);

    xf_fixture_nginx(snippet, 1);

    ck_assert_uint_eq(xf_nginx_workers(nginx, pids, 4), 1);
    worker = pids[0];
}


static char *
hs_url(const char *path)
{
    char  *url;

    ck_assert_int_ge(asprintf(&url, "%s%s", nginx->url, path), 0);

    return url;
}


/* --------------------------------------------------------- assertions */

/*
 * POST and check the status, the error code when code is given, and the
 * whole answer when answer is given.
 */
static void
hs_post(const char *path, const char *const *headers, const void *body,
    size_t len, long status, const char *code, const char *answer)
{
    char            *url, want[96];
    xf_http_resp_t   resp;

    url = hs_url(path);
    xf_http_request("POST", url, headers, body, len, &resp);

    ck_assert_msg(resp.status == status, "POST %s (%zu bytes %.60s): status "
                  "%ld, expected %ld; body: %s", path, len,
                  (const char *) body, resp.status, status, resp.body);

    if (code != NULL) {
        snprintf(want, sizeof(want), "{\"error\":\"%s\",\"detail\":\"", code);
        ck_assert_msg(strncmp(resp.body, want, strlen(want)) == 0,
                      "POST %s (%.60s): answer %s, expected code %s", path,
                      (const char *) body, resp.body, code);
    }

    if (answer != NULL) {
        ck_assert_msg(strcmp(resp.body, answer) == 0, "POST %s: answer %s, "
                      "expected %s", path, resp.body, answer);
    }

    free(last_headers);
    last_headers = resp.headers;
    resp.headers = NULL;

    xf_http_resp_free(&resp);
    free(url);
}


static void
hs_sentinel(void)
{
    hs_post("/collect", NULL, HS_SENTINEL, sizeof(HS_SENTINEL) - 1, 200,
            NULL, "{\"accepted\":1,\"rejected\":0}");
}


/*
 * The series moved by exactly delta since before.  Scrapes until it moved
 * at least that much (bounded), then compares.
 */
static void
hs_delta(const char *before, const char *series, uint64_t delta)
{
    char      *now;
    int64_t    deadline;
    uint64_t   b, v;

    b = xf_metrics_value(before, series);
    deadline = xf_now_ms() + HS_METRIC_MS;

    for ( ;; ) {
        now = xf_metrics_scrape(nginx);
        v = xf_metrics_value(now, series);
        free(now);

        if (v - b >= delta || xf_now_ms() > deadline) {
            break;
        }

        xf_sleep_ms(50);
    }

    ck_assert_msg(v - b == delta, "%s moved by %llu, expected %llu", series,
                  (unsigned long long) (v - b), (unsigned long long) delta);
}


/* Request body bytes the workers read since before. */
static size_t
hs_received(const char *before)
{
    char      *now;
    uint64_t   v;

    now = xf_metrics_scrape(nginx);
    v = xf_metrics_value(now, "xflow_received_bytes_total")
        - xf_metrics_value(before, "xflow_received_bytes_total");
    free(now);

    return (size_t) v;
}


/*
 * The events topic holds exactly these events (byte for byte, in this
 * order: one partition), the sentinel included where the test sent it.
 */
static void
hs_expect_events(const char *const *events, size_t n)
{
    char             *want;
    size_t            i, len;
    xf_kafka_msgs_t   msgs;

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, HS_TOPIC, n, HS_CONSUME_MS, HS_SETTLE_MS, &msgs);
    ck_assert_uint_eq(msgs.n, n);

    for (i = 0; i < n; i++) {
        ck_assert_int_ge(asprintf(&want, ",\"event\":%s}", events[i]), 0);
        len = strlen(want);

        ck_assert_msg(msgs.msgs[i].value_len > len
                      && memcmp(msgs.msgs[i].value + msgs.msgs[i].value_len
                                - len, want, len) == 0,
                      "message %zu: %.300s, expected the event %.200s", i,
                      msgs.msgs[i].value, events[i]);
        ck_assert_msg(strncmp(msgs.msgs[i].value, "{\"v\":1,\"id\":\"", 13)
                      == 0, "message %zu: %.100s", i, msgs.msgs[i].value);
        free(want);
    }

    xf_kafka_msgs_free(&msgs);
}


/*
 * The dead-letter topic holds exactly n messages, in order, each with
 * its error code and, where events[i] is not NULL, those event bytes.
 */
static void
hs_expect_dead(const char *const *codes, const char *const *events,
    size_t n)
{
    char             *want;
    size_t            i;
    xf_kafka_msgs_t   msgs;

    memset(&msgs, 0, sizeof(msgs));

    if (n == 0) {
        ck_assert_int_eq(xf_kafka_count(kafka, HS_DEAD_LETTER), 0);
        return;
    }

    xf_kafka_consume(kafka, HS_DEAD_LETTER, n, HS_CONSUME_MS, HS_SETTLE_MS,
                     &msgs);

    for (i = 0; i < n; i++) {
        ck_assert_int_ge(asprintf(&want, "\"error\":\"%s\"", codes[i]), 0);
        ck_assert_msg(xf_memstr(msgs.msgs[i].value, msgs.msgs[i].value_len,
                                want) != NULL,
                      "dead letter %zu: %.300s, expected %s", i,
                      msgs.msgs[i].value, want);
        free(want);

        if (events != NULL && events[i] != NULL) {
            ck_assert_int_ge(asprintf(&want, ",\"event\":%s}", events[i]),
                             0);
            ck_assert_msg(xf_memstr(msgs.msgs[i].value,
                                    msgs.msgs[i].value_len, want) != NULL,
                          "dead letter %zu: %.300s, expected the event "
                          "%.200s", i, msgs.msgs[i].value, events[i]);
            free(want);
        }
    }

    xf_kafka_msgs_free(&msgs);
}


/*
 * Send the sentinel: the events topic then holds exactly event (unless
 * NULL) and the sentinel.
 */
static void
hs_sentinel_arrives(const char *event)
{
    const char  *events[2];
    size_t       n;

    hs_sentinel();

    n = 0;
    if (event != NULL) {
        events[n++] = event;
    }

    events[n++] = HS_SENTINEL;
    hs_expect_events(events, n);
}


/* The worker that started is still the only one: nothing crashed. */
static void
hs_check_worker(void)
{
    pid_t  pids[4];

    ck_assert_uint_eq(xf_nginx_workers(nginx, pids, 4), 1);
    ck_assert_msg(pids[0] == worker, "worker %d was replaced by %d",
                  (int) worker, (int) pids[0]);
}


/* VmRSS (or VmHWM, the peak) of a process, in kB. */
static long
hs_rss_kb(pid_t pid, const char *field)
{
    long   kb;
    char   path[64], line[256];
    FILE  *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));

    kb = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, strlen(field)) == 0) {
            kb = strtol(line + strlen(field), NULL, 10);
        }
    }

    fclose(f);
    ck_assert_msg(kb >= 0, "no %s in %s", field, path);

    return kb;
}


/* A 413 with the too_large error. */
static void
hs_expect_413(const xf_raw_resp_t *resp)
{
    ck_assert_msg(resp->status == 413, "status %ld: %s", resp->status,
                  resp->body);
    ck_assert_msg(strncmp(resp->body, "{\"error\":\"too_large\"", 20) == 0,
                  "answer %s", resp->body);
}


/*
 * A streamed body (what) refused with 413 after sent of its max bytes,
 * before its end, and the connection closed.
 */
static void
hs_expect_cut(const char *what, size_t sent, size_t max,
    const xf_raw_resp_t *resp)
{
    fprintf(stderr, "%s: %zu bytes of body sent before the answer\n", what,
            sent);

    hs_expect_413(resp);
    ck_assert_uint_lt(sent, max);
    ck_assert_msg(resp->closed, "the connection stayed open after 413: %s",
                  resp->headers);
}


/* ------------------------------------------------------------- bodies */

static char *
hs_base64(const void *p, size_t len)
{
    char          *out, *o;
    size_t         i;
    uint32_t       v;
    const u_char  *s = p;

    static const char  b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    out = malloc((len + 2) / 3 * 4 + 1);
    ck_assert_ptr_nonnull(out);

    for (i = 0, o = out; i < len; i += 3) {
        v = (uint32_t) s[i] << 16;
        v |= (i + 1 < len) ? (uint32_t) s[i + 1] << 8 : 0;
        v |= (i + 2 < len) ? (uint32_t) s[i + 2] : 0;

        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = (i + 1 < len) ? b64[(v >> 6) & 63] : '=';
        *o++ = (i + 2 < len) ? b64[v & 63] : '=';
    }

    *o = '\0';

    return out;
}


/* name=<percent-encoded base64 of json>, as the Sensors SDKs send it. */
static char *
hs_form_b64(const char *name, const char *json)
{
    return hs_form_b64_len(name, json, strlen(json));
}


static char *
hs_form_b64_len(const char *name, const void *p, size_t len)
{
    char    *b, *out, *o;
    size_t   i;

    b = hs_base64(p, len);

    out = malloc(strlen(name) + 1 + strlen(b) * 3 + 1);
    ck_assert_ptr_nonnull(out);

    o = out + sprintf(out, "%s=", name);

    for (i = 0; b[i] != '\0'; i++) {
        switch (b[i]) {
        case '+':
            o += sprintf(o, "%%2B");
            break;
        case '/':
            o += sprintf(o, "%%2F");
            break;
        case '=':
            o += sprintf(o, "%%3D");
            break;
        default:
            *o++ = b[i];
        }
    }

    *o = '\0';
    free(b);

    return out;
}


/*
 * POST a chunked body that gen makes, chunk by chunk, until the server
 * answers, max_total body bytes were sent, or the server stops taking
 * them; then read the answer.  Returns the body bytes sent.
 */
static size_t
hs_stream(const char *path, const char *const *headers, hs_gen_pt gen,
    void *data, size_t max_total, xf_raw_resp_t *resp)
{
    int                 fd, answered;
    char                head[1024], size[32];
    u_char             *chunk;
    size_t              n, total, off, len, cap;
    ssize_t             w;
    struct pollfd       pfd;
    const char *const  *h;

    cap = 64 * 1024;
    chunk = malloc(cap + 64);
    ck_assert_ptr_nonnull(chunk);

    fd = xf_raw_connect(nginx->port);

    n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: localhost\r\n"
                 "Transfer-Encoding: chunked\r\n", path);
    for (h = headers; h != NULL && *h != NULL; h++) {
        n += snprintf(head + n, sizeof(head) - n, "%s\r\n", *h);
    }
    n += snprintf(head + n, sizeof(head) - n, "\r\n");
    xf_raw_write_all(fd, head, n);

    total = 0;
    answered = 0;

    while (!answered && total < max_total) {
        len = gen(data, chunk + 16, cap - 16);
        if (len == 0) {
            break;
        }

        /* "<hex>\r\n" right before the data, "\r\n" after it */
        n = snprintf(size, sizeof(size), "%zx\r\n", len);
        memcpy(chunk + 16 - n, size, n);
        memcpy(chunk + 16 + len, "\r\n", 2);

        off = 16 - n;
        len += n + 2;

        while (len > 0) {
            pfd.fd = fd;
            pfd.events = POLLIN | POLLOUT;

            if (poll(&pfd, 1, HS_IO_MS) <= 0) {
                ck_abort_msg("the server neither reads nor answers");
            }

            if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
                answered = 1;
                break;
            }

            w = send(fd, chunk + off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w == -1) {
                if (errno == EAGAIN || errno == EINTR) {
                    continue;
                }

                answered = 1;
                break;
            }

            off += w;
            len -= w;
            total += w;
        }
    }

    if (!answered) {
        (void) send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
    }

    xf_raw_answer(fd, 1, resp);

    close(fd);
    free(chunk);

    return total;
}


/* ------------------------------------------------- broken compression */

typedef enum {
    HS_CUT_HALF,                    /* keep the first half */
    HS_CUT_TRAILER,                 /* drop the last 4 bytes */
    HS_FLIP_LAST,                   /* flip the last byte (CRC, Adler-32) */
    HS_FLIP_MAGIC,                  /* flip a bit of the 4th byte */
    HS_FRAME_RESERVED,              /* zstd: set the reserved header bit */
    HS_NOT_COMPRESSED               /* the plain text, labelled encoded */
} hs_mutation_t;

typedef struct {
    const char       *name;
    xf_test_codec_t   codec;
    hs_mutation_t     mutation;
    const char       *encoding;     /* Content-Encoding line, NULL: sniffed */
    const char       *code;
} hs_broken_t;

static const hs_broken_t  broken_gzip[] = {
    { "gzip cut in half", XF_TEST_GZIP, HS_CUT_HALF,
      "Content-Encoding: gzip", "truncated_encoding" },
    { "gzip without its trailer", XF_TEST_GZIP, HS_CUT_TRAILER,
      "Content-Encoding: gzip", "truncated_encoding" },
    { "gzip cut in half, sniffed", XF_TEST_GZIP, HS_CUT_HALF, NULL,
      "truncated_encoding" },
    { "gzip with a bad ISIZE", XF_TEST_GZIP, HS_FLIP_LAST,
      "Content-Encoding: gzip", "corrupt_encoding" },
    { "plain text said to be gzip", XF_TEST_GZIP, HS_NOT_COMPRESSED,
      "Content-Encoding: gzip", "corrupt_encoding" },
};

static const hs_broken_t  broken_zstd[] = {
    { "zstd cut in half", XF_TEST_ZSTD, HS_CUT_HALF,
      "Content-Encoding: zstd", "truncated_encoding" },
    { "zstd cut in half, sniffed", XF_TEST_ZSTD, HS_CUT_HALF, NULL,
      "truncated_encoding" },
    { "zstd with a bad magic number", XF_TEST_ZSTD, HS_FLIP_MAGIC,
      "Content-Encoding: zstd", "corrupt_encoding" },
    { "zstd with the reserved header bit set", XF_TEST_ZSTD,
      HS_FRAME_RESERVED, "Content-Encoding: zstd", "corrupt_encoding" },
    { "plain text said to be zstd", XF_TEST_ZSTD, HS_NOT_COMPRESSED,
      "Content-Encoding: zstd", "corrupt_encoding" },
};

static const hs_broken_t  broken_deflate[] = {
    { "zlib deflate cut in half", XF_TEST_ZLIB, HS_CUT_HALF,
      "Content-Encoding: deflate", "truncated_encoding" },
    { "zlib deflate with a bad Adler-32", XF_TEST_ZLIB, HS_FLIP_LAST,
      "Content-Encoding: deflate", "corrupt_encoding" },
    { "raw deflate cut in half", XF_TEST_RAW_DEFLATE, HS_CUT_HALF,
      "Content-Encoding: deflate", "truncated_encoding" },
    { "plain text said to be deflate", XF_TEST_ZLIB, HS_NOT_COMPRESSED,
      "Content-Encoding: deflate", "corrupt_encoding" },
};


/*
 * Each broken stream: 400 with its code, one decode error of its kind,
 * one rejected request, one dead letter holding the bytes as they came
 * (base64) and what the request was; no event; then a valid upload
 * arrives.
 */
static void
hs_broken(const hs_broken_t *cases, size_t n)
{
    char              *plain, *before, *events[40], series[128];
    u_char            *body;
    size_t             i, k, len;
    const char        *hdrs[3], *codes[8];
    xf_kafka_msgs_t    dl;

    hs_start("", "");

    for (k = 0; k < 40; k++) {
        ck_assert_int_ge(asprintf(&events[k], "{\"event\":\"e%zu\","
                                  "\"distinct_id\":\"u%zu\",\"n\":%zu}",
                                  k, k % 3, k * 7919), 0);
    }

    plain = xf_join((const char *const *) events, 40, "[", ",", "]");

    for (i = 0; i < n; i++) {
        fprintf(stderr, "broken encoding: %s\n", cases[i].name);

        if (cases[i].mutation == HS_NOT_COMPRESSED) {
            body = (u_char *) strdup(plain);
            len = strlen(plain);

        } else {
            body = xf_compress(cases[i].codec, plain, strlen(plain), &len);
        }

        switch (cases[i].mutation) {
        case HS_CUT_HALF:
            len /= 2;
            break;
        case HS_CUT_TRAILER:
            len -= 4;
            break;
        case HS_FLIP_LAST:
            body[len - 1] ^= 0x5a;
            break;
        case HS_FLIP_MAGIC:
            body[3] ^= 0x01;
            break;
        case HS_FRAME_RESERVED:
            body[4] |= 0x08;
            break;
        case HS_NOT_COMPRESSED:
            break;
        }

        hdrs[0] = "Content-Type: application/json";
        hdrs[1] = cases[i].encoding;
        hdrs[2] = NULL;

        before = xf_metrics_scrape(nginx);

        hs_post("/collect", hdrs, body, len, 400, cases[i].code, NULL);

        snprintf(series, sizeof(series), "xflow_decode_errors_total{kind="
                 "\"%s\"}", cases[i].code);
        hs_delta(before, series, 1);
        hs_delta(before, HS_SERIES_HTTP("json", "400"), 1);
        hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 0);

        codes[i] = cases[i].code;

        free(before);
        free(body);
    }

    /* one dead letter per request, with the request and its raw bytes */
    memset(&dl, 0, sizeof(dl));
    xf_kafka_consume(kafka, HS_DEAD_LETTER, n, HS_CONSUME_MS, HS_SETTLE_MS,
                     &dl);

    for (i = 0; i < n; i++) {
        /* plain JSON said to be compressed is held whole when small
         * (the decoder finds out at its end): as it came, it is JSON */
        ck_assert_msg(xf_memstr(dl.msgs[i].value, dl.msgs[i].value_len,
                                "\"request\":{\"method\":\"POST\","
                                "\"uri\":\"/collect\"") != NULL
                      && (xf_memstr(dl.msgs[i].value, dl.msgs[i].value_len,
                                    "\"raw\":\"base64\",\"event\":\"")
                          != NULL
                          || (cases[i].mutation == HS_NOT_COMPRESSED
                              && xf_memstr(dl.msgs[i].value,
                                           dl.msgs[i].value_len,
                                           "\"event\":[{\"event\":\"e0\"")
                                 != NULL)),
                      "dead letter %zu: %.300s", i, dl.msgs[i].value);
    }

    xf_kafka_msgs_free(&dl);
    hs_expect_dead(codes, NULL, n);

    hs_sentinel_arrives(NULL);
    hs_check_worker();

    for (k = 0; k < 40; k++) {
        free(events[k]);
    }

    free(plain);
}


START_TEST(test_broken_gzip)
{
    hs_broken(broken_gzip, sizeof(broken_gzip) / sizeof(broken_gzip[0]));
}
END_TEST


START_TEST(test_broken_zstd)
{
    hs_broken(broken_zstd, sizeof(broken_zstd) / sizeof(broken_zstd[0]));
}
END_TEST


START_TEST(test_broken_deflate)
{
    hs_broken(broken_deflate,
              sizeof(broken_deflate) / sizeof(broken_deflate[0]));
}
END_TEST


/* ---------------------------------------------------------------- bombs */

/*
 * A zstd frame whose header claims 16 GiB of content (Frame_Content_Size,
 * not single-segment, 128 KiB window), then RLE blocks of 128 KiB of
 * spaces, 4 bytes each: 32768 to 1, the best zstd allows.
 */
#define HS_ZSTD_BLOCK   (128 * 1024)

static const u_char  hs_zstd_head[] = {
    0x28, 0xb5, 0x2f, 0xfd,                     /* magic */
    0xc0,                                       /* FCS 8 bytes */
    0x38,                                       /* window 2^17 */
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00  /* 16 GiB */
};


static size_t
hs_zstd_rle(u_char *p, size_t nblocks, int last)
{
    size_t    i;
    uint32_t  h;

    for (i = 0; i < nblocks; i++) {
        h = (HS_ZSTD_BLOCK << 3) | (1 << 1)
            | (uint32_t) (last && i == nblocks - 1);
        p[i * 4] = h & 0xff;
        p[i * 4 + 1] = (h >> 8) & 0xff;
        p[i * 4 + 2] = (h >> 16) & 0xff;
        p[i * 4 + 3] = ' ';
    }

    return nblocks * 4;
}


typedef struct {
    int        zstd;
    int        started;
    z_stream   z;
    u_char    *zeros;
    int      (*deflate_fn)(z_streamp, int);
} hs_bomb_t;


/* Endless bomb: zstd RLE blocks, or gzip of 1 MiB of zeros a call. */
static size_t
hs_bomb_gen(void *data, u_char *buf, size_t cap)
{
    size_t      n;
    hs_bomb_t  *b = data;

    n = 0;

    if (b->zstd) {
        if (!b->started) {
            memcpy(buf, hs_zstd_head, sizeof(hs_zstd_head));
            n = sizeof(hs_zstd_head);
            b->started = 1;
        }

        return n + hs_zstd_rle(buf + n, 1024, 0);
    }

    do {
        b->z.next_in = b->zeros;
        b->z.avail_in = 1 << 20;
        b->z.next_out = buf;
        b->z.avail_out = (uInt) cap;

        ck_assert_int_eq(b->deflate_fn(&b->z, Z_NO_FLUSH), Z_OK);
        ck_assert_uint_eq(b->z.avail_in, 0);

        n = cap - b->z.avail_out;
    } while (n == 0);

    return n;
}


/*
 * _i: 0 gzip, 1 zstd with Content-Length (a body of about 64 KiB and
 * 10 KiB), 2 gzip, 3 zstd streamed chunked without end (16 GiB of
 * content or more if read to the end), 4 brotli with Content-Length (64
 * MiB of zeros in a few dozen bytes).  All must end 413 too_large at
 * xflow_max_decoded (10m by default) with the worker's memory small,
 * long before the body is all sent.
 */
START_TEST(test_bomb)
{
    int                 zstd, br, streamed;
    long                rss, hwm;
    char               *before;
    void               *zeros;
    u_char             *body;
    size_t              len, sent, nblocks, received;
    hs_bomb_t           b;
    xf_raw_resp_t       resp;
    const char *const   gz_hdrs[] = { "Content-Encoding: gzip", NULL };
    const char *const   zs_hdrs[] = { "Content-Encoding: zstd", NULL };
    const char *const   br_hdrs[] = { "Content-Encoding: br", NULL };

    int  (*init2)(z_streamp, int, int, int, int, int, const char *, int);
    int  (*end)(z_streamp);

    end = NULL;
    br = _i == 4;
    zstd = !br && (_i & 1);
    streamed = _i == 2 || _i == 3;

    fprintf(stderr, "bomb: %s, %s\n", br ? "brotli" : zstd ? "zstd" : "gzip",
            streamed ? "chunked, endless" : "Content-Length");

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    if (!streamed) {
        if (br) {
            zeros = calloc(1, 64 << 20);
            ck_assert_ptr_nonnull(zeros);
            body = xf_compress(XF_TEST_BR, zeros, 64 << 20, &len);
            free(zeros);

        } else if (zstd) {
            /* 2560 blocks: 10 KiB of body, 320 MiB of content */
            nblocks = 2560;
            body = malloc(sizeof(hs_zstd_head) + nblocks * 4);
            ck_assert_ptr_nonnull(body);
            memcpy(body, hs_zstd_head, sizeof(hs_zstd_head));
            len = sizeof(hs_zstd_head)
                  + hs_zstd_rle(body + sizeof(hs_zstd_head), nblocks, 1);

        } else {
            /* 64 MiB of zeros, and a trailer that says 100 bytes */
            zeros = calloc(1, 64 << 20);
            ck_assert_ptr_nonnull(zeros);
            body = xf_compress(XF_TEST_GZIP, zeros, 64 << 20, &len);
            free(zeros);

            body[len - 4] = 100;
            body[len - 3] = 0;
            body[len - 2] = 0;
            body[len - 1] = 0;
        }

        fprintf(stderr, "bomb: %zu bytes of body\n", len);

        hs_post("/collect", br ? br_hdrs : zstd ? zs_hdrs : gz_hdrs, body,
                len, 413, "too_large", NULL);
        free(body);

    } else {
        memset(&b, 0, sizeof(b));
        b.zstd = zstd;

        if (!zstd) {
            init2 = xf_dlsym("libz.so.1", "deflateInit2_");
            b.deflate_fn = xf_dlsym("libz.so.1", "deflate");
            end = xf_dlsym("libz.so.1", "deflateEnd");

            b.zeros = calloc(1, 1 << 20);
            ck_assert_ptr_nonnull(b.zeros);
            ck_assert_int_eq(init2(&b.z, 9, Z_DEFLATED, 15 + 16, 9,
                                   Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                                   (int) sizeof(z_stream)), Z_OK);
        }

        /* 16 GiB of zeros is about 16 MiB of gzip; of zstd, 512 KiB */
        sent = hs_stream("/collect", zstd ? zs_hdrs : gz_hdrs, hs_bomb_gen,
                         &b, (size_t) 64 << 20, &resp);

        /* the answer came before the end of the body */
        hs_expect_cut("bomb", sent, (size_t) 64 << 20, &resp);

        xf_raw_resp_free(&resp);

        if (!zstd) {
            (void) end(&b.z);
            free(b.zeros);
        }
    }

    hs_delta(before, HS_SERIES_DECODE("too_large"), 1);
    hs_delta(before, HS_SERIES_HTTP("json", "413"), 1);

    /*
     * What the worker read of the body: enough to make xflow_max_decoded,
     * far less than all of it (1 MiB of the gzip streams is about 1 GiB
     * of zeros, of the zstd ones 32 GiB).
     */
    received = hs_received(before);
    fprintf(stderr, "bomb: the worker read %zu bytes of body\n", received);
    ck_assert_uint_lt(received, (size_t) 1 << 20);
    free(before);

    /* small now, and never large while it inflated */
    hs_check_worker();
    rss = hs_rss_kb(worker, "VmRSS:");
    hwm = hs_rss_kb(worker, "VmHWM:");
    fprintf(stderr, "bomb: worker VmRSS %ld kB, VmHWM %ld kB\n", rss, hwm);
    ck_assert_msg(rss < HS_MAX_RSS_KB, "worker VmRSS %ld kB", rss);
    ck_assert_msg(hwm < HS_MAX_RSS_KB, "worker VmHWM %ld kB", hwm);

    hs_sentinel_arrives(NULL);
}
END_TEST


/*
 * The nested bomb: a gzip POST /sa.gif whose data_list is base64 of
 * concatenated gzip members, 768 of 4 MiB of zeros each (3 GiB), padded
 * so that the body decodes to exactly xflow_max_decoded (10m).  The body and
 * every nested layer share that one budget: the body used all of it, so
 * nothing nested may be inflated (a used-up budget once read as "no
 * limit").  About 10 KB on the wire; refused with 413 at a cost of at
 * most xflow_max_decoded.  Then a body of 3/4 of the cap with nothing
 * nested is accepted (the body was once counted twice).
 */

#define HS_NB_CAP      (10 << 20)       /* xflow_max_decoded default */
#define HS_NB_MEMBER   (4 << 20)
#define HS_NB_MEMBERS  768

START_TEST(test_nested_bomb)
{
    long                base, hwm, slack;
    char               *before, *form, *body;
    u_char             *member, *all, *gz, *zeros;
    size_t              i, zn, gzlen, flen;
    const char         *sentinel[1];
    const char *const   gz_hdrs[] = { "Content-Encoding: gzip",
                          "Content-Type: application/x-www-form-urlencoded",
                          NULL };
    const char *const   json_hdrs[] = { "Content-Encoding: gzip", NULL };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    zeros = calloc(1, HS_NB_MEMBER);
    ck_assert_ptr_nonnull(zeros);
    member = xf_compress(XF_TEST_GZIP, zeros, HS_NB_MEMBER, &zn);
    free(zeros);

    all = malloc(zn * HS_NB_MEMBERS);
    ck_assert_ptr_nonnull(all);
    for (i = 0; i < HS_NB_MEMBERS; i++) {
        memcpy(all + i * zn, member, zn);
    }
    free(member);

    form = hs_form_b64_len("data_list", all, zn * HS_NB_MEMBERS);
    free(all);

    flen = strlen(form);
    ck_assert_uint_lt(flen + 16, HS_NB_CAP);

    /* data_list=...&gzip=1&pad=xxxx: exactly the cap once decoded */
    body = malloc(HS_NB_CAP);
    ck_assert_ptr_nonnull(body);
    memcpy(body, form, flen);
    memcpy(body + flen, "&gzip=1&pad=", 12);
    memset(body + flen + 12, 'x', HS_NB_CAP - flen - 12);
    free(form);

    gz = xf_compress(XF_TEST_GZIP, body, HS_NB_CAP, &gzlen);
    free(body);

    fprintf(stderr, "nested bomb: %zu bytes on the wire, %zu decoded, "
            "%llu nested\n", gzlen, (size_t) HS_NB_CAP,
            (unsigned long long) HS_NB_MEMBERS * HS_NB_MEMBER);
    ck_assert_uint_lt(gzlen, 64 * 1024);

    base = hs_rss_kb(worker, "VmHWM:");

    hs_post("/sa.gif?project=default", gz_hdrs, gz, gzlen, 413, "too_large",
            NULL);
    free(gz);

    hwm = hs_rss_kb(worker, "VmHWM:");
    fprintf(stderr, "nested bomb: worker VmHWM %ld kB before, %ld kB "
            "after\n", base, hwm);

    /*
     * The decoded body (the cap) and what its buffer held while it grew
     * (half of it), and nothing nested: never the 3 GiB.  Under ASan,
     * freed buffers wait in its quarantine and shadow memory comes on
     * top: twice the allowance there.
     */
    slack = getenv("XFLOW_ASAN") != NULL ? 4 : 2;
    ck_assert_msg(hwm - base <= slack * (HS_NB_CAP / 1024),
                  "the nested bomb cost %ld kB, the cap is %d kB",
                  hwm - base, HS_NB_CAP / 1024);

    hs_delta(before, HS_SERIES_HTTP("sensors", "413"), 1);
    free(before);

    hs_check_worker();

    /* 3/4 of the cap once decoded, nothing nested: accepted */
    body = malloc(HS_NB_CAP / 4 * 3);
    ck_assert_ptr_nonnull(body);
    memset(body, ' ', HS_NB_CAP / 4 * 3);
    memcpy(body, HS_SENTINEL, sizeof(HS_SENTINEL) - 1);
    gz = xf_compress(XF_TEST_GZIP, body, HS_NB_CAP / 4 * 3, &gzlen);
    free(body);
    hs_post("/collect", json_hdrs, gz, gzlen, 200, NULL,
            "{\"accepted\":1,\"rejected\":0}");
    free(gz);

    sentinel[0] = HS_SENTINEL;
    hs_expect_events(sentinel, 1);
}
END_TEST


/*
 * Slow clients after a bomb: each connection sends a gzip body of a
 * little over 64 KiB (a smaller one is held compressed until its end)
 * that decodes to 8 MiB, then stops short of its Content-Length and
 * holds its decoded bytes (a small prefix of the same, 8 KB, holds its
 * 8 KB).  Under xflow_max_decoded_in_flight 28m two of them fit in the
 * worker; the third is refused with the retry status and
 * counted, and once the first two are gone a request fits again.
 */
START_TEST(test_decoded_in_flight)
{
    int                 fd[3], i;
    char                head[512], *before, *now;
    void               *spaces;
    u_char             *gz;
    size_t              gzlen;
    int64_t             deadline;
    uint64_t            held;
    xf_raw_resp_t       resp;

    hs_start("    xflow_max_decoded_in_flight 28m;", "");
    before = xf_metrics_scrape(nginx);

    /* held compressed: nothing decoded until its end */
    spaces = malloc(8 << 20);
    ck_assert_ptr_nonnull(spaces);
    memset(spaces, ' ', 8 << 20);
    gz = xf_compress(XF_TEST_GZIP, spaces, 8 << 20, &gzlen);
    free(spaces);

    snprintf(head, sizeof(head),
             "POST /collect HTTP/1.1\r\nHost: localhost\r\n"
             "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
             gzlen + 4096);

    fd[0] = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd[0], head, strlen(head));
    xf_raw_write_all(fd[0], gz, gzlen);
    free(gz);

    deadline = xf_now_ms() + HS_METRIC_MS;
    do {
        now = xf_metrics_scrape(nginx);
        held = xf_metrics_value(now, "xflow_decoded_inflight_bytes");
        free(now);
        if (held > 0) {
            break;
        }
        xf_sleep_ms(50);
    } while (xf_now_ms() < deadline);

    fprintf(stderr, "in flight: %llu bytes held by an 8 KB prefix (%zu "
            "bytes)\n", (unsigned long long) held, gzlen);
    ck_assert_uint_gt(held, 0);
    ck_assert_uint_lt(held, (uint64_t) 64 << 10);
    close(fd[0]);

    gz = xf_gzip_streamed_bomb(8 << 20, &gzlen);

    snprintf(head, sizeof(head),
             "POST /collect HTTP/1.1\r\nHost: localhost\r\n"
             "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
             gzlen + 4096);

    for (i = 0; i < 2; i++) {
        fd[i] = xf_raw_connect(nginx->port);
        xf_raw_write_all(fd[i], head, strlen(head));
        xf_raw_write_all(fd[i], gz, gzlen);
    }

    /* until both hold their decoded bytes (bounded) */
    deadline = xf_now_ms() + HS_METRIC_MS;
    do {
        now = xf_metrics_scrape(nginx);
        held = xf_metrics_value(now, "xflow_decoded_inflight_bytes");
        free(now);
        if (held >= (uint64_t) 2 * (8 << 20)) {
            break;
        }
        xf_sleep_ms(50);
    } while (xf_now_ms() < deadline);

    fprintf(stderr, "in flight: %llu bytes held by two slow clients\n",
            (unsigned long long) held);
    ck_assert_uint_ge(held, (uint64_t) 2 * (8 << 20));
    ck_assert_uint_le(held, (uint64_t) 28 << 20);

    /* the third does not fit: the retry status, at once */
    fd[2] = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd[2], head, strlen(head));
    xf_raw_write_all(fd[2], gz, gzlen);
    xf_raw_answer(fd[2], 1, &resp);
    ck_assert_msg(resp.status == 503 || resp.status == 429,
                  "status %ld: %s", resp.status, resp.body);
    ck_assert_msg(strstr(resp.body, "\"error\":\"decoded_in_flight\"")
                  != NULL, "%s", resp.body);
    xf_raw_resp_free(&resp);
    close(fd[2]);

    hs_delta(before, "xflow_decoded_inflight_refused_total", 1);
    free(before);

    /* the slow ones leave: their bytes are given back */
    close(fd[0]);
    close(fd[1]);

    deadline = xf_now_ms() + HS_METRIC_MS;
    do {
        now = xf_metrics_scrape(nginx);
        held = xf_metrics_value(now, "xflow_decoded_inflight_bytes");
        free(now);
        if (held < (uint64_t) (8 << 20)) {
            break;
        }
        xf_sleep_ms(50);
    } while (xf_now_ms() < deadline);

    ck_assert_uint_lt(held, (uint64_t) (8 << 20));

    free(gz);

    hs_check_worker();
    hs_sentinel_arrives(NULL);
}
END_TEST


/* Concatenated gzip members (and zstd frames): one stream, all events. */
START_TEST(test_concatenated)
{
    char               *before;
    u_char             *a, *b, *body;
    size_t              i, alen, blen;
    const char         *hdrs[2];
    const char *const   doc_a = "{\"event\":\"m1\",\"distinct_id\":\"u\"}\n"
                                "{\"event\":\"m2\",\"distinct_id\":\"u\"}\n";
    const char *const   doc_b = "{\"event\":\"m3\",\"distinct_id\":\"u\"}\n";
    const char         *all[9];
    static const char  *encodings[] = {
        "Content-Encoding: gzip", NULL, "Content-Encoding: zstd"
    };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    for (i = 0; i < 3; i++) {
        a = xf_compress(i < 2 ? XF_TEST_GZIP : XF_TEST_ZSTD, doc_a,
                        strlen(doc_a), &alen);
        b = xf_compress(i < 2 ? XF_TEST_GZIP : XF_TEST_ZSTD, doc_b,
                        strlen(doc_b), &blen);

        body = malloc(alen + blen);
        ck_assert_ptr_nonnull(body);
        memcpy(body, a, alen);
        memcpy(body + alen, b, blen);

        hdrs[0] = encodings[i];
        hdrs[1] = NULL;

        fprintf(stderr, "concatenated: %s\n",
                encodings[i] ? encodings[i] : "gzip, sniffed");

        hs_post("/collect", hdrs, body, alen + blen, 200, NULL,
                "{\"accepted\":3,\"rejected\":0}");

        all[i * 3] = "{\"event\":\"m1\",\"distinct_id\":\"u\"}";
        all[i * 3 + 1] = "{\"event\":\"m2\",\"distinct_id\":\"u\"}";
        all[i * 3 + 2] = "{\"event\":\"m3\",\"distinct_id\":\"u\"}";

        free(a);
        free(b);
        free(body);
    }

    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 9);
    hs_delta(before, HS_SERIES_HTTP("json", "200"), 3);
    free(before);

    hs_expect_events(all, 9);
}
END_TEST


/* ---------------------------------------------------- forms and base64 */

#define HS_SA_EVENT                                                       \
    "{\"type\":\"track\",\"event\":\"ok\",\"distinct_id\":\"d1\","        \
    "\"properties\":{\"p\":\"\\u4e2d\"}}"

typedef struct {
    const char  *name;
    const char  *query;             /* appended to /sa */
    const char  *body;              /* NULL: a GET */
    const char  *code;
} hs_form_case_t;

static const hs_form_case_t  bad_base64[] = {
    { "a '*' in data_list", "?project=p", "data_list=W3siYSI6MX1d*", NULL },
    { "a space in data_list", "?project=p", "data_list=W3siYSI6%20MX1d",
      NULL },
    { "a NUL in data_list", "?project=p", "data_list=W3siYSI6MX1d%00",
      NULL },
    { "a dangling character", "?project=p", "data_list=W3siYSI6MX1dW",
      NULL },
    { "non-zero leftover bits", "?project=p", "data=eyJhIjoxfR", NULL },
    { "wrong padding", "?project=p", "data=eyJhIjoxfQ%3D", NULL },
    { "bad base64 in an image GET", "?project=p&data=eyJh*IjoxfQ", NULL,
      NULL },
};

static const hs_form_case_t  bad_forms[] = {
    { "bad percent-encoding", "?project=p", "data=eyJhIjoxfQ%zz", NULL },
    { "a cut percent-encoding", "?project=p", "data=eyJhIjoxfQ%3", NULL },
    { "bad percent-encoding in another field", "?project=p",
      "crc=1%G0&data=eyJhIjoxfQ", NULL },
    { "bad percent-encoding in the query", "?project=%zz",
      "data=eyJhIjoxfQ", NULL },
    { "data given twice", "?project=p", "data=eyJhIjoxfQ&data=eyJhIjoxfQ",
      NULL },
    { "data given twice, once percent-encoded", "?project=p",
      "data=eyJhIjoxfQ&d%61ta=eyJhIjoxfQ", NULL },
    { "data and data_list together", "?project=p",
      "data=eyJhIjoxfQ&data_list=W3siYSI6MX1d", NULL },
    { "data given twice in an image GET",
      "?project=p&data=eyJhIjoxfQ&data=eyJhIjoxfQ", NULL, NULL },
};


/*
 * Each bad Sensors upload: 400 with code; the counters; then a valid
 * batch to the same location arrives.
 */
static void
hs_forms(const hs_form_case_t *cases, size_t n, const char *code,
    const char *series)
{
    char               *before, *url, *path, *good, want[96];
    size_t              i;
    xf_http_resp_t      resp;
    const char         *events[2];
    const char *const   form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL
    };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    for (i = 0; i < n; i++) {
        fprintf(stderr, "sensors: %s\n", cases[i].name);

        ck_assert_int_ge(asprintf(&path, "/sa%s", cases[i].query), 0);

        if (cases[i].body != NULL) {
            hs_post(path, form, cases[i].body, strlen(cases[i].body), 400,
                    code, NULL);

        } else {
            url = hs_url(path);
            xf_http_request("GET", url, NULL, NULL, 0, &resp);
            snprintf(want, sizeof(want), "{\"error\":\"%s\",", code);
            ck_assert_msg(resp.status == 400
                          && strncmp(resp.body, want, strlen(want)) == 0,
                          "GET %s: %ld %s", path, resp.status, resp.body);
            xf_http_resp_free(&resp);
            free(url);
        }

        free(path);
    }

    hs_delta(before, series, n);
    hs_delta(before, HS_SERIES_HTTP("sensors", "400"), n);
    hs_delta(before, HS_SERIES_EVENTS("sensors", "accepted"), 0);
    free(before);

    /* the same location still takes a valid batch */
    good = hs_form_b64("data_list", "[" HS_SA_EVENT "," HS_SA_EVENT "]");
    hs_post("/sa?project=p", form, good, strlen(good), 200, NULL,
            "{\"accepted\":2,\"rejected\":0}");
    free(good);

    events[0] = HS_SA_EVENT;
    events[1] = HS_SA_EVENT;
    hs_expect_events(events, 2);
    hs_check_worker();
}


START_TEST(test_bad_base64)
{
    hs_forms(bad_base64, sizeof(bad_base64) / sizeof(bad_base64[0]),
             "bad_base64", HS_SERIES_DECODE("bad_base64"));
}
END_TEST


START_TEST(test_bad_form)
{
    hs_forms(bad_forms, sizeof(bad_forms) / sizeof(bad_forms[0]),
             "bad_form", HS_SERIES_DECODE("bad_form"));
}
END_TEST


/* ------------------------------------------------------ UTF-8, escapes */

/*
 * Invalid UTF-8 anywhere in a batch refuses the whole request
 * (json_utf8), valid events of it included.
 */
static const char *const  bad_utf8[] = {
    "\"\xc0\xaf\"",                         /* overlong '/' (2 bytes) */
    "\"\xe0\x80\xaf\"",                     /* overlong '/' (3 bytes) */
    "\"\xf0\x80\x80\xaf\"",                 /* overlong '/' (4 bytes) */
    "\"\xc1\xbf\"",                         /* overlong DEL */
    "\"\xed\xa0\x80\"",                     /* UTF-8 of a surrogate */
    "\"\xf4\x90\x80\x80\"",                 /* above U+10FFFF */
    "\"\xf8\x88\x80\x80\x80\"",             /* 5-byte form */
    "\"\xff\"",
    "\"\x80\"",                             /* lone continuation byte */
    "\"\xe4\xb8\"",                         /* cut sequence */
    "\"\xe4\xb8\x41\"",                     /* bad continuation */
};

static const char *const  lone_surrogates[] = {
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\uDBFF\"",
    "\"\\ud800\\u0041\"",
    "\"\\ud800x\"",
    "\"\\ud800\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"a\\ud83d\"",
};


static void
hs_bad_strings(const char *const *values, size_t n, int as_key)
{
    char               *before, *body;
    size_t              i;
    const char         *events[3];
    const char *const   good[] = {
        "{\"event\":\"ok\",\"s\":\"\xf0\x9f\x98\x80 \xe4\xb8\xad "
            "\\ud83d\\ude00 \\u00e9\"}",
        "{\"event\":\"ok2\",\"\xe4\xb8\xad\":\"\\u4e2d\"}"
    };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    for (i = 0; i < n; i++) {
        if (as_key && i % 2) {
            ck_assert_int_ge(asprintf(&body, "[{\"event\":\"ok\"},"
                                      "{\"event\":\"bad\",%s:1}]",
                                      values[i]), 0);
        } else {
            ck_assert_int_ge(asprintf(&body, "[{\"event\":\"ok\"},"
                                      "{\"event\":%s}]", values[i]), 0);
        }

        hs_post("/collect", NULL, body, strlen(body), 400, "json_utf8",
                NULL);
        free(body);
    }

    hs_delta(before, HS_SERIES_DECODE("json_utf8"), n);
    hs_delta(before, HS_SERIES_HTTP("json", "400"), n);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 0);
    free(before);

    /* valid non-ASCII text, 4-byte forms and surrogate pairs pass */
    body = xf_join(good, 2, "[", ",", "]");
    hs_post("/collect", NULL, body, strlen(body), 200, NULL,
            "{\"accepted\":2,\"rejected\":0}");
    free(body);

    hs_sentinel();

    events[0] = good[0];
    events[1] = good[1];
    events[2] = HS_SENTINEL;
    hs_expect_events(events, 3);
    hs_check_worker();
}


START_TEST(test_bad_utf8)
{
    hs_bad_strings(bad_utf8, sizeof(bad_utf8) / sizeof(bad_utf8[0]), 1);
}
END_TEST


START_TEST(test_lone_surrogates)
{
    hs_bad_strings(lone_surrogates,
                   sizeof(lone_surrogates) / sizeof(lone_surrogates[0]), 1);
}
END_TEST


/* --------------------------------------------------------------- depth */

static char *
hs_nest(size_t depth, const char *open, const char *close, const char *in,
    int closed)
{
    char    *p, *o;
    size_t   i;

    p = malloc(depth * (strlen(open) + strlen(close)) + strlen(in) + 1);
    ck_assert_ptr_nonnull(p);

    o = p;
    for (i = 0; i < depth; i++) {
        o = stpcpy(o, open);
    }

    o = stpcpy(o, in);

    for (i = 0; closed && i < depth; i++) {
        o = stpcpy(o, close);
    }

    *o = '\0';

    return p;
}


/*
 * 10,000 levels of arrays, of objects, unclosed, and inside a Sensors
 * data_list: 400 json_depth, the worker alive.  At the limit (64 by
 * default, the top object counted) an event passes; one more level is
 * refused.
 */
START_TEST(test_deep_nesting)
{
    char               *before, *body, *inner, *form, *ok, *over;
    const char *const   form_ct[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL
    };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    body = hs_nest(10000, "[", "]", "", 1);
    hs_post("/collect", NULL, body, strlen(body), 400, "json_depth", NULL);
    free(body);

    body = hs_nest(10000, "{\"a\":", "}", "1", 1);
    hs_post("/collect", NULL, body, strlen(body), 400, "json_depth", NULL);
    free(body);

    body = hs_nest(10000, "[", "]", "", 0);
    hs_post("/auto/x", NULL, body, strlen(body), 400, "json_depth", NULL);
    free(body);

    inner = hs_nest(10000, "[", "]", "", 1);
    form = hs_form_b64("data_list", inner);
    hs_post("/sa?project=p", form_ct, form, strlen(form), 400, "json_depth",
            NULL);
    free(form);
    free(inner);

    hs_check_worker();

    /* 1 (the event) + 63 arrays: at the limit; 64 arrays: over it */
    inner = hs_nest(63, "[", "]", "", 1);
    ck_assert_int_ge(asprintf(&ok, "{\"event\":\"deep\",\"a\":%s}", inner),
                     0);
    free(inner);

    inner = hs_nest(64, "[", "]", "", 1);
    ck_assert_int_ge(asprintf(&over, "{\"event\":\"deeper\",\"a\":%s}",
                              inner), 0);
    free(inner);

    hs_post("/collect", NULL, over, strlen(over), 400, "json_depth", NULL);
    hs_post("/collect", NULL, ok, strlen(ok), 200, NULL,
            "{\"accepted\":1,\"rejected\":0}");

    hs_delta(before, HS_SERIES_DECODE("json_depth"), 5);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 1);
    free(before);

    hs_sentinel_arrives(ok);
    hs_check_worker();

    free(ok);
    free(over);
}
END_TEST


/* ------------------------------------------------------- huge bodies */

/*
 * Content-Length: 100 MiB: 413 too_large after 64 KiB of it were sent,
 * and the connection is not kept for another request.
 */
START_TEST(test_huge_content_length)
{
    int                fd;
    char              *before, *req, *chunk;
    size_t             len;
    xf_raw_resp_t      resp;

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    chunk = malloc(64 * 1024);
    ck_assert_ptr_nonnull(chunk);
    memset(chunk, ' ', 64 * 1024);
    chunk[0] = '[';

    req = xf_raw_build("POST", "/collect", NULL, chunk, 64 * 1024,
                       100L << 20, &len);

    fd = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd, req, len);
    xf_raw_answer(fd, -1, &resp);

    hs_expect_413(&resp);
    ck_assert_msg(strcasestr(resp.headers, "\r\nConnection: close") != NULL,
                  "413 keeps the connection: %s", resp.headers);

    xf_raw_resp_free(&resp);
    close(fd);

    hs_delta(before, HS_SERIES_DECODE("too_large"), 1);
    hs_delta(before, HS_SERIES_HTTP("json", "413"), 1);
    free(before);

    hs_check_worker();

    hs_sentinel_arrives(NULL);

    free(req);
    free(chunk);
}
END_TEST


static size_t
hs_spaces_gen(void *data, u_char *buf, size_t cap)
{
    size_t  *first = data;

    memset(buf, ' ', cap);

    if (*first) {
        buf[0] = '[';
        *first = 0;
    }

    return cap;
}


/*
 * 100 MiB chunked: 413 too_large once xflow_max_body (1m) was read, then
 * the server closes the connection.
 */
START_TEST(test_huge_chunked)
{
    char               *before;
    size_t              sent, first, received;
    xf_raw_resp_t       resp;

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    first = 1;
    sent = hs_stream("/collect", NULL, hs_spaces_gen, &first,
                     (size_t) 100 << 20, &resp);

    hs_expect_cut("chunked", sent, (size_t) 100 << 20, &resp);
    xf_raw_resp_free(&resp);

    hs_delta(before, HS_SERIES_DECODE("too_large"), 1);
    hs_delta(before, HS_SERIES_HTTP("json", "413"), 1);

    /* it stopped reading at xflow_max_body (1m), give or take a buffer */
    received = hs_received(before);
    fprintf(stderr, "chunked: the worker read %zu bytes of body\n",
            received);
    ck_assert_uint_lt(received, (size_t) 2 << 20);
    free(before);

    hs_check_worker();

    hs_sentinel_arrives(NULL);
}
END_TEST


/*
 * An answer sent before the body was read to its end: the server closes
 * the connection after it (it will not read a next request there), so
 * the answer must say Connection: close rather than promise keep-alive,
 * as the 413 for a Content-Length over xflow_max_body does.  Chunked
 * over xflow_max_body, and a gzip body over xflow_max_decoded (over
 * 64 KiB of it: a smaller gzip body is decoded at its end).
 */
START_TEST(test_early_answer_closes)
{
    int                 fd;
    char               *req, *spaces;
    u_char             *gz;
    size_t              len, first, gzlen;
    xf_raw_resp_t       resp;
    const char *const   gz_hdrs[] = { "Content-Encoding: gzip", NULL };

    hs_start("", "");

    /* the reference: Content-Length over xflow_max_body */
    spaces = malloc(4096);
    ck_assert_ptr_nonnull(spaces);
    memset(spaces, ' ', 4096);

    req = xf_raw_build("POST", "/collect", NULL, spaces, 4096, 2L << 20,
                       &len);
    fd = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd, req, len);
    xf_raw_answer(fd, -1, &resp);
    close(fd);
    free(req);

    ck_assert_int_eq(resp.status, 413);
    ck_assert_msg(strcasestr(resp.headers, "\r\nConnection: close") != NULL,
                  "Content-Length over xflow_max_body: %s", resp.headers);
    xf_raw_resp_free(&resp);

    /* chunked over xflow_max_body */
    first = 1;
    (void) hs_stream("/collect", NULL, hs_spaces_gen, &first,
                     (size_t) 8 << 20, &resp);
    ck_assert_int_eq(resp.status, 413);
    ck_assert_msg(resp.closed, "the connection stayed open after 413");
    ck_assert_msg(strcasestr(resp.headers, "\r\nConnection: close") != NULL,
                  "413 for a chunked body over xflow_max_body announces "
                  "keep-alive, then the server closes: %s", resp.headers);
    xf_raw_resp_free(&resp);

    /* Content-Length, decoded over xflow_max_decoded before its end */
    gz = xf_gzip_streamed_bomb((size_t) 64 << 20, &gzlen);

    req = xf_raw_build("POST", "/collect", gz_hdrs, gz, gzlen, -1, &len);
    fd = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd, req, len);
    xf_raw_answer(fd, 1, &resp);
    close(fd);
    free(req);
    free(gz);

    ck_assert_int_eq(resp.status, 413);
    ck_assert_msg(resp.closed, "the connection stayed open after 413");
    ck_assert_msg(strcasestr(resp.headers, "\r\nConnection: close") != NULL,
                  "413 for a gzip body over xflow_max_decoded, sent before "
                  "the body was read, announces keep-alive, then the server "
                  "closes: %s", resp.headers);
    xf_raw_resp_free(&resp);

    free(spaces);
    hs_check_worker();
}
END_TEST


/*
 * Bodies shorter than their Content-Length: the client half-closes and
 * waits, or closes at once.  No crash, no event, no dead letter, and no
 * decode error is counted (the body never ended); the next request
 * works.
 */
START_TEST(test_short_body)
{
    int                fd, status;
    char              *before, *req;
    size_t             len;
    const char        *half = "[{\"event\":\"short\"},{\"event\":\"sh";

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    status = xf_raw_short_body(nginx->port, "/collect", half, strlen(half));
    ck_assert_int_ne(status, 200);
    fprintf(stderr, "short body, half-closed: status %d\n", status);

    req = xf_raw_build("POST", "/collect", NULL, half, strlen(half), 10000,
                       &len);
    fd = xf_raw_connect(nginx->port);
    xf_raw_write_all(fd, req, len);
    close(fd);
    free(req);

    /* both end as 400 in the access log: the body is incomplete */
    hs_delta(before, HS_SERIES_HTTP("json", "400"), 2);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 0);
    free(before);

    hs_check_worker();

    hs_sentinel_arrives(NULL);
    hs_expect_dead(NULL, NULL, 0);
}
END_TEST


/* ------------------------------------------------- framing and types */

/* Chunked bodies, plain and gzip, to json and Sensors: accepted. */
START_TEST(test_chunked)
{
    char               *before, *body, *form, *events[203];
    u_char             *gz;
    size_t              i, len;
    const char         *hdrs[3], *all[406];
    const char *const   form_hdrs[] = {
        "Transfer-Encoding: chunked",
        "Content-Type: application/x-www-form-urlencoded", NULL
    };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    for (i = 0; i < 200; i++) {
        ck_assert_int_ge(asprintf(&events[i], "{\"event\":\"c\",\"i\":%zu,"
                                  "\"pad\":\"%064zu\"}", i, i), 0);
    }

    body = xf_join((const char *const *) events, 200, "[", ",", "]");
    ck_assert_uint_gt(strlen(body), 16 * 1024);

    hdrs[0] = "Transfer-Encoding: chunked";
    hdrs[1] = NULL;
    hs_post("/collect", hdrs, body, strlen(body), 200, NULL,
            "{\"accepted\":200,\"rejected\":0}");

    gz = xf_compress(XF_TEST_GZIP, body, strlen(body), &len);
    hdrs[1] = "Content-Encoding: gzip";
    hdrs[2] = NULL;
    hs_post("/collect", hdrs, gz, len, 200, NULL,
            "{\"accepted\":200,\"rejected\":0}");
    free(gz);

    form = hs_form_b64("data_list", "[" HS_SA_EVENT "," HS_SA_EVENT ","
                       HS_SA_EVENT "]");
    hs_post("/sa?project=p", form_hdrs, form, strlen(form), 200, NULL,
            "{\"accepted\":3,\"rejected\":0}");
    free(form);

    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 400);
    hs_delta(before, HS_SERIES_EVENTS("sensors", "accepted"), 3);
    hs_delta(before, HS_SERIES_HTTP("json", "200"), 2);
    free(before);

    for (i = 0; i < 400; i++) {
        all[i] = events[i % 200];
    }

    for (i = 400; i < 403; i++) {
        all[i] = HS_SA_EVENT;
    }

    hs_expect_events(all, 403);

    for (i = 0; i < 200; i++) {
        free(events[i]);
    }

    free(body);
}
END_TEST


/*
 * The body is sniffed, not the Content-Type believed: JSON sent as
 * text/plain, a form type, an image type or no type at all, to json and
 * to auto locations; gzip sent as application/json without
 * Content-Encoding.
 */
START_TEST(test_content_type)
{
    char               *before, *ev[12];
    u_char             *gz;
    size_t              i, j, len, n;
    const char         *hdrs[2], *all[13];
    static const char  *types[] = {
        "Content-Type: text/plain",
        "Content-Type: text/plain;charset=UTF-8",
        "Content-Type:",                /* libcurl sends none */
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: image/png",
    };
    static const char  *paths[] = { "/collect", "/auto/in" };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    n = 0;

    for (i = 0; i < 2; i++) {
        for (j = 0; j < 5; j++) {
            ck_assert_int_ge(asprintf(&ev[n], "{\"event\":\"ct\",\"path\":"
                                      "\"%s\",\"type\":%zu}", paths[i], j),
                             0);

            hdrs[0] = types[j];
            hdrs[1] = NULL;
            hs_post(paths[i], hdrs, ev[n], strlen(ev[n]), 200, NULL,
                    "{\"accepted\":1,\"rejected\":0}");
            all[n] = ev[n];
            n++;
        }
    }

    ck_assert_int_ge(asprintf(&ev[n], "{\"event\":\"ct\",\"gzip\":true}"),
                     0);
    gz = xf_compress(XF_TEST_GZIP, ev[n], strlen(ev[n]), &len);
    hdrs[0] = "Content-Type: application/json";
    hs_post("/collect", hdrs, gz, len, 200, NULL,
            "{\"accepted\":1,\"rejected\":0}");
    all[n] = ev[n];
    n++;
    free(gz);

    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), n);
    hs_delta(before, HS_SERIES_HTTP("json", "200"), n);
    free(before);

    hs_expect_events(all, n);

    for (i = 0; i < n; i++) {
        free(ev[i]);
    }
}
END_TEST


/* No body, only whitespace, an empty chunked body: 400 empty. */
START_TEST(test_empty_body)
{
    char               *before;
    const char         *codes[5];
    const char *const   chunked[] = { "Transfer-Encoding: chunked", NULL };
    const char *const   form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL
    };

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    hs_post("/collect", NULL, "", 0, 400, "empty", NULL);
    hs_post("/collect", NULL, " \r\n\t \n", 6, 400, "empty", NULL);
    hs_post("/collect", chunked, "", 0, 400, "empty", NULL);
    hs_post("/auto/x", NULL, "", 0, 400, "empty", NULL);
    hs_post("/sa?project=p", form, "", 0, 400, "empty", NULL);

    hs_delta(before, HS_SERIES_DECODE("empty"), 5);
    hs_delta(before, HS_SERIES_HTTP("json", "400"), 4);
    free(before);

    hs_sentinel_arrives(NULL);

    codes[0] = codes[1] = codes[2] = codes[3] = codes[4] = "empty";
    hs_expect_dead(codes, NULL, 5);
}
END_TEST


/*
 * Batches of non-objects: 200, each non-object a not_object dead letter
 * holding its bytes, the objects of the batch accepted.
 */
START_TEST(test_non_objects)
{
    char               *before;
    const char         *events[2], *codes[10], *dead[10];
    size_t              i;
    static const char   mixed[] =
        "[1,\"s\",null,true,[],{\"event\":\"ok\"},-2.5e3,"
        "[{\"event\":\"in\"}]]";
    static const char   scalars[] = "[1, 2 ,3]";

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    hs_post("/collect", NULL, mixed, sizeof(mixed) - 1, 200, NULL,
            "{\"accepted\":1,\"rejected\":7}");
    hs_post("/collect", NULL, scalars, sizeof(scalars) - 1, 200, NULL,
            "{\"accepted\":0,\"rejected\":3}");

    hs_delta(before, HS_SERIES_REJECTED("not_object"), 10);
    hs_delta(before, HS_SERIES_EVENTS("json", "dead_lettered"), 10);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 1);
    hs_delta(before, HS_SERIES_HTTP("json", "200"), 2);
    free(before);

    events[0] = "{\"event\":\"ok\"}";
    hs_sentinel();
    events[1] = HS_SENTINEL;
    hs_expect_events(events, 2);

    dead[0] = "1";
    dead[1] = "\"s\"";
    dead[2] = "null";
    dead[3] = "true";
    dead[4] = "[]";
    dead[5] = "-2.5e3";
    dead[6] = "[{\"event\":\"in\"}]";
    dead[7] = "1";
    dead[8] = "2";
    dead[9] = "3";

    for (i = 0; i < 10; i++) {
        codes[i] = "not_object";
    }

    hs_expect_dead(codes, dead, 10);
}
END_TEST


/*
 * A raw NUL byte in a string, between values, or in a batch: not JSON,
 * 400 json_syntax for the request.  The escape \u0000 is JSON: accepted,
 * bytes as sent.
 */
START_TEST(test_nul_bytes)
{
    char               *before;
    static const char   in_string[] = "{\"event\":\"a\0b\"}";
    static const char   after[] = "{\"event\":\"a\"}\0";
    static const char   in_batch[] =
        "[{\"event\":\"ok\"},\0{\"event\":\"b\"}]";
    static const char   in_key[] = "{\"event\":\"a\",\"k\0\":1}";
    static const char   escaped[] = "{\"event\":\"a\\u0000b\"}";

    hs_start("", "");
    before = xf_metrics_scrape(nginx);

    hs_post("/collect", NULL, in_string, sizeof(in_string) - 1, 400,
            "json_syntax", NULL);
    hs_post("/collect", NULL, after, sizeof(after) - 1, 400, "json_syntax",
            NULL);
    hs_post("/collect", NULL, in_batch, sizeof(in_batch) - 1, 400,
            "json_syntax", NULL);
    hs_post("/collect", NULL, in_key, sizeof(in_key) - 1, 400,
            "json_syntax", NULL);

    hs_post("/collect", NULL, escaped, sizeof(escaped) - 1, 200, NULL,
            "{\"accepted\":1,\"rejected\":0}");

    hs_delta(before, HS_SERIES_DECODE("json_syntax"), 4);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 1);
    free(before);

    hs_sentinel_arrives(escaped);
    hs_check_worker();
}
END_TEST


/* ---------------------------------------------------------------- limits */

/*
 * xflow_max_event_size 1k: in a batch, the event over it is dead-lettered
 * as event_too_large with all its bytes; the others arrive.
 */
START_TEST(test_event_too_large)
{
    char               *before, *big, *body;
    const char         *parts[4], *codes[1], *dead[1];

    hs_start("", "xflow_max_event_size 1k;");
    before = xf_metrics_scrape(nginx);

    ck_assert_int_ge(asprintf(&big, "{\"event\":\"big\",\"distinct_id\":"
                              "\"u2\",\"pad\":\"%02000d\"}", 7), 0);

    parts[0] = "{\"event\":\"small1\",\"distinct_id\":\"u1\"}";
    parts[1] = big;
    parts[2] = "{\"event\":\"small2\",\"distinct_id\":\"u3\"}";
    body = xf_join(parts, 3, "[", ",", "]");

    hs_post("/collect", NULL, body, strlen(body), 200, NULL,
            "{\"accepted\":2,\"rejected\":1}");

    hs_delta(before, HS_SERIES_REJECTED("event_too_large"), 1);
    hs_delta(before, HS_SERIES_EVENTS("json", "dead_lettered"), 1);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 2);
    free(before);

    parts[1] = parts[2];
    hs_expect_events(parts, 2);

    codes[0] = "event_too_large";
    dead[0] = big;
    hs_expect_dead(codes, dead, 1);

    free(body);
    free(big);
}
END_TEST


/* xflow_max_events 10: 11 events are 413 too_many_events; 10 pass. */
START_TEST(test_too_many_events)
{
    char               *before, *events[11], *arr, *nd;
    size_t              i;
    const char         *codes[2];

    hs_start("", "xflow_max_events 10;");
    before = xf_metrics_scrape(nginx);

    for (i = 0; i < 11; i++) {
        ck_assert_int_ge(asprintf(&events[i], "{\"event\":\"n\",\"i\":%zu}",
                                  i), 0);
    }

    arr = xf_join((const char *const *) events, 11, "[", ",", "]");
    nd = xf_join((const char *const *) events, 11, "", "\n", "\n");

    hs_post("/collect", NULL, arr, strlen(arr), 413, "too_many_events",
            NULL);
    hs_post("/collect", NULL, nd, strlen(nd), 413, "too_many_events", NULL);
    free(arr);
    free(nd);

    arr = xf_join((const char *const *) events, 10, "[", ",", "]");
    hs_post("/collect", NULL, arr, strlen(arr), 200, NULL,
            "{\"accepted\":10,\"rejected\":0}");
    free(arr);

    hs_delta(before, HS_SERIES_DECODE("too_many_events"), 2);
    hs_delta(before, HS_SERIES_HTTP("json", "413"), 2);
    hs_delta(before, HS_SERIES_EVENTS("json", "accepted"), 10);
    free(before);

    hs_expect_events((const char *const *) events, 10);

    codes[0] = codes[1] = "too_many_events";
    hs_expect_dead(codes, NULL, 2);

    for (i = 0; i < 11; i++) {
        free(events[i]);
    }
}
END_TEST


Suite *
make_hostile_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("hostile");

    tc = xf_tcase(s, "encodings", 30, hs_setup, hs_teardown);
    tcase_add_test(tc, test_broken_gzip);
    tcase_add_test(tc, test_broken_zstd);
    tcase_add_test(tc, test_broken_deflate);
    tcase_add_loop_test(tc, test_bomb, 0, 5);
    tcase_add_test(tc, test_concatenated);
    tcase_add_test(tc, test_nested_bomb);
    tcase_add_test(tc, test_decoded_in_flight);

    tc = xf_tcase(s, "content", 30, hs_setup, hs_teardown);
    tcase_add_test(tc, test_bad_base64);
    tcase_add_test(tc, test_bad_form);
    tcase_add_test(tc, test_bad_utf8);
    tcase_add_test(tc, test_lone_surrogates);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_empty_body);
    tcase_add_test(tc, test_non_objects);
    tcase_add_test(tc, test_nul_bytes);

    tc = xf_tcase(s, "framing", 30, hs_setup, hs_teardown);
    tcase_add_test(tc, test_huge_content_length);
    tcase_add_test(tc, test_huge_chunked);
    tcase_add_test(tc, test_early_answer_closes);
    tcase_add_test(tc, test_short_body);
    tcase_add_test(tc, test_chunked);
    tcase_add_test(tc, test_content_type);

    tc = xf_tcase(s, "limits", 30, hs_setup, hs_teardown);
    tcase_add_test(tc, test_event_too_large);
    tcase_add_test(tc, test_too_many_events);

    return s;
}
