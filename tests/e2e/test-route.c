/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-route.c - topic routing end to end: a mixed batch lands in
 * exactly the topics its rules name, with the key each rule asks for,
 * and a rules change by reload moves traffic with nothing lost.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_test.h"


static char         url[128];


static const char  *topics[] = {
    "events", "web", "orders", "shop", "clicks_v2", "xflow_dead_letter"
};


static void
route_setup(void)
{
    xf_fixture_setup(1, 15000, NULL);
    xf_fixture_topics(topics, sizeof(topics) / sizeof(topics[0]), 2);
}


static const char *
snippet(const char *rules)
{
    static char  buf[2048];

    snprintf(buf, sizeof(buf),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_kafka_conf linger.ms 1;\n"
             "    xflow_topic events;\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect {\n"
             "            xflow_collect json;\n"
             "        }\n"
             "    }\n",
             rules);

    return buf;
}


static void
post(const char *body, const char *want)
{
    xf_http_resp_t  resp;

    xf_http_request("POST", url, NULL, body, strlen(body), &resp);
    ck_assert_msg(resp.status == 200, "status %ld: %s", resp.status,
                  resp.body);
    if (want) {
        ck_assert_str_eq(resp.body, want);
    }
    xf_http_resp_free(&resp);
}


/* The event bytes of an envelope: after "event": up to the last '}'. */
static int
has_event(xf_kafka_msgs_t *m, const char *event, const char *key)
{
    size_t       i, elen;
    const char  *p;

    elen = strlen(event);

    for (i = 0; i < m->n; i++) {
        p = xf_memstr(m->msgs[i].value, m->msgs[i].value_len, ",\"event\":");
        if (p == NULL) {
            continue;
        }

        p += sizeof(",\"event\":") - 1;

        if ((size_t) (m->msgs[i].value + m->msgs[i].value_len - p)
            == elen + 1 && memcmp(p, event, elen) == 0)
        {
            if (key == NULL) {
                ck_assert_msg(m->msgs[i].key == NULL,
                              "%s: key %s, expected none", event,
                              m->msgs[i].key);
            } else {
                ck_assert_msg(m->msgs[i].key != NULL
                              && strcmp(m->msgs[i].key, key) == 0,
                              "%s: key %s, expected %s", event,
                              m->msgs[i].key ? m->msgs[i].key : "(none)",
                              key);
            }

            return 1;
        }
    }

    return 0;
}


#define E_VIEW   "{\"event\":\"page_view\",\"distinct_id\":\"u1\"}"
#define E_CLICK  "{\"event\":\"click\",\"distinct_id\":\"u2\"}"
#define E_BUY    "{\"event\":\"purchase\",\"distinct_id\":\"u3\"," \
                 "\"app\":\"shopapp\"}"
#define E_APP    "{\"event\":\"wishlist\",\"distinct_id\":\"u4\"," \
                 "\"app\":\"shopapp\"}"
#define E_OTHER  "{\"event\":\"signup\",\"distinct_id\":\"u5\"}"


START_TEST(test_mixed_batch)
{
    xf_kafka_msgs_t  web, orders, shop, def;

    nginx = xf_nginx_new(snippet(
        "    xflow_route \"event={page_view,click}\" topic=web;\n"
        "    xflow_route event=purchase topic=orders key=app copy;\n"
        "    xflow_route app=shopapp topic=shop;\n"), kafka->bootstraps, 1);
    xf_nginx_start(nginx);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);

    post("[" E_VIEW "," E_CLICK "," E_BUY "," E_APP "," E_OTHER "]",
         "{\"accepted\":5,\"rejected\":0}");

    memset(&web, 0, sizeof(web));
    memset(&orders, 0, sizeof(orders));
    memset(&shop, 0, sizeof(shop));
    memset(&def, 0, sizeof(def));

    xf_kafka_consume(kafka, "web", 2, 10000, 500, &web);
    xf_kafka_consume(kafka, "orders", 1, 10000, 500, &orders);
    xf_kafka_consume(kafka, "shop", 2, 10000, 500, &shop);
    xf_kafka_consume(kafka, "events", 1, 10000, 500, &def);

    ck_assert(has_event(&web, E_VIEW, "u1"));
    ck_assert(has_event(&web, E_CLICK, "u2"));
    ck_assert(has_event(&orders, E_BUY, "shopapp"));
    ck_assert(has_event(&shop, E_BUY, "u3"));
    ck_assert(has_event(&shop, E_APP, "u4"));
    ck_assert(has_event(&def, E_OTHER, "u5"));

    /* a copy is the same event: the same envelope, id included */
    ck_assert_uint_eq(orders.msgs[0].value_len,
                      shop.msgs[0].value_len == orders.msgs[0].value_len
                      ? shop.msgs[0].value_len : shop.msgs[1].value_len);

    xf_kafka_msgs_free(&web);
    xf_kafka_msgs_free(&orders);
    xf_kafka_msgs_free(&shop);
    xf_kafka_msgs_free(&def);
}
END_TEST


START_TEST(test_bad_rules_fail_config_test)
{
    nginx = xf_nginx_new(snippet("    xflow_route event=a;\n"),
                         kafka->bootstraps, 1);
    free(xf_nginx_refuses(nginx, NULL, NULL, "topic=NAME"));
    free(xf_nginx_refuses(nginx, snippet("    xflow_route colour=red "
                                         "topic=t;\n"), kafka->bootstraps,
                          "colour=red"));

    xf_nginx_free(nginx);
    nginx = NULL;
}
END_TEST


/*
 * Clicks go to "web", then a reload sends them to "clicks_v2" while a
 * child keeps posting: every click answered 200 is in exactly one of the
 * two topics, and after the reload new clicks land in the new one.
 */
START_TEST(test_reload_moves_traffic)
{
    int              status, fds[2];
    char             body[128], key[32];
    pid_t            child;
    size_t           i, n, sent;
    int64_t          before, after;
    xf_kafka_msgs_t  web, v2;

    nginx = xf_nginx_new(snippet("    xflow_route event=click topic=web;\n"),
                         kafka->bootstraps, 2);
    xf_nginx_start(nginx);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);

    ck_assert_int_eq(pipe(fds), 0);

    child = fork();
    ck_assert_int_ge(child, 0);

    if (child == 0) {
        xf_http_resp_t  resp;

        close(fds[0]);
        sent = 0;

        for (i = 0; i < 400; i++) {
            n = snprintf(body, sizeof(body),
                         "{\"event\":\"click\",\"distinct_id\":\"c%zu\"}", i);
            xf_http_request("POST", url, NULL, body, n, &resp);
            if (resp.status == 200) {
                sent++;
            }
            xf_http_resp_free(&resp);
            xf_sleep_ms(5);
        }

        if (write(fds[1], &sent, sizeof(sent)) != sizeof(sent)) {
            _exit(2);
        }

        _exit(0);
    }

    close(fds[1]);

    xf_sleep_ms(600);
    xf_nginx_write_conf(nginx,
                        snippet("    xflow_route event=click "
                                "topic=clicks_v2;\n"), kafka->bootstraps);
    xf_nginx_reload(nginx);

    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(read(fds[0], &sent, sizeof(sent)), sizeof(sent));
    close(fds[0]);

    ck_assert_uint_eq(sent, 400);

    before = xf_kafka_count(kafka, "web");
    after = xf_kafka_count(kafka, "clicks_v2");

    ck_assert_msg(before > 0 && after > 0, "web %lld, clicks_v2 %lld",
                  (long long) before, (long long) after);

    memset(&web, 0, sizeof(web));
    memset(&v2, 0, sizeof(v2));
    xf_kafka_consume(kafka, "web", (size_t) before, 10000, 0, &web);
    xf_kafka_consume(kafka, "clicks_v2", (size_t) after, 10000, 0, &v2);

    /* every click answered 200, each exactly once over both topics */
    ck_assert_uint_eq(web.n + v2.n, sent);

    for (i = 0; i < sent; i++) {
        n = snprintf(body, sizeof(body),
                     "{\"event\":\"click\",\"distinct_id\":\"c%zu\"}", i);
        (void) n;
        snprintf(key, sizeof(key), "c%zu", i);
        ck_assert_msg(has_event(&web, body, key) + has_event(&v2, body, key)
                      == 1, "click c%zu not exactly once", i);
    }

    /* the last click came after the reload */
    ck_assert(has_event(&v2, "{\"event\":\"click\",\"distinct_id\":\"c399\"}",
                        "c399"));

    xf_kafka_msgs_free(&web);
    xf_kafka_msgs_free(&v2);
}
END_TEST


Suite *
make_route_e2e_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("route_e2e");

    tc = xf_tcase(s, "core", 60, route_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_mixed_batch);
    tcase_add_test(tc, test_bad_rules_fail_config_test);
    tcase_add_test(tc, test_reload_moves_traffic);

    return s;
}
