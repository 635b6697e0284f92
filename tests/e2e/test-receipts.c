/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-receipts.c - per-event receipts, end to end: a plain-JSON batch
 * under xflow_ack kafka gets one receipt per event whose partition and
 * offset fetch that very message from Kafka, and the access log's
 * $xflow_offset_first / $xflow_offset_last name the first and last of
 * them; a PostHog v1 upload (brotli, Bearer token) gets the "results"
 * its SDK parses, keyed by uuid; a message Kafka refuses for good is
 * "drop" in the results; a spooled event is ok, spooled, without a
 * position; a v1 upload nothing acknowledged in time is 200 with
 * "retry" per event; ack=local receipts carry no position, and without
 * receipts the answer is the counts as before.  A batch sent again
 * within xflow_dedup is duplicate per event; a kill switch's drop is
 * "dropped" (PostHog's "drop").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xf_test.h"


#define TOPIC         "events"
#define DEAD_LETTER   "xflow_dead_letter"
#define CONSUME_MS    10000
#define SETTLE_MS     1000
#define NEVENTS       24


static void rc_setup(void);
static void rc_start(const char *http);
/* The headers PostHog's v1 capture requires but the token's and types. */
#define V1_HEADERS                                                          \
    "User-Agent: posthog-go/1.0.0",                                         \
    "PostHog-Sdk-Info: posthog-go/1.0.0",                                   \
    "PostHog-Attempt: 1",                                                   \
    "PostHog-Request-Id: 0193a1f0-0000-7000-8000-0000000000aa",             \
    "PostHog-Request-Timestamp: 2026-12-07T20:00:00Z"


static json_t *rc_post(const char *path, const char *const *headers,
    const void *body, size_t len);
static const xf_kafka_msg_t *rc_at(const xf_kafka_msgs_t *msgs,
    json_t *receipt);
static char *rc_log_line(const char *needle);


static void
rc_setup(void)
{
    xf_fixture_setup(1, 15000, TOPIC, 3, DEAD_LETTER, 1, NULL);
}


/* nginx with the locations the tests use, and an access log of offsets */
static void
rc_start(const char *http)
{
    char  snippet[4096], extra[1024];

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    /* http may name the prefix directory as %s */
    snprintf(extra, sizeof(extra), http, nginx->dir);

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " TOPIC ";\n"
             "%s"
             "    log_format xf_offsets '$request_uri $xflow_offset_first "
             "$xflow_offset_last $xflow_events';\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        access_log %s/offsets.log xf_offsets;\n"
             "        location /collect { xflow_collect json; }\n"
             "        location /local {\n"
             "            xflow_collect json;\n"
             "            xflow_receipts on;\n"
             "            xflow_ack local;\n"
             "        }\n"
             "        location /off {\n"
             "            xflow_collect json;\n"
             "            xflow_receipts off;\n"
             "        }\n"
             "        location /ingest { xflow_collect; }\n"
             "        location /dedup {\n"
             "            xflow_collect json;\n"
             "            xflow_dedup 1m;\n"
             "        }\n"
             "        location /kill {\n"
             "            xflow_collect json;\n"
             "            xflow_kill event=noise drop;\n"
             "        }\n"
             "        location /slow {\n"
             "            xflow_collect posthog;\n"
             "            xflow_ack_timeout 2s;\n"
             "        }\n"
             "        location /catalog { xflow_catalog; }\n"
             "        location /metrics { xflow_metrics; }\n"
             "    }\n",
             extra, nginx->dir);

    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);
}


/* POST path with headers; 200 and a JSON object, which is returned. */
static json_t *
rc_post(const char *path, const char *const *headers, const void *body,
    size_t len)
{
    char            url[256];
    long            status;
    json_t         *j;
    json_error_t    err;
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s%s", nginx->url, path);

    status = xf_http_request("POST", url, headers, body, len, &resp);
    ck_assert_msg(status == 200, "POST %s: %ld %s", path, status,
                  resp.body ? resp.body : "");

    j = json_loads(resp.body, 0, &err);
    ck_assert_msg(j != NULL && json_is_object(j), "POST %s: not JSON: %s",
                  path, resp.body);

    xf_http_resp_free(&resp);

    return j;
}


/* The consumed message at the receipt's partition and offset. */
static const xf_kafka_msg_t *
rc_at(const xf_kafka_msgs_t *msgs, json_t *receipt)
{
    size_t      i;
    json_int_t  partition, offset;

    ck_assert_str_eq(json_string_value(json_object_get(receipt, "topic")),
                     TOPIC);
    ck_assert(json_is_integer(json_object_get(receipt, "partition")));
    ck_assert(json_is_integer(json_object_get(receipt, "offset")));

    partition = json_integer_value(json_object_get(receipt, "partition"));
    offset = json_integer_value(json_object_get(receipt, "offset"));

    for (i = 0; i < msgs->n; i++) {
        if (msgs->msgs[i].partition == partition
            && msgs->msgs[i].offset == offset)
        {
            return &msgs->msgs[i];
        }
    }

    ck_abort_msg("no message at partition %lld offset %lld",
                 (long long) partition, (long long) offset);

    return NULL;
}


/* The access log line holding needle, once nginx wrote it. */
static char *
rc_log_line(const char *needle)
{
    int      tries;
    char     path[256], *text, *line, *end;

    snprintf(path, sizeof(path), "%s/offsets.log", nginx->dir);

    for (tries = 0; tries < 50; tries++) {
        text = xf_read_file(path, NULL);

        if (text != NULL && (line = strstr(text, needle)) != NULL) {
            end = strchr(line, '\n');
            if (end != NULL) {
                *end = '\0';
            }

            line = strdup(line);
            free(text);
            return line;
        }

        free(text);
        xf_sleep_ms(100);
    }

    ck_abort_msg("no access log line with %s", needle);

    return NULL;
}


/*
 * A batch of NEVENTS events with distinct users (spread over the three
 * partitions) and one element that is not an object: a receipt each, in
 * order; each ok one names the message that holds that very event.
 */
START_TEST(test_json_positions)
{
    char             *body, *p, *line, want[128], marker[32];
    size_t            i, k;
    json_t           *j, *receipts, *r;
    xf_kafka_msgs_t   msgs;
    const char       *hdrs[] = { "Content-Type: application/json", NULL };
    const xf_kafka_msg_t  *m, *first, *last;

    rc_start("");

    body = malloc(NEVENTS * 96 + 16);
    ck_assert_ptr_nonnull(body);

    p = body;
    p += sprintf(p, "[");

    for (i = 0; i < NEVENTS; i++) {
        p += sprintf(p, "%s{\"event\":\"e\",\"user_id\":\"user-%zu\","
                     "\"n\":%zu}", i ? "," : "", i, i);

        if (i == 3) {
            p += sprintf(p, ",7");
        }
    }

    sprintf(p, "]");

    j = rc_post("/collect?receipts=1", hdrs, body, strlen(body));

    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")),
                     NEVENTS);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "rejected")), 1);

    receipts = json_object_get(j, "receipts");
    ck_assert(json_is_array(receipts));
    ck_assert_uint_eq(json_array_size(receipts), NEVENTS + 1);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, TOPIC, NEVENTS, CONSUME_MS, SETTLE_MS, &msgs);
    ck_assert_uint_eq(msgs.n, NEVENTS);

    first = NULL;
    last = NULL;

    for (i = 0, k = 0; i < json_array_size(receipts); i++) {
        r = json_array_get(receipts, i);

        if (i == 4) {
            /* the 7 */
            ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
                             "invalid");
            ck_assert_str_eq(json_string_value(json_object_get(r, "reason")),
                             "not_object");
            ck_assert_ptr_null(json_object_get(r, "offset"));
            continue;
        }

        ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
                         "ok");

        m = rc_at(&msgs, r);

        snprintf(marker, sizeof(marker), "\"n\":%zu}", k);
        ck_assert_msg(strstr(m->value, marker) != NULL,
                      "receipt %zu: the message at its position is %s", i,
                      m->value);

        if (first == NULL) {
            first = m;
        }

        last = m;
        k++;
    }

    ck_assert_uint_eq(k, NEVENTS);

    /* the access log: the first and last event's positions */
    line = rc_log_line("/collect?receipts=1 ");
    snprintf(want, sizeof(want), "/collect?receipts=1 %d:%lld %d:%lld %d",
             (int) first->partition, (long long) first->offset,
             (int) last->partition, (long long) last->offset, NEVENTS);
    ck_assert_str_eq(line, want);

    free(line);
    xf_kafka_msgs_free(&msgs);
    json_decref(j);
    free(body);
}
END_TEST


/* Without ?receipts=1, or with xflow_receipts off: the counts only. */
START_TEST(test_json_counts)
{
    json_t      *j;
    const char  *body = "[{\"event\":\"a\"},{\"event\":\"b\"}]";

    rc_start("");

    j = rc_post("/collect", NULL, body, strlen(body));
    ck_assert_ptr_null(json_object_get(j, "receipts"));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    json_decref(j);

    j = rc_post("/off?receipts=1", NULL, body, strlen(body));
    ck_assert_ptr_null(json_object_get(j, "receipts"));
    json_decref(j);

    /* ack=local: a receipt each, without a position */
    j = rc_post("/local", NULL, body, strlen(body));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "receipts")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(j, "receipts"), 1),
                         "result")), "ok");
    ck_assert_ptr_null(json_object_get(
        json_array_get(json_object_get(j, "receipts"), 1), "offset"));
    json_decref(j);
}
END_TEST


/*
 * PostHog's v1 capture as its SDKs send it: Bearer token, brotli, the
 * {created_at, batch} body.  "results" keyed by uuid: ok with the
 * position of the message that holds the event (its app the token),
 * drop with the reason for an event without a name.
 */
START_TEST(test_posthog_v1)
{
    void                  *br;
    size_t                 len;
    json_t                *j, *results, *ok, *drop;
    const char            *body;
    xf_kafka_msgs_t        msgs;
    const xf_kafka_msg_t  *m;
    const char            *hdrs[] = {
        "Authorization: Bearer phc_receipts",
        "Content-Type: application/json",
        "Content-Encoding: br",
        V1_HEADERS,
        NULL
    };

    rc_start("");

    body = "{\"created_at\":\"2026-12-07T20:00:00Z\",\"batch\":["
           "{\"event\":\"$pageview\","
           "\"uuid\":\"0193a1f0-0000-7000-8000-000000000001\","
           "\"distinct_id\":\"user-1\","
           "\"timestamp\":\"2026-12-07T19:59:59Z\",\"options\":{},"
           "\"properties\":{\"$current_url\":\"https://example.com/\"}},"
           "{\"uuid\":\"0193a1f0-0000-7000-8000-000000000002\","
           "\"distinct_id\":\"user-1\","
           "\"timestamp\":\"2026-12-07T19:59:59Z\",\"properties\":{}},"
           "{\"event\":\"signup\","
           "\"uuid\":\"0193a1f0-0000-7000-8000-000000000003\","
           "\"distinct_id\":\"user-2\","
           "\"timestamp\":\"2026-12-07T19:59:59Z\",\"properties\":{}}]}";

    br = xf_compress(XF_TEST_BR, body, strlen(body), &len);

    j = rc_post("/ingest/i/v1/analytics/events", hdrs, br, len);
    free(br);

    /* exactly the shape: one member, "results" */
    ck_assert_uint_eq(json_object_size(j), 1);
    results = json_object_get(j, "results");
    ck_assert(json_is_object(results));
    ck_assert_uint_eq(json_object_size(results), 3);

    drop = json_object_get(results, "0193a1f0-0000-7000-8000-000000000002");
    ck_assert_str_eq(json_string_value(json_object_get(drop, "result")),
                     "drop");
    ck_assert_str_eq(json_string_value(json_object_get(drop, "details")),
                     "missing_field");

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, TOPIC, 2, CONSUME_MS, SETTLE_MS, &msgs);
    ck_assert_uint_eq(msgs.n, 2);

    ok = json_object_get(results, "0193a1f0-0000-7000-8000-000000000001");
    ck_assert_str_eq(json_string_value(json_object_get(ok, "result")), "ok");
    m = rc_at(&msgs, ok);
    ck_assert(strstr(m->value, "0193a1f0-0000-7000-8000-000000000001"));
    ck_assert(strstr(m->value, "\"app\":\"phc_receipts\""));
    ck_assert_str_eq(m->key, "user-1");

    ok = json_object_get(results, "0193a1f0-0000-7000-8000-000000000003");
    ck_assert_str_eq(json_string_value(json_object_get(ok, "result")), "ok");
    m = rc_at(&msgs, ok);
    ck_assert(strstr(m->value, "0193a1f0-0000-7000-8000-000000000003"));

    xf_kafka_msgs_free(&msgs);
    json_decref(j);
}
END_TEST


/*
 * The brokers take nothing: after xflow_spool_after the events are on
 * the spool, durable, and each receipt says ok, spooled, with no
 * position; the access log has none either.
 */
START_TEST(test_spooled)
{
    char        *line;
    json_t      *j, *r;
    const char  *body = "[{\"event\":\"a\",\"user_id\":\"u\"},"
                        "{\"event\":\"b\",\"user_id\":\"u\"}]";

    rc_start("    xflow_spool %s/spool fsync=always;\n"
             "    xflow_spool_after 1s;\n");

    xf_kafka_set_leaderless(kafka, TOPIC, 3, 1);

    j = rc_post("/collect?receipts=1&spooled", NULL, body, strlen(body));

    r = json_array_get(json_object_get(j, "receipts"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")), "ok");
    ck_assert(json_is_true(json_object_get(r, "spooled")));
    ck_assert_ptr_null(json_object_get(r, "offset"));

    line = rc_log_line("/collect?receipts=1&spooled ");
    ck_assert_str_eq(line, "/collect?receipts=1&spooled - - 2");

    xf_kafka_set_leaderless(kafka, TOPIC, 3, 0);

    free(line);
    json_decref(j);
}
END_TEST


/* The events the catalog counted (xflow_catalog_zone given). */
static json_int_t
rc_catalog_events(void)
{
    char            url[256];
    json_t         *j;
    json_int_t      n;
    json_error_t    err;
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s/catalog", nginx->url);
    ck_assert_int_eq(xf_http_request("GET", url, NULL, NULL, 0, &resp), 200);
    j = json_loads(resp.body, 0, &err);
    ck_assert_ptr_nonnull(j);
    n = json_integer_value(json_object_get(j, "events"));
    json_decref(j);
    xf_http_resp_free(&resp);

    return n;
}


/*
 * Nothing acknowledges within xflow_ack_timeout and there is no spool:
 * PostHog's v1 answer is still 200, each event "retry" with the
 * outcome's code, and Retry-After says when.
 */
START_TEST(test_posthog_retry)
{
    char            url[256];
    long            status;
    json_t         *j, *r;
    json_error_t    err;
    xf_http_resp_t  resp;
    char           *retry_after;
    const char     *body;
    const char     *hdrs[] = { "Authorization: Bearer phc_receipts",
                               "Content-Type: application/json",
                               V1_HEADERS, NULL };

    rc_start("    xflow_catalog_zone 1m;\n");

    xf_kafka_set_leaderless(kafka, TOPIC, 3, 1);

    body = "{\"created_at\":\"2026-12-07T20:00:00Z\",\"batch\":["
           "{\"event\":\"late\",\"uuid\":\"u-9\",\"distinct_id\":\"d\","
           "\"timestamp\":\"2026-12-07T19:59:59Z\",\"properties\":{}}]}";

    snprintf(url, sizeof(url), "%s/slow/i/v1/analytics/events", nginx->url);
    status = xf_http_request("POST", url, hdrs, body, strlen(body), &resp);
    ck_assert_msg(status == 200, "%ld %s", status, resp.body);

    retry_after = xf_http_header(&resp, "Retry-After");
    ck_assert_ptr_nonnull(retry_after);
    ck_assert_str_eq(retry_after, "1");
    free(retry_after);

    j = json_loads(resp.body, 0, &err);
    ck_assert_ptr_nonnull(j);

    r = json_object_get(json_object_get(j, "results"), "u-9");
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
                     "retry");
    ck_assert_str_eq(json_string_value(json_object_get(r, "details")),
                     "ack_timeout");

    /* an event its SDK sends again is not counted yet */
    ck_assert_int_eq(rc_catalog_events(), 0);
    ck_assert_uint_eq(xf_metrics_get(nginx,
        "xflow_events_total{format=\"posthog\",result=\"overflowed\"}"),
        1);
    ck_assert_uint_eq(xf_metrics_get(nginx,
        "xflow_events_total{format=\"posthog\",result=\"accepted\"}"),
        0);

    xf_kafka_set_leaderless(kafka, TOPIC, 3, 0);

    json_decref(j);
    xf_http_resp_free(&resp);
}
END_TEST


/*
 * PostHog's v1 capture refuses a request without the headers it
 * requires, or with bad ones, before reading its body, as PostHog does:
 * its status and {"error","error_description","error_uri"}, nothing
 * produced.
 */
START_TEST(test_posthog_v1_headers)
{
    char            url[256], *accept;
    long            status;
    size_t          i;
    int64_t         before;
    const char     *body;
    xf_http_resp_t  resp;

    static const struct {
        const char  *hdrs[9];
        long         status;
        const char  *answer;
    } cases[] = {
        { { "Content-Type: application/json", V1_HEADERS, NULL }, 401,
          "{\"error\":\"invalid_api_token\",\"error_description\":"
          "\"The provided API token is not valid.\",\"error_uri\":"
          "\"https://posthog.com/docs/api\"}" },
        /* (the client sends a form's Content-Type with a body) */
        { { "Authorization: Bearer phc_receipts", "User-Agent: go/1",
            "PostHog-Sdk-Info: posthog-go/1.0.0", NULL }, 400,
          "{\"error\":\"missing_required_headers\",\"error_description\":"
          "\"request is missing required headers: [\\\"PostHog-Attempt\\\", "
          "\\\"PostHog-Request-Id\\\", \\\"PostHog-Request-Timestamp\\\"]\","
          "\"error_uri\":"
          "\"https://posthog.com/docs/api\"}" },
        { { "Authorization: Bearer phc_receipts",
            "Content-Type: text/plain", V1_HEADERS, NULL }, 415,
          "{\"error\":\"unsupported_content_type\",\"error_description\":"
          "\"unsupported content type: text/plain\",\"error_uri\":"
          "\"https://posthog.com/docs/api\"}" },
        { { "Authorization: Bearer phx_personal",
            "Content-Type: application/json", V1_HEADERS, NULL }, 401,
          NULL },
        { { "Authorization: Bearer phc_receipts",
            "Content-Type: application/json", "User-Agent: go/1",
            "PostHog-Sdk-Info: posthog-go/1.0.0", "PostHog-Attempt: 0",
            "PostHog-Request-Id: 0193a1f0-0000-7000-8000-0000000000aa",
            "PostHog-Request-Timestamp: 2026-12-07T20:00:00Z", NULL }, 400,
          "{\"error\":\"invalid_header_value\",\"error_description\":"
          "\"invalid header value: PostHog-Attempt must be a positive "
          "integer: 0\",\"error_uri\":\"https://posthog.com/docs/api\"}" }
    };

    rc_start("");

    body = "{\"created_at\":\"2026-12-07T20:00:00Z\",\"batch\":["
           "{\"event\":\"e\",\"uuid\":\"u-1\",\"distinct_id\":\"d\","
           "\"timestamp\":\"2026-12-07T19:59:59Z\",\"properties\":{}}]}";

    snprintf(url, sizeof(url), "%s/ingest/i/v1/analytics/events",
             nginx->url);
    before = xf_kafka_count(kafka, TOPIC);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        status = xf_http_request("POST", url, cases[i].hdrs, body,
                                 strlen(body), &resp);
        ck_assert_msg(status == cases[i].status, "case %zu: %ld %s", i,
                      status, resp.body ? resp.body : "");

        if (cases[i].answer != NULL) {
            ck_assert_str_eq(resp.body, cases[i].answer);
        }

        accept = xf_http_header(&resp, "Accept-Encoding");
        ck_assert_ptr_nonnull(accept);
        ck_assert_str_eq(accept, "gzip, deflate, br, zstd");
        free(accept);
        xf_http_resp_free(&resp);
    }

    /* the legacy routes ask for none of them */
    snprintf(url, sizeof(url), "%s/ingest/batch", nginx->url);
    status = xf_http_request("POST", url, NULL, body, strlen(body), &resp);
    ck_assert_int_eq(status, 200);
    xf_http_resp_free(&resp);

    /* nothing of the refused ones reached Kafka */
    xf_sleep_ms(500);
    ck_assert_int_eq(xf_kafka_count(kafka, TOPIC), before + 1);
}
END_TEST


/*
 * posthog-node's real v1 upload (POSTHOG_CAPTURE_MODE=v1, recorded by
 * tests/browser/record-posthog-node.js): taken with the headers it sends,
 * one ok result per event uuid, each event in Kafka; the same upload
 * without one of its PostHog-* headers refused as PostHog refuses it.
 */
START_TEST(test_posthog_node_v1)
{
    char              file[512], url[256], **h;
    long              status;
    size_t            i, k;
    json_t           *root, *rec, *batch, *j, *r;
    int64_t           before;
    json_error_t      err;
    xf_http_resp_t    resp;
    xf_capture_req_t  req;

    rc_start("");

    snprintf(file, sizeof(file), "%s/tests/fixtures/posthog-v1/"
             "posthog-node__v1.json", xf_test_src_dir());
    root = json_load_file(file, 0, &err);
    ck_assert_msg(root != NULL, "%s: %s", file, err.text);

    rec = json_array_get(json_object_get(root, "serverRecords"), 0);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(json_string_value(json_object_get(rec, "path")),
                     "/i/v1/analytics/events");
    batch = json_object_get(json_object_get(json_object_get(rec, "decoded"),
                                            "value"), "batch");
    ck_assert_uint_eq(json_array_size(batch), 2);

    xf_capture_req(rec, &req);
    snprintf(url, sizeof(url), "%s/ingest/i/v1/analytics/events",
             nginx->url);
    before = xf_kafka_count(kafka, TOPIC);

    status = xf_capture_send(&req, url, &resp);
    ck_assert_msg(status == 200, "%ld %s", status, resp.body);

    j = json_loads(resp.body, 0, &err);
    ck_assert_ptr_nonnull(j);

    for (i = 0; i < json_array_size(batch); i++) {
        r = json_object_get(json_object_get(j, "results"),
                            json_string_value(json_object_get(
                                json_array_get(batch, i), "uuid")));
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
                         "ok");
    }

    json_decref(j);
    xf_http_resp_free(&resp);
    /* ack=kafka where /ingest answers: in Kafka once answered ok */
    ck_assert_int_eq(xf_kafka_count(kafka, TOPIC), before + 2);

    /* without its request id: 400, as PostHog answers it */
    for (h = req.headers, k = 0; h[k] != NULL; k++) {
        if (strncasecmp(h[k], "PostHog-Request-Id:", 19) == 0) {
            h[k][0] = 'X';      /* another header's name */
        }
    }

    status = xf_capture_send(&req, url, &resp);
    ck_assert_int_eq(status, 400);
    ck_assert_ptr_nonnull(strstr(resp.body, "\"missing_required_headers\""));
    ck_assert_ptr_nonnull(strstr(resp.body, "PostHog-Request-Id"));
    xf_http_resp_free(&resp);

    xf_capture_req_free(&req);
    json_decref(root);
}
END_TEST


/*
 * Kafka refuses the upload's messages for good (too large for the
 * broker): each event is "drop" with refused_by_kafka, and its notice is
 * on the dead-letter topic; nothing is retried.
 */
START_TEST(test_posthog_refused)
{
    json_t       *j, *r;
    const char   *body;
    const char   *hdrs[] = { "Authorization: Bearer phc_receipts",
                             "Content-Type: application/json",
                             V1_HEADERS, NULL };

    rc_start("    xflow_catalog_zone 1m;\n");

    xf_kafka_fail_produce(kafka, 3, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);

    body = "{\"created_at\":\"2026-12-07T20:00:00Z\",\"batch\":["
           "{\"event\":\"big\",\"uuid\":\"u-1\",\"distinct_id\":\"d\","
           "\"timestamp\":\"2026-12-07T19:59:59Z\",\"properties\":{}}]}";

    j = rc_post("/ingest/i/v1/analytics/events", hdrs, body, strlen(body));

    r = json_object_get(json_object_get(j, "results"), "u-1");
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")), "drop");
    ck_assert_str_eq(json_string_value(json_object_get(r, "details")),
                     "refused_by_kafka");

    /* answered for good: its SDK will not send it again, it counts */
    ck_assert_int_eq(rc_catalog_events(), 1);

    json_decref(j);
}
END_TEST


/*
 * Under xflow_dedup, the same plain-JSON batch twice: the first answer's
 * receipts are ok with positions, the second's duplicate (still counted
 * as accepted: the SDK must not send them a third time).
 */
START_TEST(test_json_duplicate)
{
    size_t       i;
    json_t      *j, *rcs;
    const char  *body = "[{\"event\":\"a\",\"n\":1},"
                        "{\"event\":\"b\",\"n\":2}]";

    rc_start("");

    j = rc_post("/dedup?receipts=1", NULL, body, strlen(body));
    rcs = json_object_get(j, "receipts");
    ck_assert_uint_eq(json_array_size(rcs), 2);

    for (i = 0; i < 2; i++) {
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(rcs, i), "result")), "ok");
        ck_assert(json_is_integer(json_object_get(json_array_get(rcs, i),
                                                  "offset")));
    }

    json_decref(j);

    j = rc_post("/dedup?receipts=1", NULL, body, strlen(body));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "rejected")), 0);
    rcs = json_object_get(j, "receipts");
    ck_assert_uint_eq(json_array_size(rcs), 2);

    for (i = 0; i < 2; i++) {
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(rcs, i), "result")),
                         "duplicate");
        ck_assert_ptr_null(json_object_get(json_array_get(rcs, i),
                                           "offset"));
    }

    json_decref(j);
}
END_TEST


/*
 * A kill switch's drop: "dropped" with the reason kill_switch, counted
 * among accepted as the answer without receipts counts it; the event
 * next to it is ok.
 */
START_TEST(test_json_dropped)
{
    json_t      *j, *rcs, *one;
    const char  *body = "[{\"event\":\"noise\"},{\"event\":\"keep\"}]";

    rc_start("");

    j = rc_post("/kill?receipts=1", NULL, body, strlen(body));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    rcs = json_object_get(j, "receipts");
    ck_assert_uint_eq(json_array_size(rcs), 2);

    one = json_array_get(rcs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(one, "result")),
                     "dropped");
    ck_assert_str_eq(json_string_value(json_object_get(one, "reason")),
                     "kill_switch");
    ck_assert_ptr_null(json_object_get(one, "offset"));

    one = json_array_get(rcs, 1);
    ck_assert_str_eq(json_string_value(json_object_get(one, "result")),
                     "ok");
    ck_assert(json_is_integer(json_object_get(one, "offset")));

    json_decref(j);
}
END_TEST


Suite *
make_receipts_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("receipts");

    tc = xf_tcase(s, "core", 60, rc_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_json_positions);
    tcase_add_test(tc, test_json_counts);
    tcase_add_test(tc, test_posthog_v1);
    tcase_add_test(tc, test_posthog_refused);
    tcase_add_test(tc, test_posthog_v1_headers);
    tcase_add_test(tc, test_posthog_node_v1);
    tcase_add_test(tc, test_spooled);
    tcase_add_test(tc, test_posthog_retry);
    tcase_add_test(tc, test_json_duplicate);
    tcase_add_test(tc, test_json_dropped);

    return s;
}
