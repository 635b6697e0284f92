/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-collect.c - xflow_collect end to end: real nginx with the module,
 * an in-process Kafka mock cluster, and what arrives in Kafka for each
 * kind of upload.
 *
 * Each test runs in its own forked child (checked fixture): a fresh mock
 * cluster with topic "events" (3 partitions), then the test starts nginx
 * with the config it needs.  The teardown stops nginx gracefully and
 * fails the test on an [alert], [emerg] or sanitizer report in its logs.
 *
 * "Nothing else arrives" is checked with a sentinel: after the request
 * under test, a valid one is sent, and the topic must hold exactly the
 * expected messages plus the sentinel once it settled.  No assertion
 * depends on how long anything takes.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xf_test.h"


#define TOPIC           "events"
#define CONSUME_MS      10000       /* how long to wait for messages */
#define SETTLE_MS       1000        /* quiet period for exact counts */
#define SENTINEL        "{\"event\":\"sentinel\"}"

#define ENV_HEAD        "{\"v\":1,\"id\":\""
#define ENV_TS          "\",\"ts\":"
#define ENV_MID         ",\"src\":\"json\",\"ip\":\"127.0.0.1\",\"event\":"


static char         url[128];


#define DEAD_LETTER  "xflow_dead_letter"

static void collect_setup(void);
static void collect_new(const char *http, const char *location,
    int workers);
static void collect_start(const char *http, const char *location,
    int workers);
static void collect_post(const char *const *headers, const void *body,
    size_t len, long status, const char *code, size_t accepted);
static void collect_sentinel(void);
static void collect_check_envelope(const xf_kafka_msg_t *m,
    const char **event);
static void collect_match(const xf_kafka_msgs_t *msgs,
    const char *const *events, size_t n);
static void collect_expect(const char *const *events, size_t n);


/* ------------------------------------------------------------ fixture */

static void
collect_setup(void)
{
    xf_fixture_setup(3, 15000, TOPIC, 3, DEAD_LETTER, 1, NULL);
}


/* The topic holds exactly events[0..n-1], as collect_match says. */
static void
collect_expect(const char *const *events, size_t n)
{
    xf_kafka_msgs_t  msgs;

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, TOPIC, n, CONSUME_MS, SETTLE_MS, &msgs);
    collect_match(&msgs, events, n);
    xf_kafka_msgs_free(&msgs);
}


/*
 * nginx with the module on /collect; http and location are extra
 * directives for the http block and the location (may be empty).
 * collect_new only writes the config.
 */
static void
collect_new(const char *http, const char *location, int workers)
{
    char  snippet[2048];

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " TOPIC ";\n"
             "    client_max_body_size 64m;\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect {\n"
             "            xflow_collect;\n"
             "%s\n"
             "        }\n"
             "    }\n",
             http, location);

    nginx = xf_nginx_new(snippet, kafka->bootstraps, workers);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);
}


static void
collect_start(const char *http, const char *location, int workers)
{
    collect_new(http, location, workers);
    xf_nginx_start(nginx);
}


/* --------------------------------------------------------- assertions */

/*
 * POST body and check the answer: status, and for 200 the accepted
 * count, for errors the JSON error code.
 */
static void
collect_post(const char *const *headers, const void *body, size_t len,
    long status, const char *code, size_t accepted)
{
    char            want[64], *retry;
    const char     *p;
    xf_http_resp_t  resp;

    xf_http_request("POST", url, headers, body, len, &resp);

    ck_assert_msg(resp.status == status, "status %ld, expected %ld; "
                  "body: %s", resp.status, status, resp.body);

    if (status == 200) {
        snprintf(want, sizeof(want), "{\"accepted\":%zu,\"rejected\":0}",
                 accepted);
        ck_assert_str_eq(resp.body, want);

    } else if (code != NULL) {
        snprintf(want, sizeof(want), "{\"error\":\"%s\",\"detail\":\"",
                 code);
        p = strstr(resp.body, want);
        ck_assert_msg(p == resp.body, "error body %s, expected code %s",
                      resp.body, code);
    }

    if (status == 503) {
        retry = xf_http_header(&resp, "Retry-After");
        ck_assert_msg(retry != NULL, "503 without Retry-After");
        free(retry);
    }

    xf_http_resp_free(&resp);
}


static void
collect_sentinel(void)
{
    collect_post(NULL, SENTINEL, sizeof(SENTINEL) - 1, 200, NULL, 1);
}


/*
 * Check one message against envelope v1, key order and all:
 *   {"v":1,"id":"<32 hex>","ts":<ms>,"src":"json","ip":"127.0.0.1",
 *    "event":<event bytes>}
 * *event gets where the event bytes start (they run to the last byte
 * before the closing brace).
 */
static void
collect_check_envelope(const xf_kafka_msg_t *m, const char **event)
{
    int          i;
    char        *end;
    long long    ts, now;
    const char  *v, *p;

    v = m->value;
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_gt(m->value_len, sizeof(ENV_HEAD) + 32);

    ck_assert_msg(strncmp(v, ENV_HEAD, sizeof(ENV_HEAD) - 1) == 0,
                  "envelope head: %.80s", v);

    p = v + sizeof(ENV_HEAD) - 1;
    for (i = 0; i < 32; i++) {
        ck_assert_msg((p[i] >= '0' && p[i] <= '9')
                      || (p[i] >= 'a' && p[i] <= 'f'),
                      "id is not 32 lowercase hex digits: %.80s", v);
    }

    p += 32;
    ck_assert_msg(strncmp(p, ENV_TS, sizeof(ENV_TS) - 1) == 0,
                  "after id: %.80s", v);

    p += sizeof(ENV_TS) - 1;
    ts = strtoll(p, &end, 10);
    ck_assert_msg(end > p, "ts is not a number: %.80s", v);

    /* Milliseconds since the epoch, from this machine's clock. */
    now = (long long) time(NULL) * 1000;
    ck_assert_msg(ts > now - 3600 * 1000 && ts < now + 3600 * 1000,
                  "ts %lld is not near now (%lld)", ts, now);

    p = end;
    ck_assert_msg(strncmp(p, ENV_MID, sizeof(ENV_MID) - 1) == 0,
                  "after ts: %.120s", p);

    p += sizeof(ENV_MID) - 1;
    ck_assert_msg(v[m->value_len - 1] == '}', "envelope does not end in "
                  "'}': %.200s", v);
    ck_assert_msg(p <= v + m->value_len - 1, "envelope ends early: %s", v);

    *event = p;
}


/*
 * Every message is a valid envelope, the events they carry are exactly
 * events[0..n-1] (as a multiset, any order), byte for byte, and all ids
 * differ.
 */
static void
collect_match(const xf_kafka_msgs_t *msgs, const char *const *events,
    size_t n)
{
    size_t       i, j, len;
    char       (*ids)[33];
    char        *used;
    const char  *ev;

    ck_assert_uint_eq(msgs->n, n);

    used = calloc(n ? n : 1, 1);
    ids = calloc(n ? n : 1, sizeof(*ids));
    ck_assert_ptr_nonnull(used);
    ck_assert_ptr_nonnull(ids);

    for (i = 0; i < msgs->n; i++) {
        collect_check_envelope(&msgs->msgs[i], &ev);

        len = msgs->msgs[i].value + msgs->msgs[i].value_len - 1 - ev;

        for (j = 0; j < n; j++) {
            if (!used[j] && strlen(events[j]) == len
                && memcmp(events[j], ev, len) == 0)
            {
                used[j] = 1;
                break;
            }
        }

        ck_assert_msg(j < n, "message %zu carries an unexpected event: "
                      "%.*s", i, (int) xf_tmin(len, (size_t) 300), ev);

        memcpy(ids[i], msgs->msgs[i].value + sizeof(ENV_HEAD) - 1, 32);
        ids[i][32] = '\0';

        for (j = 0; j < i; j++) {
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0,
                          "messages %zu and %zu share id %s", j, i, ids[i]);
        }
    }

    free(used);
    free(ids);
}


/* Events with odd spacing and escapes: re-serialising would show. */
static const char *const  events3[] = {
    "{\"event\":\"page_view\",\"props\":{\"a\": 1, \"b\" : [true,null]},"
        "\"n\":-1.50e3}",
    "{ \"event\" : \"click\", \"u\":\"\\u00e9\\n\\\"q\\\"\", \"x\":{} }",
    "{\"event\":\"\xe4\xb8\xad\xe6\x96\x87\",\"d\":[1,2,{\"k\":\"v\"}]}"
};


/* ---------------------------------------------------------- encodings */

typedef struct {
    const char       *name;
    int               compress;     /* 0: send as is */
    xf_test_codec_t   codec;
    const char       *encoding;     /* Content-Encoding line or NULL */
    const char       *open, *sep, *close;
    size_t            nevents;
} collect_encoding_t;

static const collect_encoding_t  encodings[] = {
    { "json object", 0, 0, NULL, "", "", "", 1 },
    { "json object, identity", 0, 0, "Content-Encoding: identity",
      "", "", "", 1 },
    { "json array", 0, 0, NULL, "[", ",", "]", 3 },
    { "ndjson", 0, 0, NULL, "", "\n", "\n", 3 },
    { "gzip array", 1, XF_TEST_GZIP, "Content-Encoding: gzip",
      "[", ",", "]", 3 },
    { "zstd ndjson", 1, XF_TEST_ZSTD, "Content-Encoding: zstd",
      "", "\n", "\n", 3 },
    { "brotli array", 1, XF_TEST_BR, "Content-Encoding: br",
      "[", ",", "]", 3 },
    { "deflate (zlib) object", 1, XF_TEST_ZLIB, "Content-Encoding: deflate",
      "", "", "", 1 },
    { "deflate (raw) array", 1, XF_TEST_RAW_DEFLATE,
      "Content-Encoding: deflate", "[", ",", "]", 3 },
    { "gzip array without Content-Encoding", 1, XF_TEST_GZIP, NULL,
      "[", ",", "]", 3 },
    { "zstd object without Content-Encoding", 1, XF_TEST_ZSTD, NULL,
      "", "", "", 1 },
};


START_TEST(test_encoding)
{
    char                      *plain;
    void                      *body;
    size_t                     len;
    const char                *hdrs[3];
    xf_kafka_msgs_t            msgs;
    const collect_encoding_t  *t = &encodings[_i];

    fprintf(stderr, "encoding: %s\n", t->name);

    collect_start("", "", 1);

    plain = xf_join(events3, t->nevents, t->open, t->sep, t->close);

    if (t->compress) {
        body = xf_compress(t->codec, plain, strlen(plain), &len);

    } else {
        body = strdup(plain);
        len = strlen(plain);
    }

    hdrs[0] = "Content-Type: text/plain";
    hdrs[1] = t->encoding;
    hdrs[2] = NULL;

    collect_post(hdrs, body, len, 200, NULL, t->nevents);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, TOPIC, t->nevents, CONSUME_MS, SETTLE_MS, &msgs);
    collect_match(&msgs, events3, t->nevents);

    ck_assert_ptr_null(msgs.msgs[0].key);

    xf_kafka_msgs_free(&msgs);
    free(plain);
    free(body);
}
END_TEST


/* Many events over two requests: one message each, no id twice. */
START_TEST(test_ids_unique)
{
    int               r, i;
    char             *body, *events[50];

    collect_start("", "", 2);

    for (i = 0; i < 50; i++) {
        ck_assert_int_ge(asprintf(&events[i], "{\"event\":\"e\",\"i\":%d}",
                                  i), 0);
    }

    for (r = 0; r < 2; r++) {
        body = xf_join((const char *const *) events + r * 25, 25,
                            "[", ",", "]");
        collect_post(NULL, body, strlen(body), 200, NULL, 25);
        free(body);
    }

    collect_expect((const char *const *) events, 50);
    for (i = 0; i < 50; i++) {
        free(events[i]);
    }
}
END_TEST


/* ------------------------------------------------------- bad requests */

typedef struct {
    const char  *name;
    const char  *body;              /* NULL: built by the test */
    long         status;
    const char  *code;
} collect_bad_t;

static const collect_bad_t  bad_json[] = {
    { "truncated object", "{\"event\":\"x\",\"n\":", 400, "json_syntax" },
    { "truncated array", "[{\"event\":\"x\"},{\"ev", 400, "json_syntax" },
    { "trailing garbage", "{\"event\":\"x\"} x", 400, "json_syntax" },
    { "invalid utf-8", "{\"event\":\"\xff\xfe\"}", 400, "json_utf8" },
    { "empty body", "", 400, "empty" },
    { "too deep", NULL, 400, "json_depth" },
};


/* A rejected request produces no message at all. */
/*
 * Events that cannot be used go to the dead-letter topic with a reason;
 * the good ones of the same batch arrive; the answer counts both.
 */
START_TEST(test_dead_letters)
{
    const char        *p;
    xf_kafka_msgs_t    ok, dl;
    xf_http_resp_t     resp;
    static const char  body[] = "[1,{\"event\":\"good\"},\"s\"]";

    collect_start("", "", 1);

    xf_http_request("POST", url, NULL, body, sizeof(body) - 1, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"accepted\":1,\"rejected\":2}");
    xf_http_resp_free(&resp);

    memset(&ok, 0, sizeof(ok));
    memset(&dl, 0, sizeof(dl));
    xf_kafka_consume(kafka, TOPIC, 1, CONSUME_MS, SETTLE_MS, &ok);
    xf_kafka_consume(kafka, DEAD_LETTER, 2, CONSUME_MS, SETTLE_MS, &dl);

    ck_assert_ptr_nonnull(xf_memstr(ok.msgs[0].value, ok.msgs[0].value_len,
                                    ",\"event\":{\"event\":\"good\"}}"));

    /* one partition: the dead letters keep the batch's order */
    p = dl.msgs[0].value;
    ck_assert_msg(xf_memstr(p, dl.msgs[0].value_len,
                            "\"error\":\"not_object\",\"event\":1}"),
                  "%s", p);
    p = dl.msgs[1].value;
    ck_assert_msg(xf_memstr(p, dl.msgs[1].value_len,
                            "\"error\":\"not_object\",\"event\":\"s\"}"),
                  "%s", p);

    xf_kafka_msgs_free(&ok);
    xf_kafka_msgs_free(&dl);

    /* a request that cannot be decoded at all: one dead letter of it */
    xf_http_request("POST", url, NULL, "{\"event\":", 9, &resp);
    ck_assert_int_eq(resp.status, 400);
    xf_http_resp_free(&resp);

    memset(&dl, 0, sizeof(dl));
    xf_kafka_consume(kafka, DEAD_LETTER, 3, CONSUME_MS, SETTLE_MS, &dl);
    p = dl.msgs[2].value;
    ck_assert_msg(xf_memstr(p, dl.msgs[2].value_len,
                            "\"error\":\"json_syntax\",\"request\":"
                            "{\"method\":\"POST\",\"uri\":\"/collect\""),
                  "%s", p);
    /* base64 of {"event": */
    ck_assert_msg(xf_memstr(p, dl.msgs[2].value_len,
                            "\"raw\":\"base64\",\"event\":"
                            "\"eyJldmVudCI6\"}"), "%s", p);
    xf_kafka_msgs_free(&dl);
}
END_TEST


START_TEST(test_bad_json)
{
    int                   i;
    char                  deep[256];
    const char           *body;
    const char *const     sentinel[] = { SENTINEL };
    const collect_bad_t  *t = &bad_json[_i];

    fprintf(stderr, "bad json: %s\n", t->name);

    collect_start("", "", 1);

    body = t->body;
    if (body == NULL) {
        /* {"a": + 100 nested arrays: over the default depth of 64. */
        strcpy(deep, "{\"a\":");
        for (i = 0; i < 100; i++) {
            strcat(deep, "[");
        }
        for (i = 0; i < 100; i++) {
            strcat(deep, "]");
        }
        strcat(deep, "}");
        body = deep;
    }

    collect_post(NULL, body, strlen(body), t->status, t->code, 0);
    collect_sentinel();

    collect_expect(sentinel, 1);
}
END_TEST


START_TEST(test_unknown_encoding)
{
    const char *const  sentinel[] = { SENTINEL };
    const char *const  hdrs[] = { "Content-Encoding: compress", NULL };
    const char *const  stacked[] = { "Content-Encoding: gzip, gzip", NULL };

    collect_start("", "", 1);

    collect_post(hdrs, events3[0], strlen(events3[0]), 415,
                 "unknown_encoding", 0);
    collect_post(stacked, events3[0], strlen(events3[0]), 415,
                 "unknown_encoding", 0);
    collect_sentinel();

    collect_expect(sentinel, 1);
}
END_TEST


START_TEST(test_corrupt_encoding)
{
    u_char            *gz;
    size_t             len;
    const char        *plain;
    const char *const  sentinel[] = { SENTINEL };
    const char *const  hdrs[] = { "Content-Encoding: gzip", NULL };

    collect_start("", "", 1);

    plain = events3[0];
    gz = xf_compress(XF_TEST_GZIP, plain, strlen(plain), &len);

    /* Cut in half: the stream ends early. */
    collect_post(hdrs, gz, len / 2, 400, "truncated_encoding", 0);

    /* Garbage in the deflate data or the trailer's CRC. */
    gz[len / 2] ^= 0xff;
    gz[len / 2 + 1] ^= 0x55;
    gz[len - 6] ^= 0xff;
    collect_post(hdrs, gz, len, 400, "corrupt_encoding", 0);

    collect_sentinel();

    collect_expect(sentinel, 1);
    free(gz);
}
END_TEST


START_TEST(test_method_not_allowed)
{
    xf_http_resp_t  resp;

    collect_start("", "", 1);

    xf_http_request("GET", url, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 405);
    ck_assert_msg(strncmp(resp.body, "{\"error\":\"method_not_allowed\"",
                          29) == 0, "body: %s", resp.body);
    xf_http_resp_free(&resp);

    xf_http_request("DELETE", url, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 405);
    xf_http_resp_free(&resp);
}
END_TEST


/* ------------------------------------------------------------- limits */

/* xflow_max_body counts the bytes on the wire, however they are framed. */
START_TEST(test_max_body)
{
    size_t             i;
    char              *body;
    const char        *events[200];
    const char *const  sentinel[] = { SENTINEL };
    const char *const  chunked[] = { "Transfer-Encoding: chunked", NULL };

    collect_start("    xflow_max_body 1k;", "", 1);

    for (i = 0; i < 200; i++) {
        events[i] = "{\"event\":\"big\"}";
    }

    body = xf_join(events, 200, "[", ",", "]");
    ck_assert_uint_gt(strlen(body), 2048);

    collect_post(NULL, body, strlen(body), 413, "too_large", 0);
    collect_post(chunked, body, strlen(body), 413, "too_large", 0);

    /* Under the limit, chunked is fine. */
    collect_post(chunked, SENTINEL, sizeof(SENTINEL) - 1, 200, NULL, 1);

    collect_expect(sentinel, 1);
    free(body);
}
END_TEST


/* 32 MiB of zeros in about 32 KiB of gzip: over xflow_max_decoded 10m. */
START_TEST(test_gzip_bomb)
{
    void              *zeros, *gz;
    size_t             len;
    const char *const  sentinel[] = { SENTINEL };
    const char *const  hdrs[] = { "Content-Encoding: gzip", NULL };

    collect_start("", "", 1);

    zeros = calloc(1, 32 << 20);
    ck_assert_ptr_nonnull(zeros);
    gz = xf_compress(XF_TEST_GZIP, zeros, 32 << 20, &len);
    free(zeros);
    ck_assert_uint_lt(len, 1 << 20);

    collect_post(hdrs, gz, len, 413, "too_large", 0);

    /* And the same bomb sniffed, without Content-Encoding. */
    collect_post(NULL, gz, len, 413, "too_large", 0);

    collect_sentinel();

    collect_expect(sentinel, 1);
    free(gz);
}
END_TEST


/* ---------------------------------------------------------------- ack */

typedef struct {
    const char       *body;
    long              status;
    volatile int      done;
} collect_async_t;


static void *
collect_async_post(void *data)
{
    xf_http_resp_t    resp;
    collect_async_t  *a = data;

    xf_http_request("POST", url, NULL, a->body, strlen(a->body), &resp);
    a->status = resp.status;
    xf_http_resp_free(&resp);

    __atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);

    return NULL;
}


/*
 * ack=kafka answers after the brokers acknowledged every event: no answer
 * while every broker is down, and once the 200 arrives the brokers' high
 * watermarks already count the events.
 */
START_TEST(test_ack_kafka)
{
    int               answered_while_down;
    char             *body;
    pthread_t         tid;
    collect_async_t   a;
    const char       *all[4];

    collect_start("    xflow_ack kafka;", "", 1);

    /* The worker's producer has its metadata and connections first. */
    collect_sentinel();

    body = xf_join(events3, 3, "[", ",", "]");

    xf_kafka_set_down(kafka);

    memset(&a, 0, sizeof(a));
    a.body = body;
    ck_assert_int_eq(pthread_create(&tid, NULL, collect_async_post, &a), 0);

    xf_sleep_ms(1000);
    answered_while_down = __atomic_load_n(&a.done, __ATOMIC_SEQ_CST);

    xf_kafka_set_up(kafka);
    pthread_join(tid, NULL);

    ck_assert_msg(!answered_while_down, "ack=kafka answered (status %ld) "
                  "while every broker was down", a.status);
    ck_assert_int_eq(a.status, 200);

    ck_assert_int_eq(xf_kafka_count(kafka, TOPIC), 4);

    all[0] = SENTINEL;
    all[1] = events3[0];
    all[2] = events3[1];
    all[3] = events3[2];

    collect_expect(all, 4);
    free(body);
}
END_TEST


/*
 * ack=local answers after enqueueing: 200 while every broker is down,
 * and the events arrive once they are back.
 */
START_TEST(test_ack_local)
{
    char             *body;

    collect_start("    xflow_ack local;", "", 1);

    xf_kafka_set_down(kafka);

    body = xf_join(events3, 3, "[", ",", "]");
    collect_post(NULL, body, strlen(body), 200, NULL, 3);

    xf_kafka_set_up(kafka);

    collect_expect(events3, 3);
    free(body);
}
END_TEST


/* ------------------------------------------------------ client faults */

/*
 * Clients that reset mid-body or send less than Content-Length: no
 * crash, no message, and the next request is served.
 */
START_TEST(test_client_abort)
{
    int                i, status;
    pid_t              before[4], after[4];
    size_t             nbefore, nafter;
    const char        *half = "[{\"event\":\"short\"},{\"event\":\"sh";
    const char *const  sentinel[] = { SENTINEL };

    collect_start("", "", 1);
    nbefore = xf_nginx_workers(nginx, before, 4);

    for (i = 0; i < 3; i++) {
        xf_raw_abort_mid_request(nginx->port, "/collect");
    }

    status = xf_raw_short_body(nginx->port, "/collect", half, strlen(half));
    ck_assert_int_ne(status, 200);

    collect_sentinel();

    collect_expect(sentinel, 1);

    nafter = xf_nginx_workers(nginx, after, 4);
    ck_assert_uint_eq(nafter, nbefore);
    ck_assert_int_eq(after[0], before[0]);
}
END_TEST


/* A client that trickles its request a few bytes at a time. */
START_TEST(test_slow_client)
{
    int                status;
    char              *req, *body, *resp;
    size_t             len;

    collect_start("", "", 1);

    body = xf_join(events3, 3, "[", ",", "]");
    req = xf_raw_build("POST", "/collect", NULL, body, strlen(body), -1,
                       &len);

    status = xf_raw_slow_request(nginx->port, req, len, 16, 10, &resp);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(resp, "{\"accepted\":3,\"rejected\":0}");

    collect_expect(events3, 3);
    free(resp);
    free(req);
    free(body);
}
END_TEST


/*
 * Under ack=kafka, a client that hangs up while its events wait for the
 * brokers (slow brokers, or brokers down until after the hang-up): the
 * worker must survive the late delivery reports, the events still
 * arrive, and the next request is served by the same worker.
 */
START_TEST(test_disconnect_in_flight)
{
    int                i, down;
    char              *req, *body;
    pid_t              before[4], after[4];
    size_t             len, nbefore, nafter;
    const char        *all[4];

    down = (_i == 1);
    fprintf(stderr, "disconnect in flight: %s\n",
            down ? "brokers down" : "rtt 500 ms");

    collect_start("    xflow_ack kafka;", "", 1);
    nbefore = xf_nginx_workers(nginx, before, 4);
    ck_assert_uint_eq(nbefore, 1);

    if (down) {
        xf_kafka_set_down(kafka);

    } else {
        xf_kafka_set_rtt(kafka, 500);
    }

    body = xf_join(events3, 3, "[", ",", "]");
    req = xf_raw_build("POST", "/collect", NULL, body, strlen(body), -1,
                       &len);
    xf_raw_send_close(nginx->port, req, len);

    if (down) {
        /* Let the worker read and enqueue before the brokers return. */
        xf_sleep_ms(500);
        xf_kafka_set_up(kafka);
    }

    collect_sentinel();

    nafter = xf_nginx_workers(nginx, after, 4);
    ck_assert_uint_eq(nafter, 1);
    ck_assert_int_eq(after[0], before[0]);

    for (i = 0; i < 3; i++) {
        all[i] = events3[i];
    }
    all[3] = SENTINEL;

    xf_kafka_set_rtt(kafka, 0);

    collect_expect(all, 4);
    free(req);
    free(body);
}
END_TEST


/* ------------------------------------------------------------- reload */

#define RELOAD_THREADS   4
#define RELOAD_MAX_REQ   200
#define RELOAD_EVENTS    3

typedef struct {
    int              t;
    volatile int    *stop;
    int              nreq;
    long             status[RELOAD_MAX_REQ];
} collect_client_t;


static void *
collect_client(void *data)
{
    int                r, k;
    char               body[512], *p;
    xf_http_resp_t     resp;
    collect_client_t  *cl = data;

    for (r = 0; r < RELOAD_MAX_REQ && !*cl->stop; r++) {
        p = body;
        p += sprintf(p, "[");
        for (k = 0; k < RELOAD_EVENTS; k++) {
            p += sprintf(p, "%s{\"event\":\"reload\",\"t\":%d,\"r\":%d,"
                         "\"k\":%d}", k ? "," : "", cl->t, r, k);
        }
        sprintf(p, "]");

        xf_http_request("POST", url, NULL, body, strlen(body), &resp);
        cl->status[r] = resp.status;
        cl->nreq = r + 1;
        xf_http_resp_free(&resp);
    }

    return NULL;
}


/*
 * Reloads while requests wait for the brokers: every event of every
 * request answered 200 arrives.  Other answers may only be 503.
 */
START_TEST(test_reload_in_flight)
{
    int                i, r, k, t;
    char               want[128];
    size_t             expect, j, found;
    pthread_t          tid[RELOAD_THREADS];
    volatile int       stop;
    xf_kafka_msgs_t    msgs;
    collect_client_t   cl[RELOAD_THREADS];

    collect_start("    xflow_ack kafka;", "", 2);
    xf_kafka_set_rtt(kafka, 100);

    stop = 0;
    for (i = 0; i < RELOAD_THREADS; i++) {
        memset(&cl[i], 0, sizeof(collect_client_t));
        cl[i].t = i;
        cl[i].stop = &stop;
        ck_assert_int_eq(pthread_create(&tid[i], NULL, collect_client,
                                        &cl[i]), 0);
    }

    xf_sleep_ms(300);
    xf_nginx_reload(nginx);
    xf_sleep_ms(300);
    xf_nginx_reload(nginx);
    xf_sleep_ms(300);

    stop = 1;
    for (i = 0; i < RELOAD_THREADS; i++) {
        pthread_join(tid[i], NULL);
    }

    expect = 0;
    for (i = 0; i < RELOAD_THREADS; i++) {
        for (r = 0; r < cl[i].nreq; r++) {
            ck_assert_msg(cl[i].status[r] == 200 || cl[i].status[r] == 503,
                          "client %d request %d: status %ld", i, r,
                          cl[i].status[r]);
            expect += (cl[i].status[r] == 200) * RELOAD_EVENTS;
        }
    }

    ck_assert_uint_gt(expect, 0);
    fprintf(stderr, "reload: %zu events acknowledged\n", expect);

    xf_kafka_set_rtt(kafka, 0);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, TOPIC, expect, CONSUME_MS, 0, &msgs);

    found = 0;
    for (t = 0; t < RELOAD_THREADS; t++) {
        for (r = 0; r < cl[t].nreq; r++) {
            if (cl[t].status[r] != 200) {
                continue;
            }

            for (k = 0; k < RELOAD_EVENTS; k++) {
                snprintf(want, sizeof(want), "\"event\":{\"event\":"
                         "\"reload\",\"t\":%d,\"r\":%d,\"k\":%d}}", t, r, k);

                for (j = 0; j < msgs.n; j++) {
                    if (xf_memstr(msgs.msgs[j].value, msgs.msgs[j].value_len,
                                  want) != NULL)
                    {
                        break;
                    }
                }

                ck_assert_msg(j < msgs.n, "acknowledged event t=%d r=%d "
                              "k=%d never arrived", t, r, k);
                found++;
            }
        }
    }

    ck_assert_uint_eq(found, expect);
    xf_kafka_msgs_free(&msgs);
}
END_TEST


/* ------------------------------------------------------------- config */

typedef struct {
    const char  *name;
    const char  *directive;
    int          ok;
    const char  *message;           /* expected in nginx -t's output */
} collect_conf_t;

static const collect_conf_t  confs[] = {
    { "valid property", "xflow_kafka_conf linger.ms 5;", 1, NULL },
    /* xflow's default codec (lz4) yields to the user's, by either name */
    { "codec by alias", "xflow_kafka_conf compression.type zstd;", 1, NULL },
    { "codec off", "xflow_kafka_conf compression.codec none;", 1, NULL },
    { "unknown property", "xflow_kafka_conf no.such.property 1;", 0,
      "No such configuration property: \"no.such.property\"" },
    { "bad value", "xflow_kafka_conf compression.codec banana;", 0,
      "Invalid value \"banana\" for configuration property "
      "\"compression.codec\"" },
};


/* librdkafka judges every property at nginx -t, in its own words. */
START_TEST(test_kafka_conf)
{
    int                    rc;
    char                   http[256], *out;
    const collect_conf_t  *t = &confs[_i];

    fprintf(stderr, "kafka conf: %s\n", t->name);

    snprintf(http, sizeof(http), "    %s", t->directive);
    collect_new(http, "", 1);

    rc = xf_nginx_test_config(nginx, &out);

    if (t->ok) {
        ck_assert_msg(rc == 0, "nginx -t failed: %s", out);

    } else {
        ck_assert_msg(rc != 0, "nginx -t passed: %s", out);
        ck_assert_msg(strstr(out, t->message) != NULL,
                      "nginx -t output lacks '%s':\n%s", t->message, out);
    }

    free(out);
}
END_TEST


/* ------------------------------------------------------------- faults */

/*
 * ack=kafka and brokers that are down until librdkafka gives up on the
 * message: 503 delivery_failed with Retry-After; once the brokers are
 * back, requests are served again.
 */
START_TEST(test_delivery_failed)
{
    long             status;
    size_t           i;
    xf_http_resp_t   resp;
    xf_kafka_msgs_t  msgs;

    collect_start("    xflow_ack kafka;\n"
                  "    xflow_kafka_conf message.timeout.ms 1000;", "", 1);

    xf_kafka_set_down(kafka);
    collect_post(NULL, events3[0], strlen(events3[0]), 503,
                 "delivery_failed", 0);
    xf_kafka_set_up(kafka);

    /*
     * The producer reconnects with backoff: until it did, a request may
     * still time out (1 s here).  Retry, bounded, until one succeeds.
     */
    for (i = 0; i < 20; i++) {
        xf_http_request("POST", url, NULL, SENTINEL, sizeof(SENTINEL) - 1,
                        &resp);
        status = resp.status;
        xf_http_resp_free(&resp);

        if (status != 503) {
            break;
        }

        xf_sleep_ms(250);
    }

    ck_assert_int_eq(status, 200);

    /* The failed event may arrive too, if it is replayed later. */
    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, TOPIC, 1, CONSUME_MS, 0, &msgs);

    for (i = 0; i < msgs.n; i++) {
        if (xf_memstr(msgs.msgs[i].value, msgs.msgs[i].value_len,
                      "\"event\":" SENTINEL "}") != NULL)
        {
            break;
        }
    }

    ck_assert_msg(i < msgs.n, "the sentinel did not arrive");
    xf_kafka_msgs_free(&msgs);
}
END_TEST


Suite *
make_collect_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("collect");

    tc = xf_tcase(s, "core", 30, collect_setup, xf_fixture_teardown);
    tcase_add_loop_test(tc, test_encoding, 0,
                        sizeof(encodings) / sizeof(encodings[0]));
    tcase_add_test(tc, test_ids_unique);
    tcase_add_test(tc, test_ack_kafka);
    tcase_add_test(tc, test_ack_local);

    tc = xf_tcase(s, "errors", 30, collect_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_dead_letters);
    tcase_add_loop_test(tc, test_bad_json, 0,
                        sizeof(bad_json) / sizeof(bad_json[0]));
    tcase_add_test(tc, test_unknown_encoding);
    tcase_add_test(tc, test_corrupt_encoding);
    tcase_add_test(tc, test_method_not_allowed);
    tcase_add_loop_test(tc, test_kafka_conf, 0,
                        sizeof(confs) / sizeof(confs[0]));

    tc = xf_tcase(s, "limits", 30, collect_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_max_body);
    tcase_add_test(tc, test_gzip_bomb);

    tc = xf_tcase(s, "faults", 30, collect_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_client_abort);
    tcase_add_test(tc, test_slow_client);
    tcase_add_loop_test(tc, test_disconnect_in_flight, 0, 2);
    tcase_add_test(tc, test_reload_in_flight);
    tcase_add_test(tc, test_delivery_failed);

    return s;
}
