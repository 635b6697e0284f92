/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-limit.c - rate limits shared by all workers: admissions within 2%
 * of rate x time + burst under a hammer from several processes, the
 * answer of a refused request, dry run and its report, overflow of a hot
 * key to its own topic, and the key behind a proxy (realip).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_test.h"


static char         url[160];


static void
limit_setup(void)
{
    xf_fixture_setup(1, 15000, "events", 2, "events_overflow", 2,
                     "xflow_dead_letter", 1, NULL);
}


static void
limit_start(const char *http, const char *location, int workers)
{
    char  snippet[4096];

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_kafka_conf linger.ms 1;\n"
             "    xflow_topic events;\n"
             "    xflow_ack local;\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect {\n"
             "            xflow_collect json;\n"
             "%s\n"
             "        }\n"
             "        location /limits { xflow_limit_report; }\n"
             "        location = /metrics { xflow_metrics; }\n"
             "    }\n", http, location);

    xf_fixture_nginx(snippet, workers);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);
}


/* A zone of burst 2 on /collect, both its requests admitted and spent. */
static void
limit_start_spent(void)
{
    int              i;
    xf_http_resp_t   resp;

    limit_start("    xflow_limit_zone ip:1m key=$remote_addr rate=1r/m "
                "burst=2;\n",
                "            xflow_limit ip;\n", 1);

    for (i = 0; i < 2; i++) {
        xf_http_request("POST", url, NULL, "{}", 2, &resp);
        ck_assert_int_eq(resp.status, 200);
        xf_http_resp_free(&resp);
    }
}


typedef struct {
    uint64_t  ok;
    uint64_t  refused;
    uint64_t  other;
    int64_t   first;    /* ms: the first request began */
    int64_t   last;     /* ms: the last answer came */
} tally_t;


/*
 * `procs` processes post single events for `ms` milliseconds, as fast as
 * they can; the tallies are summed in shared memory.  total->first and
 * ->last bound the time requests were in flight, as the clients saw it:
 * forking and reaping the clients, slow on a busy machine, stay outside.
 */
static void
hammer(int procs, int ms, const char *const *headers, tally_t *total)
{
    int       i, status;
    pid_t     pid[16];
    tally_t  *t;

    t = mmap(NULL, sizeof(tally_t) * procs, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(t, MAP_FAILED);
    memset(t, 0, sizeof(tally_t) * procs);

    for (i = 0; i < procs; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);

        if (pid[i] == 0) {
            int64_t          end;
            xf_http_resp_t   resp;
            static const char  body[] = "{\"event\":\"h\"}";

            t[i].first = xf_now_ms();
            end = t[i].first + ms;

            while (xf_now_ms() < end) {
                xf_http_request("POST", url, headers, body, sizeof(body) - 1,
                                &resp);
                if (resp.status == 200) {
                    t[i].ok++;
                } else if (resp.status == 429) {
                    t[i].refused++;
                } else {
                    t[i].other++;
                }
                xf_http_resp_free(&resp);
            }

            t[i].last = xf_now_ms();
            _exit(0);
        }
    }

    memset(total, 0, sizeof(tally_t));

    for (i = 0; i < procs; i++) {
        ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        total->ok += t[i].ok;
        total->refused += t[i].refused;
        total->other += t[i].other;

        if (i == 0 || t[i].first < total->first) {
            total->first = t[i].first;
        }

        if (t[i].last > total->last) {
            total->last = t[i].last;
        }
    }

    munmap(t, sizeof(tally_t) * procs);
}


START_TEST(test_admissions_at_rate)
{
    int       i;
    double    expected, ms;
    tally_t   t;

    limit_start("    xflow_limit_zone ip:1m key=$binary_remote_addr "
                "rate=200r/s burst=50;\n",
                "            xflow_limit ip;\n", 2);

    hammer(4, 3000, NULL, &t);
    ms = (double) (t.last - t.first);

    /* the bucket starts full: burst, then rate per second */
    expected = 200.0 * ms / 1000.0 + 50;

    ck_assert_msg(t.refused > t.ok, "the clients must outrun the limit: "
                  "%llu ok, %llu refused", (unsigned long long) t.ok,
                  (unsigned long long) t.refused);
    ck_assert_msg(t.other == 0, "%llu unexpected statuses",
                  (unsigned long long) t.other);
    /*
     * Never more than the bucket allows (2% for the clock's edges), and
     * not much fewer: a busy machine that runs no client for a while
     * loses what the bucket refilled meanwhile, but a limiter that
     * charged twice (each worker apart, say) would admit half.
     */
    ck_assert_msg((double) t.ok <= expected * 1.02
                  && (double) t.ok >= expected * 0.90,
                  "admitted %llu over %.0f ms, expected %.0f, -10%% +2%%",
                  (unsigned long long) t.ok, ms, expected);

    /* every admitted event is in Kafka, and no refused one */
    for (i = 0; i < 100 && xf_kafka_count(kafka, "events") < (int64_t) t.ok;
         i++)
    {
        xf_sleep_ms(100);
    }

    ck_assert_int_eq(xf_kafka_count(kafka, "events"), (int64_t) t.ok);
}
END_TEST


START_TEST(test_refused_answer)
{
    char            *h;
    xf_http_resp_t   resp;

    limit_start_spent();

    xf_http_request("POST", url, NULL, "{}", 2, &resp);
    ck_assert_int_eq(resp.status, 429);
    ck_assert_msg(strstr(resp.body, "\"error\":\"rate_limited\"") != NULL,
                  "%s", resp.body);

    h = xf_http_header(&resp, "Retry-After");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_ge(atoi(h), 1);
    free(h);

    h = xf_http_header(&resp, "RateLimit-Policy");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h, "\"ip\";q=1;w=60");
    free(h);

    h = xf_http_header(&resp, "RateLimit");
    ck_assert_ptr_nonnull(h);
    ck_assert_msg(strncmp(h, "\"ip\";r=0;t=", 11) == 0, "%s", h);
    free(h);

    xf_http_resp_free(&resp);
}
END_TEST


/* Sensors and PostHog retry 5xx only: a throttle answers them 503. */
START_TEST(test_refused_status_per_format)
{
    int              i;
    xf_http_resp_t   resp;

    limit_start("    xflow_limit_zone ip:1m key=$remote_addr rate=1r/m "
                "burst=1;\n"
                "    server {\n"
                "        listen 127.0.0.1:@PORT@ ;\n"
                "        server_name posthog;\n"
                "        location /e/ { xflow_collect posthog; "
                "xflow_limit ip; }\n"
                "    }\n", "", 1);

    for (i = 0; i < 2; i++) {
        xf_http_resp_t  r2;
        const char     *const hdrs[] = { "Host: posthog", NULL };
        static const char  ev[] = "[{\"event\":\"e\",\"properties\":"
                                  "{\"distinct_id\":\"d\",\"token\":\"t\"}}]";

        snprintf(url, sizeof(url), "%s/e/", nginx->url);
        xf_http_request("POST", url, hdrs, ev, sizeof(ev) - 1, &r2);
        ck_assert_int_eq(r2.status, i == 0 ? 200 : 503);
        xf_http_resp_free(&r2);
    }

    (void) resp;
}
END_TEST


START_TEST(test_dry_run_and_report)
{
    tally_t          t;
    xf_http_resp_t   resp;
    char             rurl[160];

    limit_start("    xflow_limit_zone ip:1m key=$remote_addr rate=20r/s "
                "burst=5;\n",
                "            xflow_limit ip dry_run;\n", 2);

    hammer(2, 1000, NULL, &t);

    ck_assert_msg(t.refused == 0 && t.other == 0 && t.ok > 100,
                  "dry run refused %llu, other %llu, ok %llu",
                  (unsigned long long) t.refused,
                  (unsigned long long) t.other, (unsigned long long) t.ok);

    snprintf(rurl, sizeof(rurl), "%s/limits", nginx->url);
    xf_http_request("GET", rurl, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_msg(strstr(resp.body, "\"name\":\"ip\"") != NULL, "%s",
                  resp.body);
    ck_assert_msg(strstr(resp.body, "\"top\":[{\"key\":\"127.0.0.1\","
                                    "\"rejected\":0,\"rejected_dry_run\":")
                  != NULL, "%s", resp.body);
    ck_assert_msg(strstr(resp.body, "\"rejected_dry_run\":0}") == NULL
                  || strstr(resp.body, "\"last_minute\"") != NULL, "%s",
                  resp.body);
    xf_http_resp_free(&resp);

    /* a browser gets the page, which reads the JSON by name */
    {
        char                html[200];
        const char         *accept[] = {
            "Accept: text/html,application/xhtml+xml,*/*;q=0.8", NULL
        };
        char               *type;

        xf_http_request("GET", rurl, accept, NULL, 0, &resp);
        ck_assert_int_eq(resp.status, 200);
        type = xf_http_header(&resp, "Content-Type");
        ck_assert_msg(type != NULL && strstr(type, "text/html") != NULL,
                      "%s", type ? type : "no Content-Type");
        free(type);
        ck_assert_msg(strstr(resp.body, "<title>xflow rate limits</title>")
                      != NULL && strstr(resp.body, "?format=json") != NULL,
                      "%s", resp.body);
        xf_http_resp_free(&resp);

        snprintf(html, sizeof(html), "%s?format=json", rurl);
        xf_http_request("GET", html, accept, NULL, 0, &resp);
        ck_assert_int_eq(resp.status, 200);
        ck_assert_msg(strncmp(resp.body, "{\"zones\":[", 10) == 0, "%s",
                      resp.body);
        xf_http_resp_free(&resp);
    }
}
END_TEST


/*
 * A hot app's events over its limit go to the overflow topic, a cold
 * app's stay: nothing is refused, nothing is lost.
 */
START_TEST(test_overflow_hot_key)
{
    int              i;
    int64_t          main_n, over_n;
    xf_http_resp_t   resp;
    static const char  hot[] =
        "[{\"event\":\"a\",\"app\":\"hot\"},{\"event\":\"b\",\"app\":\"hot\"},"
        "{\"event\":\"c\",\"app\":\"hot\"},{\"event\":\"d\",\"app\":\"hot\"}]";
    static const char  cold[] = "[{\"event\":\"a\",\"app\":\"cold\"}]";

    limit_start("    xflow_limit_zone apps:1m key=$xflow_app rate=1e/m "
                "burst=5 overflow=events_overflow;\n",
                "            xflow_limit apps;\n", 1);

    for (i = 0; i < 3; i++) {
        xf_http_request("POST", url, NULL, hot, sizeof(hot) - 1, &resp);
        ck_assert_int_eq(resp.status, 200);
        ck_assert_str_eq(resp.body, "{\"accepted\":4,\"rejected\":0}");
        xf_http_resp_free(&resp);
    }

    xf_http_request("POST", url, NULL, cold, sizeof(cold) - 1, &resp);
    ck_assert_int_eq(resp.status, 200);
    xf_http_resp_free(&resp);

    /* first batch within the burst, the next two overflow; cold passes */
    for (i = 0; i < 50; i++) {
        main_n = xf_kafka_count(kafka, "events");
        over_n = xf_kafka_count(kafka, "events_overflow");
        if (main_n + over_n == 13) {
            break;
        }
        xf_sleep_ms(100);
    }

    ck_assert_int_eq(main_n, 5);
    ck_assert_int_eq(over_n, 8);
}
END_TEST


/*
 * Dead-lettered events cost like any other under an event limit: an
 * upload of non-objects is a batch of dead letters, not a free pass.
 */
START_TEST(test_dead_letters_count)
{
    xf_http_resp_t   resp;
    static const char  dead[] = "[1,1,1,1,1,1,1,1]";

    limit_start("    xflow_limit_zone ev:1m key=$remote_addr rate=1e/m "
                "burst=10;\n",
                "            xflow_limit ev;\n", 1);

    xf_http_request("POST", url, NULL, dead, sizeof(dead) - 1, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"accepted\":0,\"rejected\":8}");
    xf_http_resp_free(&resp);

    /* 8 of the 10 are spent: 8 more are over the limit */
    xf_http_request("POST", url, NULL, dead, sizeof(dead) - 1, &resp);
    ck_assert_int_eq(resp.status, 429);
    ck_assert_msg(strstr(resp.body, "\"error\":\"rate_limited\"") != NULL,
                  "%s", resp.body);
    xf_http_resp_free(&resp);
}
END_TEST


/*
 * A zone full of active keys: with full=deny a new key is refused, with
 * full=allow (the default) it passes unmetered; either way the decision
 * is counted as table_full (metric and report) and logged.
 */
START_TEST(test_table_full)
{
    int              i, deny, refused, passed;
    char             hdr[64], rurl[160], *log, *line, *eol;
    const char      *hdrs[2];
    xf_http_resp_t   resp;

    deny = _i;

    limit_start(deny
                ? "    xflow_limit_zone k:64k key=$http_x_key rate=1r/m "
                  "burst=1 full=deny;\n"
                : "    xflow_limit_zone k:64k key=$http_x_key rate=1r/m "
                  "burst=1;\n",
                "            xflow_limit k;\n", 1);

    refused = 0;
    passed = 0;

    /* far more keys than a 64k zone has slots, each spent: all active */
    for (i = 0; i < 3000; i++) {
        snprintf(hdr, sizeof(hdr), "X-Key: key-%d", i);
        hdrs[0] = hdr;
        hdrs[1] = NULL;

        xf_http_request("POST", url, hdrs, "{}", 2, &resp);
        if (resp.status == 429) {
            refused++;
        } else if (resp.status == 200) {
            passed++;
        }
        xf_http_resp_free(&resp);
    }

    fprintf(stderr, "table full (%s): %d passed, %d refused\n",
            deny ? "deny" : "allow", passed, refused);

    if (deny) {
        ck_assert_int_gt(refused, 0);
    } else {
        ck_assert_int_eq(refused, 0);
        ck_assert_int_eq(passed, 3000);
    }

    snprintf(rurl, sizeof(rurl), "%s/metrics", nginx->url);
    xf_http_request("GET", rurl, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_msg(strstr(resp.body, "xflow_ratelimit_decisions_total{zone="
                         "\"k\",result=\"table_full\"}") != NULL,
                  "%s", resp.body);
    ck_assert_msg(strstr(resp.body, "xflow_ratelimit_decisions_total{zone="
                         "\"k\",result=\"table_full\"} 0\n") == NULL,
                  "%s", resp.body);
    xf_http_resp_free(&resp);

    log = xf_nginx_read_log(nginx);
    line = strstr(log, "xflow_limit_zone \"k\" is full of active keys");
    ck_assert_msg(line != NULL, "%s", log);

    /* nginx's suffix would carry the client address and request line */
    eol = strchr(line, '\n');
    if (eol != NULL) {
        *eol = '\0';
    }

    ck_assert_msg(strstr(line, "client:") == NULL
                  && strstr(line, "request:") == NULL, "%s", line);
    free(log);
}
END_TEST


/*
 * Behind Traefik, realip sets the client address from X-Forwarded-For,
 * but only for a trusted peer: a forged header from anyone else does not
 * move the key.
 */
static const struct {
    const char  *trusted;           /* set_real_ip_from */
    int          refused;
} forwarded[] = {
    /* 127.0.0.1 is not trusted: one key, three admitted */
    { "10.0.0.0/8", 7 },
    /* the proxy is trusted: ten clients, one request each */
    { "127.0.0.1", 0 },
};


START_TEST(test_forwarded_for)
{
    int              i, refused;
    char             xff[64], http[512];
    xf_http_resp_t   resp;

    snprintf(http, sizeof(http),
             "    set_real_ip_from %s;\n"
             "    real_ip_header X-Forwarded-For;\n"
             "    real_ip_recursive on;\n"
             "    xflow_limit_zone ip:1m key=$remote_addr rate=1r/m "
             "burst=3;\n", forwarded[_i].trusted);
    limit_start(http, "            xflow_limit ip;\n", 1);

    refused = 0;

    for (i = 0; i < 10; i++) {
        const char  *hdrs[] = { xff, NULL };

        snprintf(xff, sizeof(xff), "X-Forwarded-For: 203.0.113.%d", i + 1);
        xf_http_request("POST", url, hdrs, "{}", 2, &resp);
        refused += resp.status == 429;
        xf_http_resp_free(&resp);
    }

    ck_assert_int_eq(refused, forwarded[_i].refused);
}
END_TEST


START_TEST(test_zone_survives_reload)
{
    xf_http_resp_t   resp;
    char             snippet[2048];

    limit_start_spent();

    /* the same configuration again: the zone and its state are kept */
    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_kafka_conf linger.ms 1;\n"
             "    xflow_topic events;\n"
             "    xflow_ack local;\n"
             "    xflow_limit_zone ip:1m key=$remote_addr rate=1r/m "
             "burst=2;\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; "
             "xflow_limit ip; }\n"
             "    }\n");
    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_reload(nginx);

    xf_http_request("POST", url, NULL, "{}", 2, &resp);
    ck_assert_int_eq(resp.status, 429);
    xf_http_resp_free(&resp);
}
END_TEST


Suite *
make_limit_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("limit");

    tc = xf_tcase(s, "core", 60, limit_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_admissions_at_rate);
    tcase_add_test(tc, test_refused_answer);
    tcase_add_test(tc, test_refused_status_per_format);
    tcase_add_test(tc, test_dry_run_and_report);
    tcase_add_test(tc, test_overflow_hot_key);
    tcase_add_test(tc, test_dead_letters_count);
    tcase_add_loop_test(tc, test_table_full, 0, 2);
    tcase_add_loop_test(tc, test_forwarded_for, 0,
                        sizeof(forwarded) / sizeof(forwarded[0]));
    tcase_add_test(tc, test_zone_survives_reload);

    return s;
}
