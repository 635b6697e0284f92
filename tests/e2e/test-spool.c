/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-spool.c - nothing acknowledged is lost: a broker outage under
 * load, a worker killed with SIGKILL, a graceful stop with the brokers
 * down, and what happens when the spool cannot take more.  Every event
 * carries a unique id; the tests count what arrived by id.
 */

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_test.h"


#define MAX_EVENTS  20000

static char         url[160];
static char         spool_dir[200];


/* n events from `procs` processes at once, ids from..from+n; acked[id]. */
static void send_parallel(unsigned from, unsigned n, unsigned procs,
    unsigned char *acked);
static unsigned char *acked_in_outage(unsigned n);
static void start(const char *spool_args, const char *extra, int workers);
static unsigned spool_segments(void);
static void post_big_event(void);
static void expect_refused(const char *dl_topic);
static void expect_spool_drained(void);


static void
spool_setup(void)
{
    xf_fixture_setup(1, 20000, "events", 2, "xflow_dead_letter", 1,
                     "spool_dl", 1, NULL);
}


static const char *
snippet(const char *spool, const char *extra)
{
    static char  buf[2048];

    snprintf(buf, sizeof(buf),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_kafka_conf linger.ms 1;\n"
             "    xflow_kafka_conf message.timeout.ms 1500;\n"
             "    xflow_kafka_conf reconnect.backoff.max.ms 500;\n"
             "    xflow_topic events;\n"
             "    xflow_ack kafka;\n"
             "    xflow_spool %s;\n"
             "%s\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location /collect { xflow_collect json; }\n"
             "        location /health { xflow_health; }\n"
             "    }\n", spool, extra ? extra : "");

    return buf;
}


static void
start(const char *spool_args, const char *extra, int workers)
{
    char  spool[256];

    nginx = xf_nginx_new("", kafka->bootstraps, workers);
    snprintf(spool_dir, sizeof(spool_dir), "%s/spool", nginx->dir);
    snprintf(spool, sizeof(spool), "%s %s", spool_dir,
             spool_args ? spool_args : "");

    xf_nginx_write_conf(nginx, snippet(spool, extra), kafka->bootstraps);
    xf_nginx_start(nginx);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);
}


/* One event with id n; 1 when answered 200. */
static int
send_event(unsigned n)
{
    int             ok;
    char            body[96];
    size_t          len;
    xf_http_resp_t  resp;

    len = snprintf(body, sizeof(body),
                   "{\"event\":\"e\",\"distinct_id\":\"u%u\",\"n\":%u}", n, n);
    xf_http_request("POST", url, NULL, body, len, &resp);
    ok = resp.status == 200;
    xf_http_resp_free(&resp);

    return ok;
}


/*
 * Read every message of "events" until each acknowledged id arrived (or
 * the time is up); returns the losses, and the duplicates in *dups.
 */
static unsigned
count_arrived(const unsigned char *acked, unsigned n, unsigned *dups,
    int timeout_ms)
{
    char            *p;
    int64_t          end;
    unsigned         i, id, lost, *seen;
    xf_consumer_t   *c;
    xf_kafka_msgs_t  m;

    seen = calloc(n, sizeof(unsigned));
    memset(&m, 0, sizeof(m));
    c = xf_consumer_new(kafka, "events");
    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        xf_consumer_read(c, &m, m.n + 1, 500);

        memset(seen, 0, n * sizeof(unsigned));

        for (i = 0; i < m.n; i++) {
            p = (char *) xf_memstr(m.msgs[i].value, m.msgs[i].value_len,
                                   "\"n\":");
            if (p && sscanf(p + 4, "%u", &id) == 1 && id < n) {
                seen[id]++;
            }
        }

        lost = 0;
        *dups = 0;

        for (i = 0; i < n; i++) {
            if (acked[i] && seen[i] == 0) {
                lost++;
            }

            if (seen[i] > 1) {
                *dups += seen[i] - 1;
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


/*
 * Brokers down for 20 s under steady load, then up: every event answered
 * 200 is in Kafka afterwards.  The sender marks each acknowledgement with
 * the phase it came in (before, during, after the outage): how many it
 * gets depends on the machine, but some must come in each, or the test
 * did not test an outage.
 */
START_TEST(test_outage_under_load)
{
    int             status;
    pid_t           child;
    unsigned        i, n, lost, dups, acked_n, by_phase[4];
    unsigned char  *acked, *phase;

    start("fsync=interval=100ms", NULL, 2);

    acked = mmap(NULL, MAX_EVENTS + 1, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(acked, MAP_FAILED);
    memset(acked, 0, MAX_EVENTS + 1);
    phase = acked + MAX_EVENTS;
    *phase = 1;

    child = fork();
    ck_assert_int_ge(child, 0);

    if (child == 0) {
        int64_t  end = xf_now_ms() + 28000;

        for (i = 0; i < MAX_EVENTS && xf_now_ms() < end; i++) {
            unsigned char  before = *phase;

            /* an answer is of the outage if it began or ended in it */
            if (send_event(i)) {
                acked[i] = before > *phase ? before : *phase;
            }

            xf_sleep_ms(10);
        }

        _exit(0);
    }

    xf_sleep_ms(3000);
    xf_kafka_set_leaderless(kafka, "events", 2, 1);
    *phase = 2;
    xf_sleep_ms(20000);
    xf_kafka_set_leaderless(kafka, "events", 2, 0);
    *phase = 3;

    ck_assert_int_eq(waitpid(child, &status, 0), child);

    memset(by_phase, 0, sizeof(by_phase));

    for (n = 0, acked_n = 0; n < MAX_EVENTS; n++) {
        acked_n += acked[n] != 0;
        by_phase[acked[n]]++;
    }

    lost = count_arrived(acked, MAX_EVENTS, &dups, 60000);

    fprintf(stderr, "outage: %u events acknowledged (%u before, %u during, "
            "%u after the outage), %u lost, %u duplicates\n", acked_n,
            by_phase[1], by_phase[2], by_phase[3], lost, dups);

    ck_assert_uint_gt(by_phase[1], 0);
    ck_assert_uint_gt(by_phase[2], 0);
    ck_assert_uint_gt(by_phase[3], 0);
    ck_assert_uint_eq(lost, 0);

    munmap(acked, MAX_EVENTS + 1);
}
END_TEST


/*
 * With the brokers down, events are spooled and acknowledged; a worker
 * killed with SIGKILL leaves its spool, which the next worker adopts and
 * replays once the brokers are back.
 */
START_TEST(test_worker_killed)
{
    unsigned        lost, dups;
    unsigned char  *acked;

    start("fsync=always", NULL, 1);

    acked = acked_in_outage(200);

    xf_nginx_kill_worker(nginx);
    xf_sleep_ms(500);
    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    lost = count_arrived(acked, 200, &dups, 40000);
    fprintf(stderr, "worker killed: 200 acknowledged, %u lost, "
            "%u duplicates\n", lost, dups);
    ck_assert_uint_eq(lost, 0);

    munmap(acked, 200);
}
END_TEST


/* A graceful stop with the brokers down keeps the spool for next time. */
START_TEST(test_stop_and_restart)
{
    unsigned         lost, dups;
    unsigned char   *acked;
    char             conf[256];
    xf_nginx_t      *old;

    start("fsync=always", NULL, 1);

    acked = acked_in_outage(100);

    xf_nginx_quit(nginx, 20000);

    /* a new nginx on the same spool directory, the leader back */
    old = nginx;
    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    snprintf(conf, sizeof(conf), "%s fsync=always", spool_dir);
    xf_nginx_write_conf(nginx, snippet(conf, NULL), kafka->bootstraps);
    xf_nginx_start(nginx);

    lost = count_arrived(acked, 100, &dups, 40000);
    ck_assert_uint_eq(lost, 0);

    xf_nginx_check_log(old);
    xf_nginx_free(old);
    munmap(acked, 100);
}
END_TEST


/*
 * A spool that cannot be written: failed deliveries answer 503, nothing
 * crashes, and the worker says why.
 */
START_TEST(test_spool_unwritable)
{
    char             path[256], *log;
    FILE            *f;
    xf_http_resp_t   resp;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    /* a directory path through a regular file: no one can create it */
    snprintf(path, sizeof(path), "%s/file", nginx->dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    strcat(path, "/spool");

    /* nginx cannot make the path: nginx -t says so, naming it */
    free(xf_nginx_refuses(nginx, snippet(path, NULL), kafka->bootstraps,
                          path));

    xf_nginx_free(nginx);
    nginx = NULL;
    (void) log;
    (void) resp;
}
END_TEST


/*
 * A spool that passed the start and that a worker cannot open later (its
 * permissions changed, a mount went read-only): the log names the path,
 * the directive and errno, and /health answers 503 spool_unusable, since
 * this gateway could not keep what it accepts in an outage.
 */
START_TEST(test_spool_unusable_health)
{
    int              i;
    char             hurl[160], *log;
    xf_http_resp_t   resp;

    start("fsync=always", NULL, 1);
    snprintf(hurl, sizeof(hurl), "%s/health", nginx->url);

    xf_http_request("GET", hurl, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    xf_http_resp_free(&resp);

    /* the worker user (nobody) loses the directory; the next worker
       cannot open it */
    ck_assert_int_eq(chmod(spool_dir, 0), 0);
    xf_nginx_kill_worker(nginx);

    for (i = 0; i < 100; i++) {
        xf_http_request("GET", hurl, NULL, NULL, 0, &resp);

        if (resp.status == 503) {
            break;
        }

        xf_http_resp_free(&resp);
        xf_sleep_ms(100);
    }

    ck_assert_msg(resp.status == 503
                  && strstr(resp.body, "\"reason\":\"spool_unusable\"")
                     != NULL, "health %ld: %s", resp.status, resp.body);
    xf_http_resp_free(&resp);

    log = xf_nginx_read_log(nginx);
    ck_assert_msg(strstr(log, spool_dir) != NULL
                  && strstr(log, "Permission denied") != NULL
                  && strstr(log, "nginx.conf:") != NULL,
                  "the log does not name the path, errno and directive");
    free(log);

    ck_assert_int_eq(chmod(spool_dir, 0700), 0);
}
END_TEST


/*
 * At its cap the spool refuses new requests with the retry status, and
 * nothing it already took is lost.
 */
START_TEST(test_spool_full)
{
    int              status;
    pid_t            pid;
    unsigned         i, k, round;
    int             *st;
    xf_http_resp_t   resp;
    unsigned         ok, refused, other;

    /* a queue of one: the rest goes straight to the spool */
    start("max_size=1m fsync=off", "    xflow_max_event_size 16k;\n"
          "    xflow_kafka_conf queue.buffering.max.messages 1;\n", 1);

    st = mmap(NULL, 20 * sizeof(int), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(st, MAP_FAILED);

    xf_kafka_set_leaderless(kafka, "events", 2, 1);

    ok = refused = other = 0;

    /* 8 KB events, 20 at a time, until the spool says no */
    for (round = 0; round < 20 && refused == 0; round++) {
        for (k = 0; k < 20; k++) {
            pid = fork();
            ck_assert_int_ge(pid, 0);

            if (pid == 0) {
                char            body[8192];
                xf_http_resp_t  r2;

                memset(body, 'x', sizeof(body));
                memcpy(body, "{\"event\":\"big\",\"pad\":\"", 22);
                memcpy(body + sizeof(body) - 2, "\"}", 2);

                xf_http_request("POST", url, NULL, body, sizeof(body), &r2);
                st[k] = (int) r2.status;

                if (r2.status != 200
                    && strstr(r2.body, "spool_full") == NULL)
                {
                    st[k] = -st[k];
                }

                xf_http_resp_free(&r2);
                _exit(0);
            }
        }

        for (k = 0; k < 20; k++) {
            ck_assert_int_gt(wait(&status), 0);
        }

        for (k = 0; k < 20; k++) {
            ok += st[k] == 200;
            refused += st[k] == 503;
            other += st[k] != 200 && st[k] != 503;
        }
    }

    ck_assert_msg(refused > 0, "the spool never filled (%u accepted)", ok);
    ck_assert_msg(other == 0, "%u answers neither 200 nor 503 spool_full",
                  other);
    ck_assert_uint_gt(ok, 50);

    /* health reports it too */
    {
        char  hurl[160];

        snprintf(hurl, sizeof(hurl), "%s/health", nginx->url);
        xf_http_request("GET", hurl, NULL, NULL, 0, &resp);
        ck_assert_int_eq(resp.status, 503);
        ck_assert_msg(strstr(resp.body, "\"reason\":\"spool_full\"") != NULL,
                      "%s", resp.body);
        xf_http_resp_free(&resp);
    }

    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    /* nothing accepted is lost */
    for (i = 0; i < 900; i++) {
        if (xf_kafka_count(kafka, "events") >= (int64_t) ok) {
            break;
        }
        xf_sleep_ms(100);
    }

    ck_assert_msg(xf_kafka_count(kafka, "events") >= (int64_t) ok,
                  "%lld of %u accepted events in Kafka after %u s",
                  (long long) xf_kafka_count(kafka, "events"), ok, i / 10);

    munmap(st, 20 * sizeof(int));
}
END_TEST


/*
 * A message Kafka refuses for good (over message.max.bytes) is neither
 * retried nor spooled for ever: a dead letter names it by its id.
 */
START_TEST(test_message_too_large)
{
    start("fsync=off", "    xflow_kafka_conf message.max.bytes 2000;\n", 1);

    post_big_event();
    expect_refused("xflow_dead_letter");
}
END_TEST


/*
 * A record spooled during an outage that Kafka refuses for good when it
 * is replayed (message.max.bytes lowered while it waited, across a
 * restart): it leaves the spool instead of being replayed for ever, and
 * its dead letter reaches the dead-letter topic of the location that
 * accepted it, which only the record itself can name by then.
 */
START_TEST(test_replay_refused)
{
    char         conf[256];
    xf_nginx_t  *old;

    start("fsync=always", "    xflow_dead_letter_topic spool_dl;\n", 1);

    xf_kafka_set_leaderless(kafka, "events", 2, 1);
    post_big_event();

    xf_nginx_quit(nginx, 20000);
    old = nginx;
    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    /* the same spool under a limit the record is over */
    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    snprintf(conf, sizeof(conf), "%s fsync=always", spool_dir);
    xf_nginx_write_conf(nginx,
                        snippet(conf,
                                "    xflow_dead_letter_topic spool_dl;\n"
                                "    xflow_kafka_conf message.max.bytes "
                                "2000;\n"),
                        kafka->bootstraps);
    xf_nginx_start(nginx);

    expect_refused("spool_dl");
    ck_assert_int_eq(xf_kafka_count(kafka, "xflow_dead_letter"), 0);
    expect_spool_drained();

    xf_nginx_check_log(old);
    xf_nginx_free(old);
}
END_TEST


/*
 * The same when the broker refuses the replayed record (it answers the
 * produce request with MESSAGE_TOO_LARGE, as a broker whose limit is
 * below the record's size would): the delivery report says so, and the
 * record leaves the spool with its dead letter.
 */
START_TEST(test_replay_refused_by_broker)
{
    start("fsync=always", "    xflow_dead_letter_topic spool_dl;\n", 1);

    xf_kafka_set_leaderless(kafka, "events", 2, 1);
    ck_assert(send_event(7));

    /* the replay is the first produce request once the leaders are back */
    xf_kafka_fail_produce(kafka, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    expect_refused("spool_dl");
    expect_spool_drained();
}
END_TEST


/*
 * The dead letter of a message Kafka refused cannot be sent either (the
 * broker refuses every produce request: no write access to the
 * dead-letter topic): nobody waits for it, but it does not go without a
 * trace, and its warning comes once a second at most, however many are
 * lost (kafka.c, ngx_http_xflow_kafka_notice_lost()).  A 4 KB event over
 * message.max.bytes is refused at once, so each request makes one
 * notice; a request every 5 ms or so for 3 s.
 */

#define NOTICE_LOST  "the dead letter of a message Kafka refused was not " \
                     "sent to \"xflow_dead_letter\""

START_TEST(test_notice_lost)
{
    char        *log, *p, *q;
    size_t       sent, lines, suppressed;
    int64_t      start_ms, elapsed;

    start("fsync=off", "    xflow_kafka_conf message.max.bytes 2000;\n", 1);

    xf_kafka_fail_produce(kafka, 100000,
                          RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);

    start_ms = xf_now_ms();

    for (sent = 0; xf_now_ms() - start_ms < 3000; sent++) {
        post_big_event();
        xf_sleep_ms(5);
    }

    /* the notices' reports: linger 1 ms, an answer from the broker */
    xf_sleep_ms(1500);
    elapsed = xf_now_ms() - start_ms;

    log = xf_nginx_read_log(nginx);
    lines = 0;
    suppressed = 0;

    for (p = strstr(log, NOTICE_LOST); p; p = strstr(p + 1, NOTICE_LOST)) {
        lines++;

        q = strstr(p, "(");
        ck_assert_ptr_nonnull(q);
        suppressed += strtoul(q + 1, NULL, 10);
    }

    fprintf(stderr, "notice lost: %zu requests in %lld ms, %zu warn lines, "
            "%zu suppressed\n", sent, (long long) elapsed, lines,
            suppressed);

    ck_assert_uint_ge(sent, 10);
    ck_assert_uint_ge(lines, 1);
    ck_assert_msg(lines <= (size_t) (elapsed + 999) / 1000 + 1,
                  "%zu warn lines in %lld ms", lines, (long long) elapsed);
    /* a warning: the first one's line */
    p = strstr(log, NOTICE_LOST);
    for (q = p; q > log && q[-1] != '\n'; q--) {
        /* its start */
    }
    ck_assert_msg(memmem(q, p - q, "[warn]", 6) != NULL, "%.*s",
                  (int) (p - q), q);
    /* the lines after the first count what the second swallowed */
    ck_assert_uint_gt(suppressed, 0);
    ck_assert_uint_le(lines + suppressed, sent);

    free(log);

    ck_assert_int_eq(xf_kafka_count(kafka, "events"), 0);
}
END_TEST


/* One event of about 4 KB, answered 200 (delivered, spooled or refused). */
static void
post_big_event(void)
{
    char            body[4096];
    xf_http_resp_t  resp;

    memset(body, 'x', sizeof(body));
    memcpy(body, "{\"event\":\"big\",\"pad\":\"", 22);
    memcpy(body + sizeof(body) - 2, "\"}", 2);

    xf_http_request("POST", url, NULL, body, sizeof(body), &resp);
    ck_assert_int_eq(resp.status, 200);
    xf_http_resp_free(&resp);
}


/*
 * Kafka refused the one event for good: its dead letter, and only it, is
 * in dl_topic, naming the error, the topic and the event's id; nothing
 * reached "events".
 */
static void
expect_refused(const char *dl_topic)
{
    const char       *v;
    xf_kafka_msgs_t   dl;

    memset(&dl, 0, sizeof(dl));
    xf_kafka_consume(kafka, dl_topic, 1, 20000, 1000, &dl);
    v = dl.msgs[0].value;
    ck_assert_msg(strstr(v, "\"error\":\"MSG_SIZE_TOO_LARGE\"") != NULL
                  && strstr(v, "\"topic\":\"events\"") != NULL
                  && strstr(v, "\"id\":\"\"") == NULL, "%s", v);
    xf_kafka_msgs_free(&dl);

    ck_assert_int_eq(xf_kafka_count(kafka, "events"), 0);
}


/* Nothing left to replay: the segments go once their records do. */
static void
expect_spool_drained(void)
{
    unsigned  i;

    for (i = 0; i < 100 && spool_segments() > 0; i++) {
        xf_sleep_ms(100);
    }

    ck_assert_msg(spool_segments() == 0, "%u segments left in %s",
                  spool_segments(), spool_dir);
}


/* The segment files (*.xfs) in the spool directory. */
static unsigned
spool_segments(void)
{
    DIR            *d;
    size_t          len;
    unsigned        n;
    struct dirent  *e;

    d = opendir(spool_dir);
    ck_assert_ptr_nonnull(d);

    for (n = 0; (e = readdir(d)) != NULL; ) {
        len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".xfs") == 0;
    }

    closedir(d);

    return n;
}


static void
send_parallel(unsigned from, unsigned n, unsigned procs, unsigned char *acked)
{
    int       status;
    pid_t     pid;
    unsigned  i, k;

    for (k = 0; k < procs; k++) {
        pid = fork();
        ck_assert_int_ge(pid, 0);

        if (pid == 0) {
            for (i = from + k; i < from + n; i += procs) {
                acked[i] = send_event(i);
            }

            _exit(0);
        }
    }

    for (k = 0; k < procs; k++) {
        ck_assert_int_gt(wait(&status), 0);
    }
}


/*
 * An outage, then n events from 20 processes at once, each answered 200
 * (spooled); returns acked[0..n-1] (shared memory).
 */
static unsigned char *
acked_in_outage(unsigned n)
{
    unsigned        i;
    unsigned char  *acked;

    acked = mmap(NULL, n, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(acked, MAP_FAILED);

    xf_kafka_set_leaderless(kafka, "events", 2, 1);
    send_parallel(0, n, 20, acked);

    for (i = 0; i < n; i++) {
        ck_assert_msg(acked[i], "event %u not acknowledged", i);
    }

    return acked;
}


Suite *
make_spool_e2e_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("spool_e2e");

    tc = xf_tcase(s, "faults", 180, spool_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_outage_under_load);
    tcase_add_test(tc, test_worker_killed);
    tcase_add_test(tc, test_stop_and_restart);
    tcase_add_test(tc, test_spool_unwritable);
    tcase_add_test(tc, test_spool_unusable_health);
    tcase_add_test(tc, test_spool_full);
    tcase_add_test(tc, test_message_too_large);
    tcase_add_test(tc, test_replay_refused);
    tcase_add_test(tc, test_replay_refused_by_broker);

    tc = xf_tcase(s, "notice", 60, spool_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_notice_lost);

    return s;
}
