/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-ledger.c - the ledger balances at every scrape, and agrees with
 * Kafka: mixed traffic (invalid events, an SDK's retries, rate-limit
 * refusals) through a broker outage that spools, a reload and a worker
 * SIGKILL, while a second process scrapes /metrics every 50 ms; once
 * quiet, delivered equals what the data topic's high watermarks gained.
 * A restart counts what the spool holds.  The dedup window: a second
 * copy within it is answered 200, counted duplicate and not produced;
 * after it, produced again.
 */

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_test.h"


static char  url[160];
static char  spool_dir[200];


/* What the scraping process saw, in shared memory. */
typedef struct {
    volatile int        stop;
    unsigned            scrapes;
    unsigned            unbalanced;     /* scrapes that read non-zero */
    long long           worst;
    long long           received;       /* at the last scrape */
    unsigned            below;          /* scrapes whose spooled read < 0 */
    long long           lowest;         /* the lowest spooled read */
} ledger_watch_t;


static void
ledger_setup(void)
{
    xf_fixture_setup(1, 20000, "events", 2, "xflow_dead_letter", 1,
                     "dups", 1, NULL);
}


static const char *
snippet(const char *extra)
{
    static char  buf[4096];

    snprintf(buf, sizeof(buf),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_kafka_conf linger.ms 1;\n"
             "    xflow_kafka_conf message.timeout.ms 1500;\n"
             "    xflow_kafka_conf reconnect.backoff.max.ms 500;\n"
             "    xflow_topic events;\n"
             "    xflow_ack kafka;\n"
             "    xflow_spool_after 1s;\n"
             "    xflow_spool %s fsync=always;\n"
             "    xflow_limit_zone tight:1m key=$remote_addr rate=1e/m "
             "burst=6;\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; }\n"
             "        location /tight { xflow_collect json; "
             "xflow_limit tight; }\n"
             "        location /dedup { xflow_collect json; "
             "xflow_dedup 3s; }\n"
             "        location /dedup_topic { xflow_collect json; "
             "xflow_dedup 3s topic=dups; }\n"
             "        location /metrics { xflow_metrics; }\n"
             "    }\n", spool_dir, extra ? extra : "");

    return buf;
}


static void
start(const char *extra, int workers)
{
    nginx = xf_nginx_new("", kafka->bootstraps, workers);
    snprintf(spool_dir, sizeof(spool_dir), "%s/spool", nginx->dir);
    xf_nginx_write_conf(nginx, snippet(extra), kafka->bootstraps);
    xf_nginx_start(nginx);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);
}


/*
 * A ledger family's value, signed (the imbalance may be negative): the
 * sum of its samples over every location and format.  series is a
 * family's name, with a label filter in braces if any
 * ("xflow_ledger_events_total{fate=\"delivered\"}", or with a location
 * and a format to read one series).  A family with no sample fails.
 */
static long long
ledger_value(const char *text, const char *series)
{
    char         name[128], want[160], *brace;
    size_t       len;
    long long    sum;
    const char  *p, *v, *end;
    int          found;

    snprintf(name, sizeof(name), "%s", series);
    want[0] = '\0';
    brace = strchr(name, '{');

    if (brace != NULL) {
        snprintf(want, sizeof(want), "%s", brace + 1);
        want[strlen(want) - 1] = '\0';     /* the closing brace */
        *brace = '\0';
    }

    len = strlen(name);
    sum = 0;
    found = 0;

    for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
        p += (*p == '\n');

        if (strncmp(p, name, len) != 0
            || (p[len] != ' ' && p[len] != '{'))
        {
            continue;
        }

        end = strchr(p, '\n');
        v = p[len] == '{' ? strchr(p, '}') : p + len;

        if (v == NULL || (end != NULL && v > end)) {
            continue;
        }

        if (want[0] != '\0') {
            /* every label of the filter, in the sample's braces */
            char  *w, *save, filter[160];
            int    all;

            snprintf(filter, sizeof(filter), "%s", want);
            all = 1;

            for (w = strtok_r(filter, ",", &save); w != NULL;
                 w = strtok_r(NULL, ",", &save))
            {
                const char  *at = strstr(p, w);

                all &= at != NULL && at < v;
            }

            if (!all) {
                continue;
            }
        }

        sum += strtoll(v + 1, NULL, 10);
        found = 1;
    }

    ck_assert_msg(found, "no %s in /metrics", series);

    return sum;
}


/* One scrape of n's /metrics, NULL when nginx did not answer 200. */
static char *
try_scrape(xf_nginx_t *n)
{
    char            u[128];
    char           *text;
    xf_http_resp_t  resp;

    snprintf(u, sizeof(u), "%s/metrics", n->url);

    if (xf_http_request("GET", u, NULL, NULL, 0, &resp) != 200) {
        xf_http_resp_free(&resp);
        return NULL;
    }

    text = strndup(resp.body, resp.body_len);
    xf_http_resp_free(&resp);

    return text;
}


/* A process that scrapes every 50 ms until w->stop. */
static pid_t
watch_start(ledger_watch_t *w)
{
    char       *text;
    pid_t       pid;
    long long   v;

    pid = fork();
    ck_assert_int_ge(pid, 0);

    if (pid > 0) {
        return pid;
    }

    while (!w->stop) {
        text = try_scrape(nginx);

        if (text != NULL) {
            w->scrapes++;
            w->received = ledger_value(text,
                                       "xflow_ledger_received_events_total");

            /* a record leaves the spool once: never below 0 */
            v = ledger_value(text, "xflow_ledger_spooled_events");

            if (v < 0) {
                w->below++;
                w->lowest = v < w->lowest ? v : w->lowest;
                fprintf(stderr, "ledger: spooled %lld:\n%s\n", v,
                        xf_memstr(text, strlen(text), "xflow_ledger"));
            }

            v = ledger_value(text, "xflow_ledger_unbalanced_events");

            if (v != 0) {
                w->unbalanced++;
                w->worst = llabs(v) > llabs(w->worst) ? v : w->worst;
                fprintf(stderr, "ledger: unbalanced %lld:\n%s\n", v,
                        xf_memstr(text, strlen(text), "xflow_ledger"));
            }

            free(text);
        }

        xf_sleep_ms(50);
    }

    _exit(0);
}


static void
watch_stop(ledger_watch_t *w, pid_t pid)
{
    int  status;

    w->stop = 1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);

    fprintf(stderr, "ledger: %u scrapes, %u unbalanced (worst %lld), %u "
            "with spooled below 0 (lowest %lld)\n", w->scrapes,
            w->unbalanced, w->worst, w->below, w->lowest);

    ck_assert_uint_gt(w->scrapes, 20);
    ck_assert_uint_eq(w->unbalanced, 0);
    ck_assert_uint_eq(w->below, 0);
}


/* POST body to path; the status. */
static long
post(const char *path, const char *body)
{
    long            status;
    char            u[192];
    xf_http_resp_t  resp;

    snprintf(u, sizeof(u), "%s%s", nginx->url, path);
    status = xf_http_request("POST", u, NULL, body, strlen(body), &resp);
    xf_http_resp_free(&resp);

    return status;
}


/* A batch of n valid events (ids from..) and `bad` invalid ones. */
static long
post_batch(const char *path, unsigned from, unsigned n, unsigned bad)
{
    long      status;
    char     *body;
    size_t    len, cap;
    unsigned  i;

    cap = 64 + (n + bad) * 96;
    body = malloc(cap);
    ck_assert_ptr_nonnull(body);

    len = 0;
    body[len++] = '[';

    for (i = 0; i < n + bad; i++) {
        if (i) {
            body[len++] = ',';
        }

        if (i < n) {
            len += snprintf(body + len, cap - len,
                            "{\"event\":\"e\",\"distinct_id\":\"u%u\","
                            "\"n\":%u}", from + i, from + i);

        } else {
            /* not an object: a dead letter */
            len += snprintf(body + len, cap - len, "%u", from + i);
        }
    }

    body[len++] = ']';
    body[len] = '\0';

    status = post(path, body);
    free(body);

    return status;
}


/*
 * Wait until nothing is in flight, the spooled fate reads 0 and the
 * spool's files are empty; the last scrape.  Spooled never reads below
 * 0 meanwhile: every record leaves it once, whoever replayed it.
 */
static char *
wait_quiet(int timeout_ms)
{
    char     *text;
    int64_t   end;

    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        text = try_scrape(nginx);

        if (text != NULL) {
            ck_assert_msg(ledger_value(text, "xflow_ledger_spooled_events")
                          >= 0, "spooled below 0:\n%s",
                          xf_memstr(text, strlen(text), "xflow_ledger"));
        }

        /* before its adoption a segment is in no worker's spool gauge */
        if (text != NULL
            && ledger_value(text, "xflow_ledger_in_flight_events") == 0
            && ledger_value(text, "xflow_ledger_spooled_events") == 0
            && ledger_value(text, "xflow_spool_records") == 0)
        {
            return text;
        }

        ck_assert_msg(xf_now_ms() < end, "the ledger never settled:\n%s",
                      text ? xf_memstr(text, strlen(text), "xflow_ledger")
                           : "(no scrape)");
        free(text);
        xf_sleep_ms(200);
    }
}


/* Wait until nothing is in flight (the spool may hold events). */
static void
wait_no_flight(int timeout_ms)
{
    char     *text;
    int64_t   end;

    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        text = try_scrape(nginx);

        if (text != NULL
            && ledger_value(text, "xflow_ledger_in_flight_events") == 0)
        {
            free(text);
            return;
        }

        ck_assert_msg(xf_now_ms() < end, "events stay in flight");
        free(text);
        xf_sleep_ms(100);
    }
}


#define FATE(f)  ledger_value(text, "xflow_ledger_events_total{fate=\"" f "\"}")


/*
 * Mixed traffic, a broker outage with spooling, a reload and a worker's
 * SIGKILL: the imbalance is 0 at every scrape, and once quiet delivered
 * is what the data topic gained.
 */
START_TEST(test_mixed)
{
    char            *text;
    long             st;
    pid_t            watcher;
    int64_t          hw0, hw1;
    unsigned         i, n, refused;
    long long        received, delivered, dead;
    ledger_watch_t  *w;

    w = mmap(NULL, sizeof(ledger_watch_t), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(w, MAP_FAILED);
    memset(w, 0, sizeof(ledger_watch_t));

    start("    xflow_dedup 10m;\n", 2);
    hw0 = xf_kafka_count(kafka, "events");

    watcher = watch_start(w);
    n = 0;

    /* valid and invalid events, and an SDK's retries of a batch */
    for (i = 0; i < 40; i++) {
        ck_assert_int_eq(post_batch("/collect", n, 5, i % 3 == 0), 200);

        if (i % 10 == 0) {
            ck_assert_int_eq(post_batch("/collect", n, 5, i % 3 == 0), 200);
        }

        n += 5;
    }

    /* rate-limit refusals */
    refused = 0;
    for (i = 0; i < 12; i++) {
        st = post_batch("/tight", 10000 + i * 3, 3, 0);
        refused += st != 200;
    }
    ck_assert_uint_ge(refused, 8);

    /* the brokers away: spooled; a reload and a SIGKILL meanwhile */
    xf_kafka_set_leaderless(kafka, "events", 2, 1);

    for (i = 0; i < 30; i++) {
        ck_assert_int_eq(post_batch("/collect", n, 4, i % 4 == 0), 200);
        n += 4;

        if (i == 10) {
            xf_nginx_reload(nginx);
        }
    }

    wait_no_flight(10000);
    xf_nginx_kill_worker(nginx);

    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(post_batch("/collect", n, 4, 1), 200);
        n += 4;
    }

    xf_sleep_ms(1000);
    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    /* the brokers back: traffic again */
    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(post_batch("/collect", n, 5, i % 5 == 0), 200);
        n += 5;
    }

    text = wait_quiet(60000);
    watch_stop(w, watcher);

    hw1 = xf_kafka_count(kafka, "events");

    received = ledger_value(text, "xflow_ledger_received_events_total");
    delivered = FATE("delivered");
    dead = FATE("dead_lettered");

    fprintf(stderr, "ledger: received %lld, delivered %lld (Kafka gained "
            "%lld), entered the spool %lld (spooled now %lld), "
            "dead_lettered %lld, refused %lld, failed %lld, orphaned "
            "%lld\n", received, delivered, (long long) (hw1 - hw0),
            ledger_value(text, "xflow_ledger_spool_entered_events_total"),
            ledger_value(text, "xflow_ledger_spooled_events"), dead,
            FATE("refused"), FATE("failed"), FATE("orphaned"));

    ck_assert_int_eq(ledger_value(text, "xflow_ledger_unbalanced_events"),
                     0);
    ck_assert_int_eq(delivered, hw1 - hw0);
    ck_assert_int_gt(ledger_value(text,
                                  "xflow_ledger_spool_entered_events_total"),
                     0);
    /* a counter's series never goes down: spooled is not one of them */
    ck_assert_ptr_null(strstr(text, "fate=\"spooled\""));

    /* per location and format: what each location read, where it went;
       every replay counted against the series its record came from */
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_events_total{"
                                  "location=\"/tight\",format=\"json\","
                                  "fate=\"refused\"}"),
                     (long long) refused * 3);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_events_total{"
                                  "location=\"/tight\",format=\"json\","
                                  "fate=\"delivered\"}"),
                     (long long) (12 - refused) * 3);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_events_total{"
                                  "location=\"/collect\",format=\"json\","
                                  "fate=\"delivered\"}"),
                     delivered - (long long) (12 - refused) * 3);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_received_events_total{"
                                  "location=\"/collect\",format=\"json\"}"),
                     received - 36);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_received_events_total{"
                                  "location=\"/dedup\",format=\"json\"}"),
                     0);
    ck_assert_ptr_null(strstr(text, "location=\"unknown\""));
    ck_assert_int_ge(FATE("refused"), (long long) refused * 3);
    ck_assert_int_gt(dead, 0);
    ck_assert_int_eq(FATE("duplicate"), 4 * 5);     /* the retries */
    ck_assert_int_eq(FATE("failed"), 0);
    ck_assert_int_eq(FATE("orphaned"), 0);

    free(text);
    munmap(w, sizeof(ledger_watch_t));
}
END_TEST


/*
 * Events spooled when the gateway stops are counted by the next start,
 * before a worker replays them: received and on the spool, balanced.
 */
START_TEST(test_restart)
{
    char        *text;
    unsigned     i;
    int64_t      hw0;
    long long    on_spool;
    xf_nginx_t  *old;

    start(NULL, 1);
    hw0 = xf_kafka_count(kafka, "events");

    xf_kafka_set_leaderless(kafka, "events", 2, 1);

    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(post_batch("/collect", i * 3, 3, 1), 200);
    }

    xf_nginx_quit(nginx, 20000);
    old = nginx;

    /* the same spool directory, the brokers still away */
    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    xf_nginx_write_conf(nginx, snippet(NULL), kafka->bootstraps);
    xf_nginx_start(nginx);

    /* 60 events: a replay that failed in the outage went to the spool's
       tail again, and its first copy is acknowledged, not counted */
    text = xf_metrics_scrape(nginx);
    on_spool = ledger_value(text, "xflow_ledger_spooled_events");

    fprintf(stderr, "restart: %lld events on the spool at start\n",
            on_spool);
    ck_assert_int_eq(on_spool, 60);
    /* in the series of the location that read them, from their records */
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_spooled_events{"
                                  "location=\"/collect\",format=\"json\"}"),
                     60);
    ck_assert_ptr_null(strstr(text, "location=\"unknown\""));
    ck_assert_int_eq(ledger_value(text,
                                  "xflow_ledger_received_events_total"),
                     on_spool);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_unbalanced_events"),
                     0);
    free(text);

    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    text = wait_quiet(30000);
    ck_assert_int_eq(FATE("delivered"), xf_kafka_count(kafka, "events") - hw0);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_events_total{"
                                  "location=\"/collect\",format=\"json\","
                                  "fate=\"delivered\"}"),
                     FATE("delivered"));
    ck_assert_int_ge(FATE("delivered"), 60);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_unbalanced_events"),
                     0);
    free(text);

    xf_nginx_check_log(old);
    xf_nginx_free(old);
}
END_TEST


/* The data topic's and the duplicates topic's counts, once settled. */
static void
counts(int64_t *events, int64_t *dups)
{
    xf_sleep_ms(500);
    *events = xf_kafka_count(kafka, "events");
    *dups = xf_kafka_count(kafka, "dups");
}


/*
 * An upload sent again within the window is answered 200, produced
 * nowhere, counted one duplicate; sent after it, produced again.  With
 * topic=, the copy goes to that topic instead.
 */
START_TEST(test_dedup)
{
    char         *text;
    int64_t       e0, d0, e, d;
    const char   *body;

    start(NULL, 2);
    body = "{\"event\":\"buy\",\"distinct_id\":\"u1\",\"n\":1}";

    counts(&e0, &d0);

    ck_assert_int_eq(post("/dedup", body), 200);
    counts(&e, &d);
    ck_assert_int_eq(e, e0 + 1);

    /* the SDK's retry, within the window: no second message */
    ck_assert_int_eq(post("/dedup", body), 200);
    counts(&e, &d);
    ck_assert_int_eq(e, e0 + 1);
    ck_assert_int_eq(d, d0);

    text = xf_metrics_scrape(nginx);
    ck_assert_int_eq(FATE("duplicate"), 1);
    ck_assert_int_eq(FATE("delivered"), 1);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_unbalanced_events"),
                     0);
    free(text);

    /* another event is no copy */
    ck_assert_int_eq(post("/dedup",
                          "{\"event\":\"buy\",\"distinct_id\":\"u1\","
                          "\"n\":2}"), 200);
    counts(&e, &d);
    ck_assert_int_eq(e, e0 + 2);

    /* after the window: produced again */
    xf_sleep_ms(3500);
    ck_assert_int_eq(post("/dedup", body), 200);
    counts(&e, &d);
    ck_assert_int_eq(e, e0 + 3);

    /* topic=: the copy goes to the operator's topic, not the data's */
    ck_assert_int_eq(post("/dedup_topic", "{\"event\":\"t\",\"n\":3}"),
                     200);
    ck_assert_int_eq(post("/dedup_topic", "{\"event\":\"t\",\"n\":3}"),
                     200);
    counts(&e, &d);
    ck_assert_int_eq(e, e0 + 4);
    ck_assert_int_eq(d, d0 + 1);

    text = xf_metrics_scrape(nginx);
    ck_assert_int_eq(FATE("duplicate"), 2);
    ck_assert_int_eq(FATE("delivered"), 4);
    ck_assert_int_eq(ledger_value(text, "xflow_ledger_unbalanced_events"),
                     0);
    free(text);
}
END_TEST


/*
 * A copy of an upload whose first was refused (a rate limit here) is no
 * duplicate: the first was never kept.
 */
START_TEST(test_dedup_refused_first)
{
    char  body[128];
    int   i;

    start("    xflow_dedup 1m;\n", 1);

    /* the zone's burst spent by other events */
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(post_batch("/tight", 100 + i * 3, 3, 0), 200);
    }

    snprintf(body, sizeof(body), "{\"event\":\"x\",\"n\":7}");
    ck_assert_int_ne(post("/tight", body), 200);

    /* the SDK sends it again where it is taken: a first copy */
    ck_assert_int_eq(post("/collect", body), 200);
    ck_assert_int_eq(xf_metrics_get(nginx,
                         "xflow_ledger_events_total{fate=\"duplicate\"}"),
                     0);
}
END_TEST


/* nginx -t refuses a bad window, size or parameter, with file:line. */
START_TEST(test_dedup_refused_conf)
{
    size_t       i;
    char        *out, where[256];
    xf_nginx_t  *n;

    static const char *const  bad[][2] = {
        { "    xflow_dedup 500ms;\n",
          "invalid window \"500ms\", at least 1s" },
        { "    xflow_dedup 10m size=1k;\n", "invalid \"size=1k\"" },
        { "    xflow_dedup 10m sizes=1m;\n", "invalid parameter" },
        { "    xflow_dedup off 10m;\n", "after \"off\"" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = xf_nginx_new("", "127.0.0.1:9", 1);
        snprintf(spool_dir, sizeof(spool_dir), "%s/spool", n->dir);
        out = xf_nginx_refuses(n, snippet(bad[i][0]), "127.0.0.1:9",
                               bad[i][1]);

        /* the directive's line: the first of the http block's own */
        snprintf(where, sizeof(where), "%s:", n->conf);
        ck_assert_msg(strstr(out, where) != NULL, "no \"%s\" in: %s", where,
                      out);

        free(out);
        xf_nginx_free(n);
    }
}
END_TEST


Suite *
make_ledger_e2e_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("ledger_e2e");

    tc = xf_tcase(s, "ledger", 180, ledger_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_mixed);
    tcase_add_test(tc, test_restart);
    tcase_add_test(tc, test_dedup);
    tcase_add_test(tc, test_dedup_refused_first);

    tc = xf_tcase(s, "nginx-t", 60, NULL, NULL);
    tcase_add_test(tc, test_dedup_refused_conf);

    return s;
}
