/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-outage-load.c - Kafka outages under the load real traffic is:
 * browsers arriving at a fixed rate (open loop: they do not wait for
 * each other's answers), each upload one 314-byte event with the headers
 * a browser sends (a 2 KB Cookie, Chrome's User-Agent, an Origin, a
 * client address), through docs/deploy/nginx.conf as shipped (ports,
 * paths and brokers aside), one worker.  The brokers are really down
 * from t=5 s to t=13 s: connections refused, not only leaders gone.
 *
 * What must hold, as an SRE would check it: every request answered 2xx
 * within 5 s, /health never 503 and back to ok within 8 s of the
 * brokers' return, every acknowledged event in Kafka after the spool
 * drained (each matched by the id its request carried), duplicates
 * counted and reported.  A closed-loop run (every client waits on the
 * same path, the benchmarks' way) with fsync=always, and a spool on a
 * 1 MiB filesystem that fills during the outage: the retry status,
 * /health 503 spool_full, a throttled error log, nothing acknowledged
 * lost.
 */

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_test.h"
#include "xf_load.h"


#define LOAD_SECONDS     30
#define DOWN_AT_MS       5000
#define UP_AT_MS         13000
#define WAIT_MAX_MS      5000       /* the longest answer allowed */
#define RECOVERY_MAX_MS  8000       /* /health ok again after UP_AT */
#define UID_MARKER       "\"uid\":\"u-"


/* A browser's upload headers, the Cookie 2 KB as first parties set. */
static char   cookie_header[2300];

static const char  *browser_headers[] = {
    "Content-Type: application/json",
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36",
    "Origin: https://shop.example.com",
    "Accept: */*",
    "Accept-Language: en-US,en;q=0.9",
    "X-Forwarded-For: 203.0.113.77",
    cookie_header,
    NULL
};


typedef struct {
    xf_load_conf_t      conf;
    xf_load_result_t    res;
} load_run_t;


/* What /health said over the run, sampled every 200 ms. */
typedef struct {
    int                 not_200;
    int                 degraded;
    int                 first_not_200_status;
    char                first_not_200[256];
    int64_t             last_degraded_ms;   /* since the load started */
    int                 spool_full;         /* 503 spool_full seen */
} health_log_t;


static void *
load_main(void *arg)
{
    load_run_t  *run = arg;

    ck_assert_int_eq(xf_load_run(&run->conf, &run->res), 0);

    return NULL;
}


static void
outage_load_setup(void)
{
    size_t  i, n;

    xf_fixture_setup(1, 30000, "events", 2, "xflow_dead_letter", 1, NULL);

    /* _ga, session and consent cookies: 2 KB in all */
    n = (size_t) snprintf(cookie_header, sizeof(cookie_header),
                          "Cookie: _ga=GA1.1.1234567890.1732492800; "
                          "sid=s%%3Aabcdef; consent=analytics; pref=");

    for (i = n; i < 2048 + 8; i++) {
        cookie_header[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
    }

    cookie_header[i] = '\0';
}


/* nginx with the shipped configuration; text edits its nginx.conf. */
static void
start_shipped(const char *from, const char *to)
{
    char  *conf;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    conf = xf_shipped_conf_text(nginx, xf_test_free_port());

    if (from != NULL) {
        conf = xf_replace_once(conf, from, to);
    }

    xf_nginx_conf_text(nginx, conf);
    free(conf);

    xf_nginx_start(nginx);
}


/* /health now, into the log; t is the time since the load started. */
static void
health_sample(health_log_t *h, int64_t t)
{
    char            url[160];
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s/health", nginx->url);
    xf_http_request("GET", url, NULL, NULL, 0, &resp);

    if (resp.status != 200) {
        if (h->not_200++ == 0) {
            h->first_not_200_status = (int) resp.status;
            snprintf(h->first_not_200, sizeof(h->first_not_200), "%s",
                     resp.body ? resp.body : "");
        }

        if (resp.body && strstr(resp.body, "\"spool_full\"")) {
            h->spool_full++;
        }

    } else if (strstr(resp.body, "\"degraded\":true") != NULL) {
        h->degraded++;
        h->last_degraded_ms = t;
    }

    xf_http_resp_free(&resp);
}


/*
 * Run the load in a thread while the brokers go down at DOWN_AT_MS and
 * come back at UP_AT_MS, sampling /health; returns when the load ended.
 */
static void
outage_run(load_run_t *run, health_log_t *h)
{
    char        path[512], *body;
    int64_t     t0, t;
    pthread_t   th;
    int         down, up;

    snprintf(path, sizeof(path), "%s/tests/bench/payloads/event300.json",
             xf_test_src_dir());
    body = xf_must_read_file(path);
    ck_assert_uint_eq(strlen(body), 314);

    run->conf.port = nginx->port;
    run->conf.path = "/collect";
    run->conf.headers = browser_headers;
    run->conf.body = body;
    run->conf.body_len = strlen(body);
    run->conf.marker = UID_MARKER;
    run->conf.duration_ms = LOAD_SECONDS * 1000;
    run->conf.timeout_ms = 35000;

    memset(h, 0, sizeof(health_log_t));

    ck_assert_int_eq(pthread_create(&th, NULL, load_main, run), 0);

    t0 = xf_now_ms();
    down = up = 0;

    while ((t = xf_now_ms() - t0) < LOAD_SECONDS * 1000 + 2000) {
        if (!down && t >= DOWN_AT_MS) {
            xf_kafka_set_down(kafka);
            down = 1;
        }

        if (!up && t >= UP_AT_MS) {
            xf_kafka_set_up(kafka);
            up = 1;
        }

        health_sample(h, t);
        xf_sleep_ms(200);
    }

    ck_assert_int_eq(pthread_join(th, NULL), 0);
    free(body);
}


/*
 * Read "events" until every acknowledged id arrived or timeout_ms: the
 * ids lost; *dups the extra copies.
 */
static size_t
lost_events(const load_run_t *run, size_t *dups, int timeout_ms)
{
    size_t           i, lost, n;
    int64_t          end;
    uint8_t         *seen;
    const char      *p;
    xf_consumer_t   *c;
    xf_kafka_msgs_t  m;
    unsigned long long  v;

    n = run->res.n;
    seen = calloc(n + 1, 1);
    ck_assert_ptr_nonnull(seen);
    memset(&m, 0, sizeof(m));

    c = xf_consumer_new(kafka, "events");
    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        xf_consumer_read(c, &m, m.n + n + 1, 2000);

        memset(seen, 0, n + 1);
        *dups = 0;

        for (i = 0; i < m.n; i++) {
            p = xf_memstr(m.msgs[i].value, m.msgs[i].value_len, UID_MARKER);

            if (p == NULL
                || sscanf(p + sizeof(UID_MARKER) - 1, "%16llx", &v) != 1
                || v >= n)
            {
                continue;
            }

            if (seen[v]) {
                (*dups)++;
            }

            seen[v] = 1;
        }

        for (i = 0, lost = 0; i < n; i++) {
            if (run->res.reqs[i].status / 100 == 2 && !seen[i]) {
                lost++;
            }
        }

        if (lost == 0 || xf_now_ms() > end) {
            break;
        }
    }

    xf_consumer_free(c);
    xf_kafka_msgs_free(&m);
    free(seen);

    return lost;
}


static void
report(const char *name, const load_run_t *run, const health_log_t *h,
    size_t lost, size_t dups)
{
    xf_load_stats_t  all, before, during, after;

    xf_load_stats(&run->res, 0, INT64_MAX, &all);
    xf_load_stats(&run->res, 0, DOWN_AT_MS, &before);
    xf_load_stats(&run->res, DOWN_AT_MS, UP_AT_MS, &during);
    xf_load_stats(&run->res, UP_AT_MS, INT64_MAX, &after);

    fprintf(stderr,
            "%s: %zu requests (%zu 2xx, %zu other, first %d, %zu none, "
            "%zu not sent), %u connections at most; latency p50/p99/max "
            "ms: before %d/%d/%d, brokers down %d/%d/%d, after %d/%d/%d; "
            "/health: %d degraded, last at %lld ms, %d not 200; "
            "%zu acknowledged events lost, %zu duplicates\n",
            name, all.requests, all.ok, all.other, all.first_other,
            all.none, all.not_sent, run->res.conns_max,
            before.p50_ms, before.p99_ms, before.max_ms,
            during.p50_ms, during.p99_ms, during.max_ms,
            after.p50_ms, after.p99_ms, after.max_ms,
            h->degraded, (long long) h->last_degraded_ms, h->not_200,
            lost, dups);
}


/* The done-when of an outage: all of it answered 2xx in time, health
 * back, nothing acknowledged lost. */
static void
outage_check(const char *name, load_run_t *run, const health_log_t *h)
{
    size_t           lost, dups;
    xf_load_stats_t  all;

    lost = lost_events(run, &dups, 90000);
    report(name, run, h, lost, dups);

    xf_load_stats(&run->res, 0, INT64_MAX, &all);

    ck_assert_uint_gt(all.requests, 0);
    ck_assert_msg(all.ok == all.requests,
                  "%zu of %zu requests not answered 2xx (first other "
                  "status %d, %zu without an answer)",
                  all.requests - all.ok, all.requests, all.first_other,
                  all.none);
    ck_assert_msg(all.max_ms <= WAIT_MAX_MS,
                  "a request waited %d ms", all.max_ms);
    ck_assert_msg(h->not_200 == 0, "/health said %d: %s",
                  h->first_not_200_status, h->first_not_200);
    ck_assert_msg(h->degraded > 0, "/health never said degraded");
    ck_assert_msg(h->last_degraded_ms <= UP_AT_MS + RECOVERY_MAX_MS,
                  "/health still degraded %lld ms after the brokers "
                  "came back", (long long) (h->last_degraded_ms - UP_AT_MS));
    ck_assert_uint_eq(lost, 0);
}


static void
open_loop_outage(double rate, const char *name)
{
    load_run_t    run;
    health_log_t  h;

    start_shipped(NULL, NULL);

    memset(&run, 0, sizeof(run));
    run.conf.rate = rate;
    outage_run(&run, &h);

    outage_check(name, &run, &h);
    xf_load_free(&run.res);
}


START_TEST(test_open_loop_100)
{
    open_loop_outage(100, "open loop, 100 req/s");
}
END_TEST


/* An ASan build serves a few thousand requests a second on this
 * machine: the rate stays, what it proves is the same. */
START_TEST(test_open_loop_1000)
{
    open_loop_outage(1000, "open loop, 1000 req/s");
}
END_TEST


/* Every client waits on the same path: with fsync=always each append is
 * durable at once and nothing may wait for a tick. */
START_TEST(test_closed_loop_fsync_always)
{
    load_run_t    run;
    health_log_t  h;

    start_shipped("fsync=interval=100ms", "fsync=always");

    memset(&run, 0, sizeof(run));
    run.conf.conns = 32;
    outage_run(&run, &h);

    outage_check("closed loop, 32 connections, fsync=always", &run, &h);
    xf_load_free(&run.res);
}
END_TEST


/* The error log's lines about the spool's writes. */
static size_t
spool_error_lines(void)
{
    char        *log, *p;
    size_t       n;

    log = xf_nginx_read_log(nginx);

    for (n = 0, p = log; (p = strstr(p, "xflow: spool append")) != NULL;
         p++)
    {
        n++;
    }

    free(log);

    return n;
}


/*
 * The spool on a 1 MiB filesystem, filled while the brokers are down:
 * requests get the retry status (never 200 for what could not be kept),
 * /health 503 spool_full, one error line a second at most; after the
 * brokers are back every acknowledged event is in Kafka.  Needs root to
 * mount the filesystem.
 */
START_TEST(test_spool_disk_full)
{
    int               ok, retry, other, none;
    char              dir[256];
    size_t            i, lost, dups, lines;
    load_run_t        run;
    health_log_t      h;
    xf_load_stats_t   during;

    if (geteuid() != 0) {
        fprintf(stderr, "spool disk full: SKIPPED, mounting a 1 MiB tmpfs "
                "needs root\n");
        return;
    }

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    /* the spool directory is a small filesystem of its own */
    snprintf(dir, sizeof(dir), "%s/spool", nginx->dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_msg(mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0777") == 0,
                  "mount tmpfs on %s failed", dir);

    {
        char  *conf;

        conf = xf_shipped_conf_text(nginx, xf_test_free_port());
        xf_nginx_conf_text(nginx, conf);
        free(conf);
    }

    xf_nginx_start(nginx);

    memset(&run, 0, sizeof(run));
    run.conf.rate = 1000;
    outage_run(&run, &h);

    lost = lost_events(&run, &dups, 90000);
    report("spool on a full 1 MiB disk, open loop 1000 req/s", &run, &h,
           lost, dups);

    ok = retry = other = none = 0;

    for (i = 0; i < run.res.n; i++) {
        switch (run.res.reqs[i].status) {
        case 200: ok++; break;
        case 503: retry++; break;
        case 0: none++; break;
        default: other++; break;
        }
    }

    xf_load_stats(&run.res, DOWN_AT_MS, UP_AT_MS, &during);
    lines = spool_error_lines();

    fprintf(stderr, "spool disk full: %d answered 200, %d the retry status "
            "503, %d other, %d none; %zu spool error lines; /health "
            "spool_full %d times\n", ok, retry, other, none, lines,
            h.spool_full);

    xf_nginx_quit(nginx, 30000);
    (void) umount2(dir, MNT_DETACH);

    ck_assert_int_gt(ok, 0);
    ck_assert_msg(retry > 0, "the disk never filled");
    ck_assert_int_eq(other, 0);
    ck_assert_int_eq(none, 0);
    ck_assert_msg(during.max_ms <= WAIT_MAX_MS, "a request waited %d ms",
                  during.max_ms);
    ck_assert_msg(h.spool_full > 0, "/health never said spool_full");
    ck_assert_msg(lines <= (size_t) (UP_AT_MS - DOWN_AT_MS) / 1000 + 3,
                  "%zu spool error lines in an 8 s outage", lines);
    ck_assert_uint_eq(lost, 0);

    xf_load_free(&run.res);
}
END_TEST


Suite *
make_outage_load_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("outage_load");

    tc = xf_tcase(s, "open-loop", 240, outage_load_setup,
                  xf_fixture_teardown);
    tcase_add_test(tc, test_open_loop_1000);
    tcase_add_test(tc, test_spool_disk_full);

    /*
     * The sanitizer run takes the paths the two above take (spooling,
     * the group commit, replay, a full disk); these two add load shapes,
     * not code, and a minute each: the plain run only.
     */
    if (getenv("XFLOW_ASAN") == NULL) {
        tcase_add_test(tc, test_open_loop_100);
        tcase_add_test(tc, test_closed_loop_fsync_always);
    }

    return s;
}
