/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-metrics.c - /metrics before and after a known mix of traffic
 * (valid, invalid, dead-lettered, rate-limited, during a Kafka outage):
 * each counter moves by exactly the right amount, and the page is valid
 * Prometheus text (promtool).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_test.h"




static void
metrics_setup(void)
{
    xf_fixture_setup(1, 15000, "events", 1, "xflow_dead_letter", 1, NULL);
}


/* The value of one series ("name{labels}"), 0 when absent. */
static double
series(const char *text, const char *name)
{
    const char  *v;

    v = xf_metrics_find(text, name);

    return v != NULL ? strtod(v, NULL) : 0;
}


/* Sample lines of an exposition. */
static size_t
series_count(const char *text)
{
    size_t       n;
    const char  *p;

    for (n = 0, p = text; *p; p = strchr(p, '\n') + 1) {
        n += *p != '#' && *p != '\n';

        if (strchr(p, '\n') == NULL) {
            break;
        }
    }

    return n;
}


static void
post(const char *path, const char *body, long want)
{
    char            u[160];
    xf_http_resp_t  resp;

    snprintf(u, sizeof(u), "%s%s", nginx->url, path);
    xf_http_request("POST", u, NULL, body, strlen(body), &resp);
    ck_assert_msg(resp.status == want, "%s: %ld, expected %ld: %s", body,
                  resp.status, want, resp.body);
    xf_http_resp_free(&resp);
}


#define DELTA(name, n)                                                      \
    ck_assert_msg(series(after, name) - series(before, name) == (n),        \
                  "%s moved by %.0f, expected %d", name,                    \
                  series(after, name) - series(before, name), (n))


START_TEST(test_known_mix)
{
    int     i;
    char   *before, *after, path[256], cmd[512];
    FILE   *f;

    nginx = xf_nginx_new(
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_kafka_conf linger.ms 1;\n"
        "    xflow_kafka_conf message.timeout.ms 1000;\n"
        "    xflow_topic events;\n"
        "    xflow_limit_zone ip:1m key=$remote_addr rate=1r/m burst=100;\n"
        "    xflow_limit_zone tight:1m key=$remote_addr rate=1r/m "
        "burst=2;\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /collect { xflow_collect json; xflow_limit ip; }\n"
        "        location /tight { xflow_collect json; xflow_limit tight; }\n"
        "        location /metrics { xflow_metrics; }\n"
        "    }\n", kafka->bootstraps, 2);
    xf_nginx_start(nginx);

    before = xf_metrics_scrape(nginx);

    /* 3 single events and a batch of 4: 7 accepted */
    for (i = 0; i < 3; i++) {
        post("/collect", "{\"event\":\"a\"}", 200);
    }
    post("/collect", "[{\"event\":\"b\"},{\"event\":\"c\"},{\"event\":\"d\"},"
         "{\"event\":\"e\"}]", 200);

    /* 2 invalid requests */
    post("/collect", "{\"event\":", 400);
    post("/collect", "[1", 400);

    /* 1 good + 2 dead-lettered */
    post("/collect", "[1,{\"event\":\"f\"},\"s\"]", 200);

    /* 2 pass, 3 refused by the tight zone */
    for (i = 0; i < 5; i++) {
        post("/tight", "{\"event\":\"t\"}", i < 2 ? 200 : 429);
    }

    /* an outage: no leader, so the delivery fails (no spool): 503 */
    ck_assert_int_eq(rd_kafka_mock_partition_set_leader(kafka->mc, "events",
                                                        0, -1), 0);
    post("/collect", "{\"event\":\"lost\"}", 503);
    ck_assert_int_eq(rd_kafka_mock_partition_set_leader(kafka->mc, "events",
                                                        0, 1), 0);

    /* delivery reports and statistics settle */
    xf_sleep_ms(1500);

    after = xf_metrics_scrape(nginx);

    DELTA("xflow_http_requests_total{format=\"json\",code=\"200\"}", 7);
    DELTA("xflow_http_requests_total{format=\"json\",code=\"400\"}", 2);
    DELTA("xflow_http_requests_total{format=\"json\",code=\"429\"}", 3);
    DELTA("xflow_http_requests_total{format=\"json\",code=\"503\"}", 1);
    DELTA("xflow_events_total{format=\"json\",result=\"accepted\"}", 10);
    DELTA("xflow_events_total{format=\"json\",result=\"dead_lettered\"}", 2);
    DELTA("xflow_rate_limited_total{format=\"json\",code=\"429\"}", 3);
    DELTA("xflow_events_rejected_total{reason=\"not_object\"}", 2);
    DELTA("xflow_decode_errors_total{kind=\"json_syntax\"}", 2);
    DELTA("xflow_ratelimit_decisions_total{zone=\"tight\",result=\"passed\"}",
          2);
    DELTA("xflow_ratelimit_decisions_total{zone=\"tight\",result="
          "\"rejected\"}", 3);
    DELTA("xflow_ratelimit_decisions_total{zone=\"ip\",result=\"passed\"}",
          8);
    DELTA("xflow_kafka_messages_total{topic=\"events\",result=\"delivered\"}",
          10);
    DELTA("xflow_kafka_messages_total{topic=\"events\",result=\"failed\"}",
          1);
    /* 2 event dead letters and 2 of the invalid requests */
    DELTA("xflow_kafka_messages_total{topic=\"xflow_dead_letter\","
          "result=\"delivered\"}", 4);

    /*
     * Consistent labels: xflow_events_total counts events only (refused
     * requests are counted per request elsewhere); codes are exact.  And
     * only what happened or the configuration makes possible is shown.
     */
    ck_assert_msg(strstr(after, "result=\"rate_limited\"") == NULL
                  && strstr(after, "xflow_events_total{format=\"json\","
                                   "result=\"rejected\"}") == NULL
                  && strstr(after, "xx\"}") == NULL
                  && strstr(after, "code=\"other\"") == NULL, "%s", after);
    ck_assert_msg(strstr(after, "format=\"mixpanel\"") == NULL,
                  "a format nothing was sent in: %s", after);
    ck_assert_msg(series_count(after) < 120, "%zu series: %s",
                  series_count(after), after);

    /* and the page is valid exposition text: no promtool is a failure */
    ck_assert_msg(access("/usr/bin/promtool", X_OK) == 0,
                  "no /usr/bin/promtool: make deps installs prometheus");

    snprintf(path, sizeof(path), "%s/metrics.txt", nginx->dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(after, f);
    fclose(f);

    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(fgets(cmd, sizeof(cmd), f) == NULL, "promtool: %s", cmd);
    ck_assert_int_eq(pclose(f), 0);

    free(before);
    free(after);
}
END_TEST


Suite *
make_metrics_e2e_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("metrics_e2e");

    tc = xf_tcase(s, "core", 60, metrics_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_known_mix);

    return s;
}
