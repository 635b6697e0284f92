/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-appsdk.c - the mobile SDKs' uploads and the Mixpanel and Amplitude
 * answers, through nginx with the module and into Kafka.
 *
 * app: every fixture of tests/fixtures/app-sdk/ (one upload as a mobile
 * SDK release builds it: headers, Content-Encoding, the Sensors form with
 * crc, gzip=1 and base64 gzip data_list, Basic auth, chunked bodies; see
 * the README there) is sent twice:
 *
 *   1. to a server whose locations name the formats: the answer is the
 *      status (and body) the SDK takes as success, and Kafka holds exactly
 *      the fixture's events, each an envelope v1 with the format as "src",
 *      the app the SDK sent and the distinct id as the message key;
 *   2. to a server whose rate limit refuses everything: the answer is the
 *      status that SDK retries (keeps the batch for), never one it drops
 *      the batch on (503 for the Sensors and PostHog apps, which delete a
 *      batch on 429; 429 for Segment's), and nothing reaches Kafka.
 *
 * answers: Mixpanel's bare 1, verbose {"status":1,"error":null} and the
 * image transport's GIF; Amplitude's {"code":200,"events_ingested":N,...}
 * and the "code" its SDK reads in errors (400, 413, 429), since it takes
 * the status from the body; dead letters per event; CORS preflights.
 */

#include <arpa/inet.h>
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xf_test.h"


#define APP_TOPIC        "events"
#define APP_DEAD_LETTER  "xflow_dead_letter"
#define APP_FIXTURES     "tests/fixtures/app-sdk"
#define APP_CONSUME_MS   15000
#define APP_SETTLE_MS    800


static char         limited_url[64];


static void
app_setup(void)
{
    char  snippet[4096];
    int   port2;

    xf_fixture_setup(1, 15000, APP_TOPIC, 1, APP_DEAD_LETTER, 1, NULL);

    port2 = xf_test_free_port();

    snprintf(snippet, sizeof(snippet),
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_kafka_conf linger.ms 1;\n"
        "    xflow_topic " APP_TOPIC ";\n"
        "    xflow_dead_letter_topic " APP_DEAD_LETTER ";\n"
        "    xflow_limit_zone none:1m key=$remote_addr rate=1r/m burst=1;\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /sa { xflow_collect sensors; }\n"
        "        location /batch { xflow_collect posthog; }\n"
        "        location /v1/ { xflow_collect segment; }\n"
        "        location /mp/ { xflow_collect mixpanel; }\n"
        "        location /amp/ { xflow_collect amplitude; }\n"
        "        location /amp-small/ {\n"
        "            xflow_collect amplitude;\n"
        "            xflow_max_events 2;\n"
        "        }\n"
        "    }\n"
        "    server {\n"
        "        listen 127.0.0.1:%d;\n"
        "        xflow_limit none;\n"
        "        location /sa { xflow_collect sensors; }\n"
        "        location /batch { xflow_collect posthog; }\n"
        "        location /v1/ { xflow_collect segment; }\n"
        "        location /mp/ { xflow_collect mixpanel; }\n"
        "        location /amp/ { xflow_collect amplitude; }\n"
        "    }\n", port2);

    xf_fixture_nginx(snippet, 1);
    snprintf(limited_url, sizeof(limited_url), "http://127.0.0.1:%d", port2);
}


static long
app_post(const char *base, const char *path, const char *type,
    const char *body, xf_http_resp_t *resp)
{
    char         url[256], ct[128];
    const char  *hdrs[2] = { ct, NULL };

    snprintf(url, sizeof(url), "%s%s", base, path);
    snprintf(ct, sizeof(ct), "Content-Type: %s", type);

    return xf_http_request("POST", url, hdrs, body, strlen(body), resp);
}


/* The limited server's one token goes first: it refuses the rest.  An
   upload of no event: nothing in Kafka. */
static void
app_spend_token(void)
{
    xf_http_resp_t  resp;

    app_post(limited_url, "/amp/2/httpapi", "application/json",
             "{\"api_key\":\"k\",\"events\":[]}", &resp);
    ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
    xf_http_resp_free(&resp);
}


static const char *
app_str(json_t *obj, const char *key)
{
    json_t  *v = json_object_get(obj, key);

    ck_assert_msg(json_is_string(v), "fixture: no string \"%s\"", key);
    return json_string_value(v);
}


/* Exactly n messages of topic, in msgs. */
static void
app_consume(const char *topic, size_t n, xf_kafka_msgs_t *msgs)
{
    memset(msgs, 0, sizeof(xf_kafka_msgs_t));
    xf_kafka_consume(kafka, topic, n, APP_CONSUME_MS, APP_SETTLE_MS, msgs);
}


/* Send a fixture's request to base; the answer in resp. */
static void
app_send(json_t *fx, const char *base, xf_http_resp_t *resp)
{
    char            url[512];
    const char     *hdrs[16];
    const char     *query, *b64;
    size_t          i, len;
    json_t         *h;
    unsigned char  *body;

    query = app_str(fx, "query");
    snprintf(url, sizeof(url), "%s%s%s%s", base, app_str(fx, "path"),
             *query ? "?" : "", query);

    h = json_object_get(fx, "headers");
    ck_assert(json_array_size(h) < 16);

    for (i = 0; i < json_array_size(h); i++) {
        hdrs[i] = json_string_value(json_array_get(h, i));
    }

    hdrs[i] = NULL;

    b64 = app_str(fx, "body_b64");
    body = xf_base64_decode(b64, strlen(b64), &len);
    ck_assert_msg(body != NULL, "bad base64 in a fixture");
    xf_http_request(app_str(fx, "method"), url, hdrs, body, len, resp);
    free(body);
}


static int
app_is_segment(json_t *fx)
{
    return strcmp(app_str(json_object_get(fx, "expect"), "src"), "segment")
           == 0;
}


START_TEST(test_app_fixtures)
{
    char              pattern[512], *root;
    size_t            i, k, total;
    glob_t            g;
    json_t           *fx, *expect, *events, *env, *want, *body;
    json_error_t      err;
    xf_consumer_t    *c;
    xf_kafka_msgs_t   msgs;
    xf_http_resp_t    resp;

    root = getenv("XFLOW_SRC");
    snprintf(pattern, sizeof(pattern), "%s%s" APP_FIXTURES "/*.json",
             root ? root : "", root ? "/" : "");
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, 7);

    c = xf_consumer_new(kafka, APP_TOPIC);
    memset(&msgs, 0, sizeof(xf_kafka_msgs_t));
    total = 0;

    app_spend_token();

    for (i = 0; i < g.gl_pathc; i++) {
        fx = json_load_file(g.gl_pathv[i], 0, &err);
        ck_assert_msg(fx != NULL, "%s: %s", g.gl_pathv[i], err.text);
        ck_assert_msg(json_is_string(json_object_get(fx, "version")),
                      "%s: the SDK version is part of a fixture",
                      g.gl_pathv[i]);

        expect = json_object_get(fx, "expect");
        events = json_object_get(expect, "events");

        /* 1. accepted as the SDK wants it */

        app_send(fx, nginx->url, &resp);
        ck_assert_msg(resp.status
                      == json_integer_value(json_object_get(expect, "status")),
                      "%s: %ld %s", g.gl_pathv[i], resp.status, resp.body);

        if (json_is_string(json_object_get(expect, "body"))) {
            ck_assert_str_eq(resp.body, app_str(expect, "body"));

        } else {
            body = json_loads(resp.body, 0, &err);
            ck_assert_msg(body != NULL, "%s: %s", g.gl_pathv[i], resp.body);
            ck_assert_int_eq(json_integer_value(
                                 json_object_get(body, "accepted")),
                             json_array_size(events));
            ck_assert_int_eq(json_integer_value(
                                 json_object_get(body, "rejected")), 0);
            json_decref(body);
        }

        xf_http_resp_free(&resp);

        total += json_array_size(events);
        ck_assert_uint_eq(xf_consumer_read(c, &msgs, total, APP_CONSUME_MS),
                          total);

        for (k = 0; k < json_array_size(events); k++) {
            const xf_kafka_msg_t  *m;

            m = &msgs.msgs[total - json_array_size(events) + k];
            want = json_array_get(events, k);

            env = json_loads(m->value, 0, &err);
            ck_assert_msg(env != NULL, "%s: %s", g.gl_pathv[i], err.text);
            ck_assert_int_eq(json_integer_value(json_object_get(env, "v")),
                             1);
            ck_assert_str_eq(app_str(env, "src"), app_str(expect, "src"));
            ck_assert_str_eq(app_str(env, "app"), app_str(expect, "app"));
            ck_assert_msg(m->key != NULL
                          && strcmp(m->key, app_str(want, "key")) == 0,
                          "%s: event %zu keyed %s", g.gl_pathv[i], k,
                          m->key ? m->key : "(none)");
            ck_assert_msg(xf_memstr(m->value, m->value_len,
                                    app_str(want, "name")) != NULL,
                          "%s: event %zu is not %s: %s", g.gl_pathv[i], k,
                          app_str(want, "name"), m->value);
            json_decref(env);
        }

        /* 2. refused: the status this SDK retries */

        app_send(fx, limited_url, &resp);
        ck_assert_msg(resp.status == (app_is_segment(fx) ? 429 : 503),
                      "%s: limited: %ld %s", g.gl_pathv[i], resp.status,
                      resp.body);
        ck_assert_msg(strstr(resp.body, "rate_limited") != NULL, "%s",
                      resp.body);
        xf_http_resp_free(&resp);

        json_decref(fx);
    }

    xf_consumer_expect_quiet(c, APP_SETTLE_MS);
    ck_assert_int_eq(xf_kafka_count(kafka, APP_DEAD_LETTER), 0);

    xf_kafka_msgs_free(&msgs);
    xf_consumer_free(c);
    globfree(&g);
}
END_TEST


/* ------------------------------------------------- Mixpanel, Amplitude */

#define MP_EVENT(name, id)                                                   \
    "{\"event\":\"" name "\",\"properties\":{\"token\":\"mptok\","           \
    "\"distinct_id\":\"" id "\",\"$insert_id\":\"i" id "\"}}"

#define AMP_EVENT(type, user)                                                \
    "{\"event_type\":\"" type "\",\"user_id\":\"" user "\","                 \
    "\"device_id\":\"dev\",\"insert_id\":\"ins-" user "\"}"




START_TEST(test_mixpanel_answers)
{
    char             url[512];
    char            *ct;
    xf_kafka_msgs_t  msgs;
    xf_http_resp_t   resp;

    app_spend_token();

    /* data=<JSON> percent-encoded, as api_payload_format "json" sends */
    app_post(nginx->url, "/mp/track/?ip=1&_=1",
             "application/x-www-form-urlencoded",
             "data=%5B" "%7B%22event%22%3A%22a%22%2C%22properties%22%3A%7B"
             "%22token%22%3A%22mptok%22%2C%22distinct_id%22%3A%22u1%22%7D%7D"
             "%2C%7B%22properties%22%3A%7B%7D%7D" "%5D", &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "1");
    xf_http_resp_free(&resp);

    /* the batch sender's verbose answer; a JSON body */
    app_post(nginx->url, "/mp/track/?verbose=1&ip=1", "application/json",
             "[" MP_EVENT("b", "u2") "]", &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"status\":1,\"error\":null}");
    xf_http_resp_free(&resp);

    /* the image transport: base64 data= in the query, a GIF back */
    snprintf(url, sizeof(url), "%s/mp/track/?data=%s&ip=1&img=1", nginx->url,
             "eyJldmVudCI6ImMiLCJwcm9wZXJ0aWVzIjp7InRva2VuIjoibXB0b2siLCJk"
             "aXN0aW5jdF9pZCI6InUzIn19");
    xf_http_request("GET", url, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    ct = xf_http_header(&resp, "Content-Type");
    ck_assert_str_eq(ct, "image/gif");
    free(ct);
    ck_assert_int_eq(memcmp(resp.body, "GIF89a", 6), 0);
    xf_http_resp_free(&resp);

    /* a base64 value that is not base64: the whole request */
    app_post(nginx->url, "/mp/engage/", "application/x-www-form-urlencoded",
             "data=%%%", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_msg(strstr(resp.body, "\"error\":") != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);

    app_consume(APP_TOPIC, 3, &msgs);
    ck_assert_str_eq(msgs.msgs[0].key, "u1");
    ck_assert_str_eq(msgs.msgs[2].key, "u3");
    ck_assert(strstr(msgs.msgs[1].value, "\"src\":\"mixpanel\"") != NULL);
    ck_assert(strstr(msgs.msgs[1].value, "\"app\":\"mptok\"") != NULL);
    xf_kafka_msgs_free(&msgs);

    /* the event without its token, per event; then the bad request */
    app_consume(APP_DEAD_LETTER, 2, &msgs);
    ck_assert_msg(strstr(msgs.msgs[0].value, "missing_field") != NULL, "%s",
                  msgs.msgs[0].value);
    ck_assert_msg(strstr(msgs.msgs[1].value, "bad_form") != NULL, "%s",
                  msgs.msgs[1].value);
    xf_kafka_msgs_free(&msgs);

    /* throttled: the batch sender retries 429 (and 5xx) */
    app_post(limited_url, "/mp/track/?verbose=1", "application/json",
             "[" MP_EVENT("d", "u4") "]", &resp);
    ck_assert_int_eq(resp.status, 429);
    xf_http_resp_free(&resp);
}
END_TEST


START_TEST(test_amplitude_answers)
{
    const char       *hdrs[4];
    json_t           *j;
    json_error_t      err;
    xf_kafka_msgs_t   msgs;
    xf_http_resp_t    resp;

    app_spend_token();

    app_post(nginx->url, "/amp/2/httpapi", "application/json",
             "{\"api_key\":\"ampkey\",\"events\":[" AMP_EVENT("a", "u1") ","
             AMP_EVENT("b", "u2") ",{\"event_type\":\"c\"}],"
             "\"options\":{}}", &resp);
    ck_assert_int_eq(resp.status, 200);
    j = json_loads(resp.body, 0, &err);
    ck_assert_msg(j != NULL, "%s", resp.body);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "code")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j,
                                                        "events_ingested")),
                     2);
    ck_assert(json_integer_value(json_object_get(j, "server_upload_time"))
              > 1700000000000LL);
    json_decref(j);
    xf_http_resp_free(&resp);

    app_consume(APP_TOPIC, 2, &msgs);
    ck_assert_str_eq(msgs.msgs[0].key, "u1");
    ck_assert(strstr(msgs.msgs[1].value, "\"src\":\"amplitude\"") != NULL);
    ck_assert(strstr(msgs.msgs[1].value, "\"app\":\"ampkey\"") != NULL);
    xf_kafka_msgs_free(&msgs);
    app_consume(APP_DEAD_LETTER, 1, &msgs);
    xf_kafka_msgs_free(&msgs);

    /* errors carry "code": the SDK reads the status from there */
    app_post(nginx->url, "/amp/2/httpapi", "application/json",
             "{\"api_key\":\"ampkey\",\"events\":[", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_msg(strstr(resp.body, "\"code\":400") != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);

    /* 413: the SDK halves its batch and sends again */
    app_post(nginx->url, "/amp-small/batch", "application/json",
             "{\"api_key\":\"ampkey\",\"events\":[" AMP_EVENT("a", "u1") ","
             AMP_EVENT("a", "u2") "," AMP_EVENT("a", "u3") "]}", &resp);
    ck_assert_int_eq(resp.status, 413);
    ck_assert_msg(strstr(resp.body, "\"code\":413") != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);

    /* 429: throttled, kept and sent again later */
    app_post(limited_url, "/amp/2/httpapi", "application/json",
             "{\"api_key\":\"ampkey\",\"events\":[" AMP_EVENT("a", "u1") "]}",
             &resp);
    ck_assert_int_eq(resp.status, 429);
    ck_assert_msg(strstr(resp.body, "\"code\":429") != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);

    /* the browser SDK's preflight (fetch with Content-Type JSON) */
    hdrs[0] = "Origin: https://shop.example";
    hdrs[1] = "Access-Control-Request-Method: POST";
    hdrs[2] = "Access-Control-Request-Headers: content-type";
    hdrs[3] = NULL;
    {
        char  url[256], *acao;

        snprintf(url, sizeof(url), "%s/amp/2/httpapi", nginx->url);
        xf_http_request("OPTIONS", url, hdrs, NULL, 0, &resp);
        ck_assert_int_eq(resp.status, 204);
        acao = xf_http_header(&resp, "Access-Control-Allow-Origin");
        ck_assert_str_eq(acao, "https://shop.example");
        free(acao);
        xf_http_resp_free(&resp);
    }
}
END_TEST


Suite *
make_appsdk_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("appsdk");

    tc = xf_tcase(s, "app", 120, app_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_app_fixtures);

    tc = xf_tcase(s, "answers", 90, app_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_mixpanel_answers);
    tcase_add_test(tc, test_amplitude_answers);

    return s;
}
