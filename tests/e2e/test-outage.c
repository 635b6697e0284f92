/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-outage.c - the shipped configuration (docs/deploy/nginx.conf, read
 * from the repository and changed only where a test must: ports, paths,
 * one worker, the foreground) through a 20 s broker outage under load,
 * with a reload and a worker's SIGKILL in the middle of it; and the
 * configurations "nginx -t" must refuse, each with the directive's
 * file:line.
 *
 * Load: single 314-byte events (tests/bench/payloads/event300.json) and
 * 50-event gzip batches (batch50.json, compressed here), each event with
 * its own "uid" of the same length, so what arrived is counted by uid.
 */

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_test.h"


#define OUTAGE_MAX_IDS   400000
#define OUTAGE_SENDERS   4



/* What the senders share with the test process. */
typedef struct {
    unsigned        next_id;            /* allocated atomically */
    unsigned        requests, ok, failed, other;
    int64_t         until;              /* senders stop then (ms) */
    int64_t         max_wait_ms;
    int             other_status;
    char            other_body[256];
    unsigned char   acked[OUTAGE_MAX_IDS];
} outage_shared_t;


static void
outage_setup(void)
{
    xf_fixture_setup(1, 30000, "events", 2, "xflow_dead_letter", 1, NULL);
}


/* Set every "uid":"u-<16 hex>" of body to consecutive ids from first. */
static unsigned
set_uids(char *body, unsigned first)
{
    char      *p, hex[17];
    unsigned   n;

    for (n = 0, p = body; (p = strstr(p, "\"uid\":\"u-")) != NULL; n++) {
        p += 9;
        snprintf(hex, sizeof(hex), "%016x", first + n);
        memcpy(p, hex, 16);
    }

    return n;
}


static void
sender(outage_shared_t *sh, const char *url, const char *single,
    const char *batch, unsigned seed)
{
    char           *body;
    void           *gz;
    size_t          len, gz_len;
    int64_t         t0, waited;
    unsigned        first, n, i, k;
    xf_http_resp_t  resp;

    static const char  *gzip_headers[] = {
        "Content-Type: application/json", "Content-Encoding: gzip", NULL
    };
    static const char  *json_headers[] = {
        "Content-Type: application/json", NULL
    };

    for (k = seed;
         xf_now_ms() < __atomic_load_n(&sh->until, __ATOMIC_SEQ_CST);
         k++)
    {
        body = strdup(k % 2 ? batch : single);
        ck_assert_ptr_nonnull(body);
        len = strlen(body);

        n = k % 2 ? 50 : 1;
        first = __atomic_fetch_add(&sh->next_id, n, __ATOMIC_SEQ_CST);

        if (first + n > OUTAGE_MAX_IDS) {
            free(body);
            break;
        }

        ck_assert_uint_eq(set_uids(body, first), n);

        t0 = xf_now_ms();

        if (k % 2) {
            gz = xf_compress(XF_TEST_GZIP, body, len, &gz_len);
            xf_http_request("POST", url, gzip_headers, gz, gz_len, &resp);
            free(gz);

        } else {
            xf_http_request("POST", url, json_headers, body, len, &resp);
        }

        waited = xf_now_ms() - t0;

        __atomic_fetch_add(&sh->requests, 1, __ATOMIC_SEQ_CST);

        if (resp.status == 200) {
            for (i = 0; i < n; i++) {
                sh->acked[first + i] = 1;
            }

            __atomic_fetch_add(&sh->ok, 1, __ATOMIC_SEQ_CST);

        } else if (resp.status == 0) {
            /* the connection went with a killed worker: not acknowledged */
            __atomic_fetch_add(&sh->failed, 1, __ATOMIC_SEQ_CST);

        } else {
            if (__atomic_fetch_add(&sh->other, 1, __ATOMIC_SEQ_CST) == 0) {
                sh->other_status = (int) resp.status;
                snprintf(sh->other_body, sizeof(sh->other_body), "%s",
                         resp.body ? resp.body : "");
            }
        }

        /* a request answered on the wire: how long it waited */
        if (resp.status != 0) {
            int64_t  cur = __atomic_load_n(&sh->max_wait_ms, __ATOMIC_SEQ_CST);

            while (waited > cur
                   && !__atomic_compare_exchange_n(&sh->max_wait_ms, &cur,
                                                   waited, 0,
                                                   __ATOMIC_SEQ_CST,
                                                   __ATOMIC_SEQ_CST))
            {
                /* cur reloaded */
            }
        }

        xf_http_resp_free(&resp);
        free(body);
        xf_sleep_ms(5);
    }
}


/*
 * Read "events" until every acknowledged uid arrived (or the time is up):
 * the losses; *dups the extra copies, *same_id those of them that carry
 * the envelope id of the first copy (dropped downstream by id).
 */
static unsigned
count_arrived(outage_shared_t *sh, unsigned n, unsigned *arrived,
    unsigned *dups, unsigned *same_id, int timeout_ms)
{
    char             (*ids)[33];
    const char      *p;
    int64_t          end;
    unsigned         i, id, lost, *seen;
    unsigned long long  v;
    xf_consumer_t   *c;
    xf_kafka_msgs_t  m;

    seen = calloc(n, sizeof(unsigned));
    ids = calloc(n, 33);
    ck_assert(seen != NULL && ids != NULL);
    memset(&m, 0, sizeof(m));
    c = xf_consumer_new(kafka, "events");
    end = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        /* whatever comes within 2 s, then count everything again */
        xf_consumer_read(c, &m, m.n + OUTAGE_MAX_IDS, 2000);

        memset(seen, 0, n * sizeof(unsigned));
        memset(ids, 0, (size_t) n * 33);
        *dups = 0;
        *same_id = 0;
        *arrived = 0;

        for (i = 0; i < m.n; i++) {
            p = xf_memstr(m.msgs[i].value, m.msgs[i].value_len,
                          "\"uid\":\"u-");
            if (p == NULL || sscanf(p + 9, "%16llx", &v) != 1 || v >= n) {
                continue;
            }

            id = (unsigned) v;

            if (seen[id]++ == 0) {
                (*arrived)++;

                if (m.msgs[i].value_len > 46
                    && strncmp(m.msgs[i].value, "{\"v\":1,\"id\":\"", 13)
                       == 0)
                {
                    memcpy(ids[id], m.msgs[i].value + 13, 32);
                }

                continue;
            }

            (*dups)++;

            if (m.msgs[i].value_len > 46
                && memcmp(m.msgs[i].value + 13, ids[id], 32) == 0)
            {
                (*same_id)++;
            }
        }

        lost = 0;

        for (i = 0; i < n; i++) {
            if (sh->acked[i] && seen[i] == 0) {
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
    free(ids);

    return lost;
}


/*
 * Kafka out for 20 s under load with the shipped configuration: no
 * request waits longer than xflow_spool_after (plus the spool's fsync
 * and a loaded machine's slack), /health stays 200 and says degraded,
 * a reload and a SIGKILL of the worker during the outage lose nothing,
 * and every acknowledged event is in Kafka once the brokers are back.
 */
START_TEST(test_shipped_config_outage)
{
    int               status, after, mport, degraded, healthy, unhealthy;
    char              url[160], hurl[160], path[512], *single, *batch;
    pid_t             pids[OUTAGE_SENDERS];
    int64_t           t0, slack;
    unsigned          i, acked, lost, arrived, dups, same_id;
    outage_shared_t  *sh;
    xf_http_resp_t    resp;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    mport = xf_test_free_port();
    after = xf_nginx_shipped_conf(nginx, mport);
    xf_nginx_start(nginx);

    snprintf(url, sizeof(url), "%s/collect", nginx->url);
    snprintf(hurl, sizeof(hurl), "%s/health", nginx->url);

    snprintf(path, sizeof(path), "%s/tests/bench/payloads/event300.json",
             xf_test_src_dir());
    single = xf_must_read_file(path);
    snprintf(path, sizeof(path), "%s/tests/bench/payloads/batch50.json",
             xf_test_src_dir());
    batch = xf_must_read_file(path);

    /* the payloads as documented: one 314-byte event, 50 events */
    ck_assert_uint_eq(strlen(single), 314);
    ck_assert_uint_eq(set_uids(batch, 0), 50);

    sh = mmap(NULL, sizeof(outage_shared_t), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(sh, MAP_FAILED);
    memset(sh, 0, sizeof(outage_shared_t));

    /* until the outage is over and 4 s more; moved once it starts */
    sh->until = INT64_MAX;

    for (i = 0; i < OUTAGE_SENDERS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);

        if (pids[i] == 0) {
            sender(sh, url, single, batch, i);
            _exit(0);
        }
    }

    /* load first: the outage starts 3 s after the first acknowledgement
     * (a sanitizer build may take a while to connect) */
    t0 = xf_now_ms();
    while (__atomic_load_n(&sh->ok, __ATOMIC_SEQ_CST) == 0) {
        if (xf_now_ms() > t0 + 60000) {
            __atomic_store_n(&sh->until, 0, __ATOMIC_SEQ_CST);
            ck_abort_msg("nothing acknowledged in 60 s before the outage");
        }
        xf_sleep_ms(50);
    }
    xf_sleep_ms(3000);
    t0 = xf_now_ms() - 3000;
    __atomic_store_n(&sh->until, t0 + 3000 + 20000 + 4000, __ATOMIC_SEQ_CST);

    xf_kafka_set_leaderless(kafka, "events", 2, 1);

    degraded = healthy = unhealthy = 0;

    /* 20 s down: /health every 250 ms; a reload at 7 s, a SIGKILL at 14 s */
    for (i = 0; xf_now_ms() < t0 + 3000 + 20000; i++) {
        xf_http_request("GET", hurl, NULL, NULL, 0, &resp);

        if (resp.status == 200) {
            healthy++;
            degraded += strstr(resp.body, "\"degraded\":true") != NULL;

        } else {
            if (unhealthy++ == 0) {
                fprintf(stderr, "outage: /health %ld: %s\n", resp.status,
                        resp.body);
            }
        }

        xf_http_resp_free(&resp);

        if (i == 28) {
            xf_nginx_reload(nginx);
        }

        if (i == 56) {
            xf_nginx_kill_worker(nginx);
        }

        xf_sleep_ms(250);
    }

    xf_kafka_set_leaderless(kafka, "events", 2, 0);

    for (i = 0; i < OUTAGE_SENDERS; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
    }

    for (i = 0, acked = 0; i < OUTAGE_MAX_IDS; i++) {
        acked += sh->acked[i];
    }

    lost = count_arrived(sh, sh->next_id < OUTAGE_MAX_IDS
                             ? sh->next_id : OUTAGE_MAX_IDS,
                         &arrived, &dups, &same_id, 120000);

    /* the deadline, the spool's fsync interval and tick, a busy machine */
    slack = after + 3000;

    fprintf(stderr, "outage (shipped config, xflow_spool_after %d ms): "
            "%u requests, %u answered 200, %u cut by the SIGKILL, %u other; "
            "%u events acknowledged, %u lost, %u arrived, %u duplicates "
            "(%u with the first copy's envelope id); longest wait %lld ms; "
            "/health %d x 200 (%d degraded), %d x not 200\n",
            after, sh->requests, sh->ok, sh->failed, sh->other, acked, lost,
            arrived, dups, same_id, (long long) sh->max_wait_ms, healthy,
            degraded, unhealthy);

    ck_assert_uint_gt(acked, 1000);
    ck_assert_uint_eq(lost, 0);
    ck_assert_msg(sh->other == 0, "%u answers neither 200 nor cut, first "
                  "%d %s", sh->other, sh->other_status, sh->other_body);
    ck_assert_msg(sh->max_wait_ms <= after + slack,
                  "a request waited %lld ms, the deadline is %d ms",
                  (long long) sh->max_wait_ms, after);
    ck_assert_int_eq(unhealthy, 0);
    ck_assert_int_gt(degraded, 0);

    /* and health says ok again once Kafka delivers */
    for (i = 0; i < 100; i++) {
        xf_http_request("GET", hurl, NULL, NULL, 0, &resp);
        status = resp.status == 200
                 && strstr(resp.body, "\"degraded\":false") != NULL;
        xf_http_resp_free(&resp);

        if (status) {
            break;
        }

        xf_sleep_ms(200);
    }

    ck_assert_msg(status, "/health not back to ok");

    free(single);
    free(batch);
    munmap(sh, sizeof(outage_shared_t));
}
END_TEST


/* --------------------------------------------------------- nginx -t */

/* The line of the first line of the written config containing needle. */
static int
conf_line(xf_nginx_t *n, const char *needle)
{
    int    line;
    char  *text, *p, *hit;

    text = xf_must_read_file(n->conf);
    hit = strstr(text, needle);
    ck_assert_msg(hit != NULL, "\"%s\" not in the config", needle);

    for (line = 1, p = text; p < hit; p++) {
        line += *p == '\n';
    }

    free(text);

    return line;
}


/* nginx -t refuses snippet, saying what and where (the line of at). */
static void
refused(const char *snippet, const char *what, const char *at)
{
    char        *out, where[160];
    xf_nginx_t  *n;

    n = xf_nginx_new(snippet, "127.0.0.1:9", 1);

    out = xf_nginx_refuses(n, NULL, NULL, what);
    snprintf(where, sizeof(where), "%s:%d", n->conf, conf_line(n, at));
    ck_assert_msg(strstr(out, where) != NULL, "no \"%s\" in: %s", where, out);

    free(out);
    xf_nginx_free(n);
}


#define SERVER                                                              \
    "    server {\n"                                                        \
    "        listen 127.0.0.1:@PORT@;\n"                                    \
    "        location /collect { xflow_collect json; }\n"                   \
    "        location /health { xflow_health; }\n"                          \
    "    }\n"


START_TEST(test_refuses_idempotence_acks_1)
{
    refused("    xflow_kafka_brokers @BROKERS@;\n"
            "    xflow_kafka_conf enable.idempotence true;\n"
            "    xflow_kafka_conf acks 1;\n"
            "    xflow_topic events;\n" SERVER,
            "librdkafka refuses the producer configuration: `acks` must be "
            "set to `all` when `enable.idempotence` is true",
            "xflow_kafka_conf acks 1;");
}
END_TEST


START_TEST(test_refuses_missing_ca)
{
    refused("    xflow_kafka_brokers @BROKERS@;\n"
            "    xflow_kafka_conf security.protocol ssl;\n"
            "    xflow_kafka_conf ssl.ca.location /nonexistent/ca.pem;\n"
            "    xflow_topic events;\n" SERVER,
            "librdkafka refuses the producer configuration: ssl.ca.location",
            "xflow_kafka_conf ssl.ca.location");
}
END_TEST


START_TEST(test_refuses_topic_names)
{
    char  name[300];

    refused("    xflow_kafka_brokers @BROKERS@;\n"
            "    xflow_topic \"events/web\";\n" SERVER,
            "invalid Kafka topic \"events/web\": it has a character Kafka "
            "refuses", "xflow_topic \"events/web\"");

    refused("    xflow_kafka_brokers @BROKERS@;\n"
            "    xflow_topic events;\n"
            "    xflow_dead_letter_topic ..;\n" SERVER,
            "invalid Kafka topic \"..\"", "xflow_dead_letter_topic ..;");

    refused("    xflow_kafka_brokers @BROKERS@;\n"
            "    xflow_topic events;\n"
            "    xflow_route event=signup topic=sign:ups;\n" SERVER,
            "invalid Kafka topic \"sign:ups\"", "xflow_route event=signup");

    memset(name, 'a', 250);
    name[250] = '\0';

    {
        char  snippet[1024];

        snprintf(snippet, sizeof(snippet),
                 "    xflow_kafka_brokers @BROKERS@;\n"
                 "    xflow_topic %s;\n" SERVER, name);
        refused(snippet, "is longer than Kafka's 249 characters",
                "xflow_topic aaaa");
    }
}
END_TEST


START_TEST(test_refuses_statistics_off)
{
    refused("    xflow_kafka_brokers @BROKERS@;\n"
            "    xflow_kafka_conf statistics.interval.ms 0;\n"
            "    xflow_topic events;\n" SERVER,
            "\"statistics.interval.ms 0\" switches off the statistics from "
            "which \"xflow_health\"",
            "xflow_kafka_conf statistics.interval.ms 0;");
}
END_TEST


/*
 * A spool directory nginx can create but the worker user (nobody, when
 * the tests run as root) cannot reach: under a parent only root may
 * traverse.  Without root, a directory without write permission.
 */
START_TEST(test_refuses_unwritable_spool)
{
    char         dir[256], snippet[1024], *out, where[200];
    xf_nginx_t  *n;

    n = xf_nginx_new("", "127.0.0.1:9", 1);

    snprintf(dir, sizeof(dir), "%s/locked", n->dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);

    if (geteuid() != 0) {
        strcat(dir, "/spool");
        ck_assert_int_eq(mkdir(dir, 0500), 0);

    } else {
        strcat(dir, "/spool");
    }

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic events;\n"
             "    xflow_spool %s;\n" SERVER, dir);
    out = xf_nginx_refuses(n, snippet, "127.0.0.1:9",
                           "cannot be written by the worker user");
    snprintf(where, sizeof(where), "%s:%d", n->conf,
             conf_line(n, "xflow_spool "));
    ck_assert_msg(strstr(out, dir) != NULL
                  && strstr(out, "Permission denied") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, where) != NULL, "no \"%s\" in: %s", where, out);

    free(out);
    xf_nginx_free(n);
}
END_TEST


/* ------------------------------------------ silent misconfigurations */

/*
 * nginx -t on snippet: exits with status rc (0 or not), says what, and
 * names the file:line of each of the lines that hold at[] (NULL ends).
 */
static void
says(const char *snippet, int rc, const char *what, const char *const *at)
{
    int          got;
    char        *out, where[200];
    xf_nginx_t  *n;

    n = xf_nginx_new("", "127.0.0.1:9", 1);
    xf_nginx_write_conf(n, snippet, "127.0.0.1:9");

    got = xf_nginx_test_config(n, &out);
    ck_assert_msg(rc ? got != 0 : got == 0, "nginx -t exit %d: %s", got,
                  out);
    ck_assert_msg(strstr(out, what) != NULL, "no \"%s\" in: %s", what, out);

    for ( ; *at; at++) {
        snprintf(where, sizeof(where), "%s:%d", n->conf, conf_line(n, *at));
        ck_assert_msg(strstr(out, where) != NULL, "no \"%s\" (%s) in: %s",
                      where, *at, out);
    }

    free(out);
    xf_nginx_free(n);
}

#define AT(...)  (const char *const []) { __VA_ARGS__, NULL }
#define NOWHERE  (const char *const []) { NULL }


/* A template's placeholder, a port past 65535, an empty list member. */
START_TEST(test_refuses_broker_lists)
{
    says("    xflow_kafka_brokers @KAFKA_BROKERS@;\n"
         "    xflow_topic events;\n" SERVER, 1,
         "\"@KAFKA_BROKERS@\" is a placeholder, not a broker list",
         AT("xflow_kafka_brokers @KAFKA"));

    says("    xflow_topic events;\n"
         "    xflow_kafka_brokers kafka-1:9092,kafka-2:90920;\n" SERVER, 1,
         "invalid broker \"kafka-2:90920\" in \"kafka-1:9092,kafka-2:90920\":"
         " a port that is not a number from 1 to 65535",
         AT("xflow_kafka_brokers kafka-1"));

    says("    xflow_kafka_brokers kafka-1:9092,,kafka-2:9092;\n"
         "    xflow_topic events;\n" SERVER, 1,
         "invalid broker \"\" in \"kafka-1:9092,,kafka-2:9092\": no host",
         AT("xflow_kafka_brokers kafka-1"));

    says("    xflow_kafka_brokers kafka-1:9092/x;\n"
         "    xflow_topic events;\n" SERVER, 1,
         "a port that is not a number", AT("xflow_kafka_brokers kafka-1"));

    /* what librdkafka takes: protocols, IPv6, blanks after commas */
    says("    xflow_kafka_brokers \"SSL://kafka-1:9093, [::1]:9092,k3\";\n"
         "    xflow_topic events;\n" SERVER, 0,
         "test is successful", NOWHERE);
}
END_TEST


/* What is missing is named at the xflow_collect that needs it. */
START_TEST(test_refuses_missing_at_collect)
{
    says("    xflow_topic events;\n" SERVER, 1,
         "\"xflow_collect\" needs \"xflow_kafka_brokers\"",
         AT("xflow_collect json;"));

    says("    xflow_kafka_brokers @BROKERS@;\n" SERVER, 1,
         "\"xflow_collect\" needs \"xflow_topic\"",
         AT("xflow_collect json;"));

    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_topic events;\n"
         "    xflow_spool_after 0;\n" SERVER, 1,
         "\"xflow_spool_after\" must be more than 0",
         AT("xflow_spool_after 0;"));
}
END_TEST


/* Origins a browser never sends: each refused at its own line. */
START_TEST(test_refuses_cors_origins)
{
    size_t  i;
    char    snippet[1024];

    static const struct {
        const char  *origin, *what;
    } bad[] = {
        { "https://shop.example.com/app", "a path or a trailing slash" },
        { "https://shop.example.com/", "a path or a trailing slash" },
        { "*", "a wildcard" },
        { "https://*.example.com", "a wildcard" },
        { "https://a.example.com,https://b.example.com", "a comma" },
        { "https://shop.example.com:123456", "a port that is not" },
        { "shop.example.com", "no http:// or https://" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(snippet, sizeof(snippet),
                 "    xflow_kafka_brokers @BROKERS@;\n"
                 "    xflow_topic events;\n"
                 "    server {\n"
                 "        listen 127.0.0.1:@PORT@;\n"
                 "        location /collect {\n"
                 "            xflow_collect json;\n"
                 "            xflow_cors_origins https://ok.example.com\n"
                 "                               %s;\n"
                 "        }\n"
                 "    }\n", bad[i].origin);
        says(snippet, 1, bad[i].what, AT(bad[i].origin));
    }

    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_topic events;\n"
         "    xflow_cors_origins https://shop.example.com:8443\n"
         "                       http://[::1]:8080 http://localhost;\n"
         SERVER, 0, "test is successful", NOWHERE);
}
END_TEST


static void
geoip_says(const char *param, const char *db, const char *what)
{
    char  snippet[1024], at[64];

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic events;\n"
             "    xflow_geoip %s=%s/tests/fixtures/geoip/%s;\n" SERVER,
             param, xf_test_src_dir(), db);
    snprintf(at, sizeof(at), "xflow_geoip %s=", param);
    says(snippet, 1, what, AT(at));
}


/* The databases by their metadata's type, not by their file names. */
START_TEST(test_refuses_geoip_kind)
{
    geoip_says("city", "GeoLite2-ASN-Test.mmdb",
               "is a GeoLite2-ASN database: give it as asn=");
    geoip_says("asn", "GeoIP2-City-Test.mmdb",
               "is a GeoIP2-City database: give it as city=");
    geoip_says("asn", "GeoIP2-Country-Test.mmdb",
               "is a GeoIP2-Country database: give it as city=");
}
END_TEST


/* The ack wait must outlast the wait before spooling. */
START_TEST(test_refuses_spool_after_ack_timeout)
{
    char  snippet[1024];

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic events;\n"
             "    xflow_spool /tmp/xflow-never-made-%d;\n"
             "    xflow_spool_after 30s;\n" SERVER, (int) getpid());
    says(snippet, 1,
         "\"xflow_spool_after 30000ms\" is not shorter than "
         "\"xflow_ack_timeout 30000ms\"",
         AT("xflow_spool_after 30s;", "xflow_collect json;"));

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic events;\n"
             "    xflow_spool /tmp/xflow-never-made-%d;\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        xflow_ack_timeout 1500ms;\n"
             "        location /collect { xflow_collect json; }\n"
             "    }\n", (int) getpid());
    says(snippet, 1,
         "\"xflow_spool_after 2000ms\" is not shorter than "
         "\"xflow_ack_timeout 1500ms\"",
         AT("xflow_ack_timeout 1500ms;", "xflow_collect json;"));
}
END_TEST


/* acks 0 and ack=kafka: an acknowledgement nobody gave. */
START_TEST(test_refuses_acks_0)
{
    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_kafka_conf acks 0;\n"
         "    xflow_topic events;\n" SERVER, 1,
         "\"acks 0\" (", AT("xflow_kafka_conf acks 0;",
                             "xflow_collect json;"));

    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_topic events;\n"
         "    xflow_kafka_topic_conf events request.required.acks 0;\n"
         "    server {\n"
         "        listen 127.0.0.1:@PORT@;\n"
         "        location /collect {\n"
         "            xflow_collect json;\n"
         "            xflow_ack kafka;\n"
         "        }\n"
         "    }\n", 1,
         "\"request.required.acks 0\" (",
         AT("xflow_kafka_topic_conf events", "xflow_ack kafka;"));

    /* acknowledged locally: acks 0 is the operator's choice */
    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_kafka_conf acks 0;\n"
         "    xflow_topic events;\n"
         "    xflow_ack local;\n" SERVER, 0, "test is successful", NOWHERE);
}
END_TEST


/* Snowplow's browser tracker sends credentials: "any" cannot answer it. */
START_TEST(test_refuses_snowplow_any)
{
    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_topic events;\n"
         "    xflow_cors_origins any;\n"
         "    server {\n"
         "        listen 127.0.0.1:@PORT@;\n"
         "        location /sp { xflow_collect snowplow; }\n"
         "    }\n", 1,
         "\"xflow_cors_origins any\" fails every upload of Snowplow's",
         AT("xflow_cors_origins any;", "xflow_collect snowplow;"));

    /* "any" by default: a warning, the pixel and app uploads still work */
    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_topic events;\n"
         "    server {\n"
         "        listen 127.0.0.1:@PORT@;\n"
         "        location /sp { xflow_collect snowplow; }\n"
         "    }\n", 0,
         "[warn]", AT("xflow_collect snowplow;"));

    says("    xflow_kafka_brokers @BROKERS@;\n"
         "    xflow_topic events;\n"
         "    server {\n"
         "        listen 127.0.0.1:@PORT@;\n"
         "        xflow_cors_origins https://shop.example.com;\n"
         "        location /sp { xflow_collect snowplow; }\n"
         "    }\n", 0,
         "test is successful", NOWHERE);
}
END_TEST


/* The shipped configuration passes as it is (ports and paths aside). */
START_TEST(test_shipped_config_passes)
{
    int          rc;
    char        *out;
    xf_nginx_t  *n;

    n = xf_nginx_new("", kafka->bootstraps, 1);
    (void) xf_nginx_shipped_conf(n, xf_test_free_port());

    rc = xf_nginx_test_config(n, &out);
    ck_assert_msg(rc == 0, "%s", out);

    free(out);
    xf_nginx_free(n);
}
END_TEST


/* The value of one sample in a /metrics text; -1 when absent. */
static long long
sample(const char *text, const char *series)
{
    const char  *v;

    v = xf_metrics_find(text, series);

    return v != NULL ? atoll(v) : -1;
}


/*
 * A rate limit's refusals count in xflow_rate_limited_total, one per
 * request with the status answered, and never as overflowed (overload);
 * /metrics says what build runs.
 */
START_TEST(test_rate_limited_counted)
{
    int              i;
    char             url[160], murl[160], snippet[2048];
    long long        limited, overflowed;
    xf_http_resp_t   resp;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    snprintf(snippet, sizeof(snippet),
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_topic events;\n"
        "    xflow_spool %s/spool;\n"
        "    xflow_limit_zone ip:1m key=$remote_addr rate=1r/m burst=2;\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /collect { xflow_collect json; xflow_limit ip; }\n"
        "        location /metrics { xflow_metrics; }\n"
        "    }\n", nginx->dir);
    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);

    snprintf(url, sizeof(url), "%s/collect", nginx->url);
    snprintf(murl, sizeof(murl), "%s/metrics", nginx->url);

    for (i = 0; i < 7; i++) {
        xf_http_request("POST", url, NULL, "{\"event\":\"e\"}", 13, &resp);
        ck_assert_int_eq(resp.status, i < 2 ? 200 : 429);
        xf_http_resp_free(&resp);
    }

    xf_http_request("GET", murl, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);

    limited = sample(resp.body,
                 "xflow_rate_limited_total{format=\"json\",code=\"429\"}");
    overflowed = sample(resp.body,
                 "xflow_events_total{format=\"json\",result=\"overflowed\"}");

    ck_assert_msg(limited == 5, "rate_limited %lld, expected 5", limited);
    ck_assert_msg(overflowed <= 0, "overflowed %lld", overflowed);

    ck_assert_msg(strstr(resp.body, "xflow_build_info{version=\"") != NULL,
                  "no xflow_build_info");
    ck_assert_msg(strstr(resp.body, "xflow_spooling 0") != NULL,
                  "no xflow_spooling 0");
    xf_http_resp_free(&resp);
}
END_TEST


Suite *
make_outage_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("outage");

    tc = xf_tcase(s, "shipped", 240, outage_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_shipped_config_passes);
    tcase_add_test(tc, test_shipped_config_outage);
    tcase_add_test(tc, test_rate_limited_counted);

    tc = xf_tcase(s, "nginx-t", 60, NULL, NULL);
    tcase_add_test(tc, test_refuses_idempotence_acks_1);
    tcase_add_test(tc, test_refuses_missing_ca);
    tcase_add_test(tc, test_refuses_topic_names);
    tcase_add_test(tc, test_refuses_statistics_off);
    tcase_add_test(tc, test_refuses_unwritable_spool);
    tcase_add_test(tc, test_refuses_broker_lists);
    tcase_add_test(tc, test_refuses_missing_at_collect);
    tcase_add_test(tc, test_refuses_cors_origins);
    tcase_add_test(tc, test_refuses_geoip_kind);
    tcase_add_test(tc, test_refuses_spool_after_ack_timeout);
    tcase_add_test(tc, test_refuses_acks_0);
    tcase_add_test(tc, test_refuses_snowplow_any);

    return s;
}
