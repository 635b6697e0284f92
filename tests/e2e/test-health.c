/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-health.c - xflow_health follows the brokers: 200 while they are
 * reachable, 503 with a JSON reason once none has been for longer than
 * xflow_health_broker_timeout, 200 again when they are back.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_test.h"




static void
health_setup(void)
{
    xf_fixture_setup(1, 15000, "events", 1, NULL);
}


/*
 * nginx with /collect and /health (brokers unreachable for 1 s: 503);
 * with a spool in its prefix when spool is 1, and /collect answering
 * without waiting for Kafka (xflow_ack local) when it is 2.
 */
static void
health_start(int spool)
{
    char  snippet[2048], spool_conf[512];

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    spool_conf[0] = '\0';
    if (spool) {
        snprintf(spool_conf, sizeof(spool_conf),
                 "    xflow_spool %s/spool fsync=always;\n"
                 "    xflow_spool_after 1s;\n", nginx->dir);
    }

    snprintf(snippet, sizeof(snippet),
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_kafka_conf statistics.interval.ms 300;\n"
        "    xflow_kafka_conf reconnect.backoff.max.ms 500;\n"
        "    xflow_topic events;\n"
        "%s"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /collect { xflow_collect json; xflow_ack %s; }\n"
        "        location /health {\n"
        "            xflow_health;\n"
        "            xflow_health_broker_timeout 1s;\n"
        "        }\n"
        "    }\n", spool_conf, spool == 2 ? "local" : "kafka");

    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);
}


/* Poll /health until it answers want (bounded); returns the last body. */
static char *
health_until(const char *url, long want, int timeout_ms)
{
    char            *body;
    int64_t          end;
    xf_http_resp_t   resp;

    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        xf_http_request("GET", url, NULL, NULL, 0, &resp);

        if (resp.status == want || xf_now_ms() > end) {
            ck_assert_msg(resp.status == want, "health %ld, expected %ld: %s",
                          resp.status, want, resp.body);
            body = strdup(resp.body);
            xf_http_resp_free(&resp);
            return body;
        }

        xf_http_resp_free(&resp);
        xf_sleep_ms(200);
    }
}


/*
 * Poll /health (bounded) until it answers 200 with needle in its body;
 * every answer meanwhile must be 200 too (the gateway keeps serving).
 */
static void
health_saying(const char *url, const char *needle, int timeout_ms)
{
    int64_t          end;
    xf_http_resp_t   resp;

    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        xf_http_request("GET", url, NULL, NULL, 0, &resp);
        ck_assert_msg(resp.status == 200, "health %ld: %s", resp.status,
                      resp.body);

        if (strstr(resp.body, needle) != NULL) {
            xf_http_resp_free(&resp);
            return;
        }

        ck_assert_msg(xf_now_ms() < end, "health never said %s: %s",
                      needle, resp.body);
        xf_http_resp_free(&resp);
        xf_sleep_ms(200);
    }
}


/*
 * Let a statistics report (every 300 ms here) see the broker: the worker
 * has connected, so brokers that go down afterwards are an outage, not
 * a broker list that never reached anything (never_connected).
 */
static void
health_connected(void)
{
    xf_sleep_ms(1000);
}


START_TEST(test_health_follows_brokers)
{
    char  url[128], *body;

    health_start(0);
    snprintf(url, sizeof(url), "%s/health", nginx->url);

    body = health_until(url, 200, 10000);
    ck_assert_msg(strstr(body, "\"status\":\"ok\"") != NULL, "%s", body);
    free(body);

    health_connected();
    xf_kafka_set_down(kafka);

    body = health_until(url, 503, 20000);
    ck_assert_msg(strstr(body, "\"reason\":\"no_broker\"") != NULL, "%s",
                  body);
    free(body);

    xf_kafka_set_up(kafka);

    body = health_until(url, 200, 20000);
    free(body);
}
END_TEST


/*
 * Brokers down with a spool (spool: see health_start): n events are
 * answered 200, /health stays 200 and says degraded (spooling), and once
 * the brokers are back the events are in Kafka and /health says ok.
 */
static void
degraded_and_back(int spool, size_t n)
{
    size_t           i;
    char             url[128], curl[128], *body;
    xf_http_resp_t   resp;
    xf_kafka_msgs_t  m;

    health_start(spool);
    snprintf(url, sizeof(url), "%s/health", nginx->url);
    snprintf(curl, sizeof(curl), "%s/collect", nginx->url);

    body = health_until(url, 200, 10000);
    ck_assert_msg(strstr(body, "\"degraded\":false") != NULL, "%s", body);
    free(body);

    health_connected();
    xf_kafka_set_down(kafka);

    for (i = 0; i < n; i++) {
        xf_http_request("POST", curl, NULL, "{\"event\":\"x\"}", 13, &resp);
        ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
        xf_http_resp_free(&resp);
    }

    health_saying(url, "\"reason\":\"spooling\"", 10000);

    xf_kafka_set_up(kafka);

    /* the replay delivers: the events in Kafka, ok again */
    memset(&m, 0, sizeof(m));
    xf_kafka_consume(kafka, "events", n, 30000, 500, &m);
    xf_kafka_msgs_free(&m);

    health_saying(url, "\"degraded\":false", 20000);
}


/*
 * With a spool, brokers down is not a reason to leave the pool: /health
 * stays 200 and says degraded, requests are answered once their events
 * are on disk (after xflow_spool_after), and it says ok again when the
 * brokers are back.
 */
START_TEST(test_health_degraded_with_spool)
{
    degraded_and_back(1, 1);
}
END_TEST


/*
 * Under xflow_ack local nothing waits for Kafka: what librdkafka gives up
 * on (message.timeout.ms follows xflow_spool_after) is spooled, and that
 * turns spooling on too, so /health says degraded, not ok, while the
 * spool takes the events; ok again, and every event in Kafka, once the
 * brokers are back.
 */
START_TEST(test_health_degraded_ack_local)
{
    degraded_and_back(2, 5);
}
END_TEST


/*
 * A broker list that reaches nothing (a typo, a wrong port) cannot hide
 * behind the spool: /health answers 503 never_connected once
 * xflow_health_broker_timeout passed without any broker answering, while
 * requests are still kept (spooled) and answered.
 */
START_TEST(test_health_never_connected)
{
    char             url[128], curl[128], snippet[2048], *body;
    xf_http_resp_t   resp;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    /* the discard port: every connection refused */
    snprintf(snippet, sizeof(snippet),
        "    xflow_kafka_brokers 127.0.0.1:9;\n"
        "    xflow_topic events;\n"
        "    xflow_spool %s/spool;\n"
        "    xflow_spool_after 1s;\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /collect { xflow_collect json; }\n"
        "        location /health {\n"
        "            xflow_health;\n"
        "            xflow_health_broker_timeout 1s;\n"
        "        }\n"
        "    }\n", nginx->dir);

    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);

    snprintf(url, sizeof(url), "%s/health", nginx->url);
    snprintf(curl, sizeof(curl), "%s/collect", nginx->url);

    body = health_until(url, 503, 10000);
    ck_assert_msg(strstr(body, "\"reason\":\"never_connected\"") != NULL,
                  "%s", body);
    ck_assert_msg(strstr(body, "xflow_kafka_brokers") != NULL, "%s", body);
    free(body);

    /* what arrives is still kept */
    xf_http_request("POST", curl, NULL, "{\"event\":\"x\"}", 13, &resp);
    ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
    xf_http_resp_free(&resp);
}
END_TEST


Suite *
make_health_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("health");

    tc = xf_tcase(s, "core", 90, health_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_health_follows_brokers);
    tcase_add_test(tc, test_health_degraded_with_spool);
    tcase_add_test(tc, test_health_degraded_ack_local);
    tcase_add_test(tc, test_health_never_connected);

    return s;
}
