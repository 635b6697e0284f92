/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-metrics.c - the metric registry: layout, counters summed over
 * worker slots, gauges of current workers, histograms, label escaping,
 * carrying counters over a reload, librdkafka statistics, and the
 * rendered text checked by promtool (which must be installed).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_metrics.h"
#include "xf_format.h"
#include "xf_unit.h"


#define PROMTOOL  "/usr/bin/promtool"


typedef struct {
    xf_metrics_t  *m;
    void          *mem;
} test_reg_t;


static void
reg_open(test_reg_t *t, const char *const *topics, const char *const *zones,
    size_t nslots)
{
    size_t  i, idx;

    ck_assert_int_eq(xf_metrics_create(&t->m, &xf_alloc_libc), XF_OK);

    for (i = 0; topics && topics[i]; i++) {
        ck_assert_int_eq(xf_metrics_add_label(t->m, XF_DIM_TOPIC,
                             (const u_char *) topics[i], strlen(topics[i]),
                             &idx), XF_OK);
        ck_assert_uint_eq(idx, i);
    }

    for (i = 0; zones && zones[i]; i++) {
        ck_assert_int_eq(xf_metrics_add_label(t->m, XF_DIM_ZONE,
                             (const u_char *) zones[i], strlen(zones[i]),
                             &idx), XF_OK);
        ck_assert_uint_eq(idx, i);
    }

    ck_assert_int_eq(xf_metrics_layout(t->m, nslots), XF_OK);

    t->mem = aligned_alloc(8, (xf_metrics_size(t->m) + 7) & ~(size_t) 7);
    ck_assert_ptr_nonnull(t->mem);
    xf_metrics_init_mem(t->m, t->mem);
}


static void
reg_close(test_reg_t *t)
{
    free(t->mem);
    xf_metrics_destroy(t->m);
}


/* The whole rendering as a NUL-terminated string (free it). */
static char *
render(test_reg_t *t, size_t nworkers)
{
    char              *s;
    xf_buf_t           out;

    memset(&out, 0, sizeof(out));

    ck_assert_int_eq(xf_metrics_render(t->m, t->mem, nworkers, &out,
                                       &xf_alloc_libc), XF_OK);

    s = malloc(out.len + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, out.p, out.len);
    s[out.len] = '\0';
    free(out.p);

    return s;
}


/* The value of the sample line that starts with series (name{labels}). */
static const char *
sample(const char *text, const char *series)
{
    static char  val[64];
    size_t       n;
    const char  *p, *e;

    n = strlen(series);

    for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            e = strchr(p + n + 1, '\n');
            ck_assert_ptr_nonnull(e);
            ck_assert_uint_lt((size_t) (e - p - n - 1), sizeof(val));
            memcpy(val, p + n + 1, e - p - n - 1);
            val[e - p - n - 1] = '\0';
            return val;
        }
    }

    return NULL;
}

#define ck_assert_sample(text, series, v)                                  \
    do {                                                                   \
        const char *got_ = sample(text, series);                           \
        ck_assert_msg(got_ != NULL, "no sample %s", series);               \
        ck_assert_str_eq(got_, v);                                         \
    } while (0)


static const char *const  topics2[] = { "events", "dead", NULL };
static const char *const  zones1[] = { "per_ip", NULL };


/* ---------------------------------------------------------------- core */

START_TEST(test_layout)
{
    test_reg_t               t;
    const xf_metric_def_t   *def;
    int                      i;

    reg_open(&t, topics2, zones1, 4);

    ck_assert_uint_eq(xf_metrics_nslots(t.m), 4);
    ck_assert_uint_eq(xf_metrics_dim_size(t.m, XF_DIM_TOPIC), 2);
    ck_assert_uint_eq(xf_metrics_dim_size(t.m, XF_DIM_ZONE), 1);
    ck_assert_uint_eq(xf_metrics_dim_size(t.m, XF_DIM_FORMAT), XF_FMT_MAX);
    ck_assert_uint_eq(xf_metrics_dim_size(t.m, XF_DIM_STATUS),
                      XF_STATUS_MAX - 1);
    ck_assert(xf_metrics_mem_matches(t.m, t.mem));

    /* every family is named by the conventions */
    for (i = 0; i < XF_M_MAX; i++) {
        def = xf_metrics_def(i);
        ck_assert_ptr_nonnull(def);
        ck_assert(strncmp(def->name, "xflow_", 6) == 0);

        if (def->type == XF_METRIC_COUNTER) {
            ck_assert_msg(strstr(def->name, "_total") != NULL
                          && strcmp(def->name + strlen(def->name) - 6,
                                    "_total") == 0, "%s", def->name);
        }
    }

    ck_assert_ptr_null(xf_metrics_def(XF_M_MAX));

    reg_close(&t);
}
END_TEST


START_TEST(test_counter_sum)
{
    char        *s;
    test_reg_t   t;

    reg_open(&t, topics2, zones1, 3);

    xf_metrics_add(t.m, t.mem, 0, XF_M_HTTP_REQUESTS, XF_FMT_JSON,
                   xf_metrics_code_index(200), 1);
    xf_metrics_add(t.m, t.mem, 1, XF_M_HTTP_REQUESTS, XF_FMT_JSON,
                   xf_metrics_code_index(200), 2);
    xf_metrics_add(t.m, t.mem, 2, XF_M_HTTP_REQUESTS, XF_FMT_JSON,
                   xf_metrics_code_index(200), 3);
    xf_metrics_add(t.m, t.mem, 2, XF_M_HTTP_REQUESTS, XF_FMT_SENSORS,
                   xf_metrics_code_index(413), 7);
    xf_metrics_add(t.m, t.mem, 1, XF_M_KAFKA_MESSAGES, 1,
                   XF_METRICS_KAFKA_FAILED, 4);
    xf_metrics_add(t.m, t.mem, 2, XF_M_KAFKA_MESSAGES, 0,
                   XF_METRICS_KAFKA_SPOOLED, 3);
    xf_metrics_add(t.m, t.mem, 0, XF_M_RECEIVED_BYTES, 0, 0, 1000);
    xf_metrics_add(t.m, t.mem, 2, XF_M_RECEIVED_BYTES, 0, 0, 24);
    xf_metrics_add(t.m, t.mem, 1, XF_M_EVENTS_REJECTED,
                   xf_metrics_status_index(XF_ERR_NOT_OBJECT), 0, 5);
    xf_metrics_add(t.m, t.mem, 0, XF_M_RATELIMIT_DECISIONS, 0,
                   XF_METRICS_LIMIT_REJECTED_DRY, 9);

    /* counters count in every slot, current workers or not */
    s = render(&t, 1);

    ck_assert_sample(s,
        "xflow_http_requests_total{format=\"json\",code=\"200\"}", "6");
    ck_assert_sample(s,
        "xflow_http_requests_total{format=\"sensors\",code=\"413\"}", "7");
    /* a combination nothing counted yet is not shown */
    ck_assert_ptr_null(sample(s,
        "xflow_http_requests_total{format=\"unknown\",code=\"200\"}"));
    ck_assert_ptr_null(strstr(s, "xflow_events_total{"));
    ck_assert_sample(s,
        "xflow_kafka_messages_total{topic=\"dead\",result=\"failed\"}", "4");
    ck_assert_sample(s,
        "xflow_kafka_messages_total{topic=\"events\",result=\"delivered\"}",
        "0");
    ck_assert_sample(s,
        "xflow_kafka_messages_total{topic=\"events\",result=\"spooled\"}",
        "3");
    ck_assert_sample(s, "xflow_received_bytes_total", "1024");
    ck_assert_sample(s,
        "xflow_events_rejected_total{reason=\"not_object\"}", "5");
    ck_assert_sample(s, "xflow_ratelimit_decisions_total{zone=\"per_ip\","
                        "result=\"rejected_dry_run\"}", "9");

    ck_assert_ptr_nonnull(strstr(s,
        "# HELP xflow_http_requests_total "));
    ck_assert_ptr_nonnull(strstr(s,
        "# TYPE xflow_http_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(s, "# TYPE xflow_spool_bytes gauge\n"));
    ck_assert_ptr_nonnull(strstr(s,
        "# TYPE xflow_request_duration_seconds histogram\n"));

    /* XF_OK is not a reason */
    ck_assert_ptr_null(strstr(s, "reason=\"ok\""));

    free(s);
    reg_close(&t);
}
END_TEST


START_TEST(test_gauges)
{
    char        *s;
    test_reg_t   t;

    reg_open(&t, NULL, NULL, 4);

    xf_metrics_set(t.m, t.mem, 0, XF_M_SPOOL_BYTES, 0, 0, 10);
    xf_metrics_set(t.m, t.mem, 1, XF_M_SPOOL_BYTES, 0, 0, 5);
    xf_metrics_set(t.m, t.mem, 3, XF_M_SPOOL_BYTES, 0, 0, 100);
    xf_metrics_set(t.m, t.mem, 1, XF_M_SPOOL_BYTES, 0, 0, 6);

    xf_metrics_set(t.m, t.mem, 0, XF_M_WORKER_RSS, 0, 0, 1 << 20);
    xf_metrics_set(t.m, t.mem, 1, XF_M_WORKER_RSS, 0, 0, 3 << 20);
    xf_metrics_set(t.m, t.mem, 3, XF_M_WORKER_RSS, 0, 0, 9 << 20);

    /* two current workers: slot 3 is a worker that is gone */
    s = render(&t, 2);

    ck_assert_sample(s, "xflow_spool_bytes", "16");
    ck_assert_sample(s, "xflow_worker_rss_bytes{worker=\"0\"}", "1048576");
    ck_assert_sample(s, "xflow_worker_rss_bytes{worker=\"1\"}", "3145728");
    ck_assert_ptr_null(sample(s, "xflow_worker_rss_bytes{worker=\"3\"}"));
    free(s);

    /* 0 (unknown) and too many mean every slot */
    s = render(&t, 0);
    ck_assert_sample(s, "xflow_spool_bytes", "116");
    ck_assert_sample(s, "xflow_worker_rss_bytes{worker=\"3\"}", "9437184");
    free(s);

    s = render(&t, 99);
    ck_assert_sample(s, "xflow_spool_bytes", "116");
    free(s);

    reg_close(&t);
}
END_TEST


START_TEST(test_histogram)
{
    char        *s;
    test_reg_t   t;

    reg_open(&t, NULL, NULL, 2);

    /* microseconds: on a bound is in that bucket */
    xf_metrics_observe(t.m, t.mem, 0, XF_M_REQUEST_DURATION, 0);
    xf_metrics_observe(t.m, t.mem, 1, XF_M_REQUEST_DURATION, 500);
    xf_metrics_observe(t.m, t.mem, 1, XF_M_REQUEST_DURATION, 501);
    xf_metrics_observe(t.m, t.mem, 0, XF_M_REQUEST_DURATION, 1000000);
    xf_metrics_observe(t.m, t.mem, 0, XF_M_REQUEST_DURATION, 10000000);

    xf_metrics_observe(t.m, t.mem, 1, XF_M_BATCH_EVENTS, 1);
    xf_metrics_observe(t.m, t.mem, 0, XF_M_BATCH_EVENTS, 50);
    xf_metrics_observe(t.m, t.mem, 1, XF_M_BATCH_EVENTS, 5000);

    s = render(&t, 2);

    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"0.0005\"}", "2");
    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"0.001\"}", "3");
    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"0.5\"}", "3");
    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"1\"}", "4");
    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"5\"}", "4");
    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"+Inf\"}", "5");
    ck_assert_sample(s, "xflow_request_duration_seconds_sum", "11.001001");
    ck_assert_sample(s, "xflow_request_duration_seconds_count", "5");

    ck_assert_sample(s, "xflow_batch_events_bucket{le=\"1\"}", "1");
    ck_assert_sample(s, "xflow_batch_events_bucket{le=\"20\"}", "1");
    ck_assert_sample(s, "xflow_batch_events_bucket{le=\"50\"}", "2");
    ck_assert_sample(s, "xflow_batch_events_bucket{le=\"1000\"}", "2");
    ck_assert_sample(s, "xflow_batch_events_bucket{le=\"+Inf\"}", "3");
    ck_assert_sample(s, "xflow_batch_events_sum", "5051");
    ck_assert_sample(s, "xflow_batch_events_count", "3");

    free(s);
    reg_close(&t);
}
END_TEST


START_TEST(test_escaping)
{
    char                *s;
    test_reg_t           t;
    static const char   *topics[] = { "a\"b\\c\nd", "plain", NULL };

    reg_open(&t, topics, NULL, 1);

    xf_metrics_add(t.m, t.mem, 0, XF_M_KAFKA_MESSAGES, 0,
                   XF_METRICS_KAFKA_DELIVERED, 3);

    s = render(&t, 1);
    ck_assert_sample(s, "xflow_kafka_messages_total{topic=\"a\\\"b\\\\c\\nd\","
                        "result=\"delivered\"}", "3");
    free(s);

    reg_close(&t);
}
END_TEST


START_TEST(test_code_index)
{
    size_t              i;
    char               *s, series[128];
    test_reg_t          t;
    static const struct { unsigned status; const char *code; }  cases[] = {
        { 200, "200" }, { 204, "204" }, { 201, "201" }, { 302, "302" },
        { 400, "400" }, { 404, "404" }, { 429, "429" }, { 499, "499" },
        { 502, "502" }, { 503, "503" }, { 599, "599" }, { 0, "000" },
        { 100, "100" }, { 600, "000" }
    };

    reg_open(&t, NULL, NULL, 1);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        xf_metrics_add(t.m, t.mem, 0, XF_M_HTTP_REQUESTS, XF_FMT_POSTHOG,
                       xf_metrics_code_index(cases[i].status), 1);
    }

    s = render(&t, 1);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(series, sizeof(series),
                 "xflow_http_requests_total{format=\"posthog\",code=\"%s\"}",
                 cases[i].code);
        ck_assert_msg(sample(s, series) != NULL
                      && atoi(sample(s, series)) >= 1, "%u -> %s",
                      cases[i].status, cases[i].code);
    }

    /* exact codes only: never a class */
    ck_assert_ptr_null(strstr(s, "xx\""));
    ck_assert_sample(s,
        "xflow_http_requests_total{format=\"posthog\",code=\"000\"}", "2");

    free(s);
    reg_close(&t);
}
END_TEST


START_TEST(test_ignored)
{
    char        *s1, *s2;
    test_reg_t   t;

    reg_open(&t, topics2, NULL, 2);

    s1 = render(&t, 2);

    /* out of range labels and slots, the wrong family type */
    xf_metrics_add(t.m, t.mem, 0, XF_M_KAFKA_MESSAGES, 2, 0, 1);
    xf_metrics_add(t.m, t.mem, 0, XF_M_KAFKA_MESSAGES, 0, 3, 1);
    xf_metrics_add(t.m, t.mem, 2, XF_M_RECEIVED_BYTES, 0, 0, 1);
    xf_metrics_add(t.m, t.mem, 0, XF_M_RECEIVED_BYTES, 1, 0, 1);
    xf_metrics_add(t.m, t.mem, 0, XF_M_SPOOL_BYTES, 0, 0, 1);
    xf_metrics_add(t.m, t.mem, 0, XF_M_MAX, 0, 0, 1);
    xf_metrics_add(t.m, t.mem, 0, XF_M_EVENTS_REJECTED,
                   xf_metrics_status_index(XF_OK), 0, 1);
    xf_metrics_add(t.m, t.mem, 0, XF_M_RATELIMIT_DECISIONS, 0, 0, 1);
    xf_metrics_set(t.m, t.mem, 0, XF_M_RECEIVED_BYTES, 0, 0, 1);
    xf_metrics_set(t.m, t.mem, 0, XF_M_WORKER_RSS, 1, 0, 1);
    xf_metrics_observe(t.m, t.mem, 0, XF_M_RECEIVED_BYTES, 1);
    xf_metrics_observe(t.m, t.mem, 5, XF_M_BATCH_EVENTS, 1);

    s2 = render(&t, 2);
    ck_assert_str_eq(s1, s2);

    free(s1);
    free(s2);
    reg_close(&t);
}
END_TEST


START_TEST(test_dynamic_labels)
{
    size_t         idx;
    u_char         big[XF_METRICS_VALUE_MAX + 1];
    char           name[16];
    xf_metrics_t  *m;
    int            i;

    ck_assert_int_eq(xf_metrics_create(&m, &xf_alloc_libc), XF_OK);

    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_TOPIC,
                         (const u_char *) "a", 1, &idx), XF_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_TOPIC,
                         (const u_char *) "b", 1, &idx), XF_OK);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_TOPIC,
                         (const u_char *) "a", 1, &idx), XF_OK);
    ck_assert_uint_eq(idx, 0);

    /* the same name in another set is another value */
    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_ZONE,
                         (const u_char *) "b", 1, &idx), XF_OK);
    ck_assert_uint_eq(idx, 0);

    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_FORMAT,
                         (const u_char *) "x", 1, &idx), XF_ERR_BUFFER);

    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_ZONE, big, sizeof(big),
                                          &idx), XF_ERR_TOO_LARGE);
    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_ZONE, big,
                                          sizeof(big) - 1, &idx), XF_OK);

    /* growth past the first allocation, up to the limit */
    for (i = 2; i < XF_METRICS_DYN_MAX; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_TOPIC,
                             (const u_char *) name, strlen(name), &idx),
                         XF_OK);
        ck_assert_uint_eq(idx, (size_t) i);
    }

    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_TOPIC,
                         (const u_char *) "one-more", 8, &idx),
                     XF_ERR_TOO_LARGE);

    ck_assert_int_eq(xf_metrics_layout(m, 0), XF_ERR_TOO_LARGE);
    ck_assert_int_eq(xf_metrics_layout(m, 2), XF_OK);
    ck_assert_int_eq(xf_metrics_layout(m, 2), XF_ERR_BUFFER);
    ck_assert_int_eq(xf_metrics_add_label(m, XF_DIM_TOPIC,
                         (const u_char *) "late", 4, &idx), XF_ERR_BUFFER);

    xf_metrics_destroy(m);
}
END_TEST


/* ------------------------------------------------------------ brokers */

START_TEST(test_brokers)
{
    char        *s, name[32];
    size_t       i, a, b;
    test_reg_t   t;

    reg_open(&t, NULL, NULL, 3);

    a = xf_metrics_broker_index(t.m, t.mem, (const u_char *) "k1:9092/1", 9);
    b = xf_metrics_broker_index(t.m, t.mem, (const u_char *) "k2:9092/2", 9);
    ck_assert_uint_eq(a, 0);
    ck_assert_uint_eq(b, 1);
    ck_assert_uint_eq(xf_metrics_broker_index(t.m, t.mem,
                          (const u_char *) "k1:9092/1", 9), a);

    /*
     * up if some worker has it up; rtt: the worst worker's.  The up
     * cell: 0 not listed, 1 listed and down, 2 listed and up.
     */
    xf_metrics_set(t.m, t.mem, 0, XF_M_KAFKA_BROKER_UP, a, 0, 1);
    xf_metrics_set(t.m, t.mem, 1, XF_M_KAFKA_BROKER_UP, a, 0, 2);
    xf_metrics_set(t.m, t.mem, 0, XF_M_KAFKA_BROKER_RTT, a, 0, 1500);
    xf_metrics_set(t.m, t.mem, 1, XF_M_KAFKA_BROKER_RTT, a, 0, 2500);
    /* slot 2 is not a current worker */
    xf_metrics_set(t.m, t.mem, 2, XF_M_KAFKA_BROKER_UP, b, 0, 2);
    xf_metrics_set(t.m, t.mem, 2, XF_M_KAFKA_BROKER_RTT, a, 0, 9000000);

    s = render(&t, 2);
    ck_assert_sample(s, "xflow_kafka_broker_up{broker=\"k1:9092/1\"}", "1");
    /* listed by no current worker: no series */
    ck_assert_ptr_null(strstr(s, "k2:9092/2"));
    free(s);

    xf_metrics_set(t.m, t.mem, 0, XF_M_KAFKA_BROKER_UP, b, 0, 1);
    s = render(&t, 2);
    ck_assert_sample(s, "xflow_kafka_broker_up{broker=\"k2:9092/2\"}", "0");
    ck_assert_sample(s,
        "xflow_kafka_broker_rtt_seconds{broker=\"k1:9092/1\"}", "0.002500");
    free(s);

    /* the table fills up; a name too long is cut */
    for (i = 2; i < XF_METRICS_BROKERS_MAX; i++) {
        snprintf(name, sizeof(name), "b%zu", i);
        ck_assert_uint_eq(xf_metrics_broker_index(t.m, t.mem,
                              (const u_char *) name, strlen(name)), i);
    }

    /* full: a broker nobody lists (b2...) gives its slot to a new one */
    ck_assert_uint_eq(xf_metrics_broker_index(t.m, t.mem,
                          (const u_char *) "moved", 5), 2);
    ck_assert_uint_eq(xf_metrics_broker_index(t.m, t.mem,
                          (const u_char *) "b5", 2), 5);

    /* every broker listed by some worker: no room */
    for (i = 0; i < XF_METRICS_BROKERS_MAX; i++) {
        xf_metrics_set(t.m, t.mem, 2, XF_M_KAFKA_BROKER_UP, i, 0, 1);
    }

    ck_assert_uint_eq(xf_metrics_broker_index(t.m, t.mem,
                          (const u_char *) "full", 4),
                      XF_METRICS_BROKERS_MAX);

    reg_close(&t);
}
END_TEST


/* A producer's statistics, as librdkafka 2.0 writes them (trimmed). */
static const char  stats_json[] =
"{\n"
"  \"name\": \"rdkafka#producer-1\", \"client_id\": \"xflow\",\n"
"  \"type\": \"producer\", \"ts\": 5016483227792, \"time\": 1717000000,\n"
"  \"age\": 5016483, \"replyq\": 0, \"msg_cnt\": 22710,\n"
"  \"msg_size\": 704010, \"msg_max\": 100000,\n"
"  \"msg_size_max\": 1073741824, \"simple_cnt\": 0,\n"
"  \"metadata_cache_cnt\": 1,\n"
"  \"brokers\": {\n"
"    \"kafka-1:9092/1\": {\n"
"      \"name\": \"kafka-1:9092/1\", \"nodeid\": 1,\n"
"      \"nodename\": \"kafka-1:9092\", \"source\": \"learned\",\n"
"      \"state\": \"UP\", \"stateage\": 9057234,\n"
"      \"outbuf_cnt\": 0, \"outbuf_msg_cnt\": 0, \"waitresp_cnt\": 1,\n"
"      \"waitresp_msg_cnt\": 120, \"tx\": 320, \"txbytes\": 84283332,\n"
"      \"txerrs\": 0, \"txretries\": 3, \"txidle\": 1134,\n"
"      \"req_timeouts\": 0, \"rx\": 320, \"rxbytes\": 15708,\n"
"      \"rxerrs\": 0, \"rxcorriderrs\": 0, \"rxpartial\": 0,\n"
"      \"rxidle\": 1108, \"zbuf_grow\": 0, \"buf_grow\": 0,\n"
"      \"wakeups\": 591067, \"connects\": 1, \"disconnects\": 0,\n"
"      \"int_latency\": { \"min\": 86, \"max\": 59375, \"avg\": 23726,\n"
"        \"sum\": 5354464, \"stddev\": 6666, \"p50\": 28031,\n"
"        \"p75\": 28031, \"p90\": 28031, \"p95\": 28031, \"p99\": 28031,\n"
"        \"p99_99\": 28031, \"outofrange\": 0, \"hdrsize\": 11376,\n"
"        \"cnt\": 1086 },\n"
"      \"outbuf_latency\": { \"min\": 2, \"max\": 13, \"avg\": 6,\n"
"        \"sum\": 1989, \"stddev\": 2, \"p50\": 6, \"p75\": 8,\n"
"        \"p90\": 10, \"p95\": 11, \"p99\": 13, \"p99_99\": 13,\n"
"        \"outofrange\": 0, \"hdrsize\": 11376, \"cnt\": 320 },\n"
"      \"rtt\": { \"min\": 1580, \"max\": 3389, \"avg\": 2349,\n"
"        \"sum\": 751680, \"stddev\": 470, \"p50\": 2431, \"p75\": 2559,\n"
"        \"p90\": 2815, \"p95\": 2943, \"p99\": 3327, \"p99_99\": 3391,\n"
"        \"outofrange\": 0, \"hdrsize\": 13424, \"cnt\": 320 },\n"
"      \"throttle\": { \"min\": 0, \"max\": 0, \"avg\": 0, \"sum\": 0,\n"
"        \"stddev\": 0, \"p50\": 0, \"p75\": 0, \"p90\": 0, \"p95\": 0,\n"
"        \"p99\": 0, \"p99_99\": 0, \"outofrange\": 0, \"hdrsize\": 17520,\n"
"        \"cnt\": 0 },\n"
"      \"req\": { \"Produce\": 320, \"Metadata\": 9, \"ApiVersion\": 1 },\n"
"      \"toppars\": {\n"
"        \"events-0\": { \"topic\": \"events\", \"partition\": 0 },\n"
"        \"events-2\": { \"topic\": \"events\", \"partition\": 2 } }\n"
"    },\n"
"    \"kafka-2:9092/2\": {\n"
"      \"name\": \"kafka-2:9092/2\", \"nodeid\": 2,\n"
"      \"nodename\": \"kafka-2:9092\", \"source\": \"learned\",\n"
"      \"state\": \"TRY_CONNECT\", \"stateage\": 120044,\n"
"      \"outbuf_cnt\": 4, \"outbuf_msg_cnt\": 400, \"txretries\": 12,\n"
"      \"rtt\": { \"min\": 0, \"max\": 0, \"avg\": 0, \"cnt\": 0 },\n"
"      \"toppars\": {\n"
"        \"events-1\": { \"topic\": \"events\", \"partition\": 1 } }\n"
"    },\n"
"    \"kafka-1:9092/bootstrap\": {\n"
"      \"name\": \"kafka-1:9092/bootstrap\", \"nodeid\": -1,\n"
"      \"nodename\": \"kafka-1:9092\", \"source\": \"configured\",\n"
"      \"state\": \"UP\", \"txretries\": 1,\n"
"      \"rtt\": { \"min\": 900, \"max\": 1500, \"avg\": 1250.5,\n"
"        \"cnt\": 2 }, \"toppars\": {}\n"
"    },\n"
"    \":0/internal\": {\n"
"      \"name\": \":0/internal\", \"nodeid\": -1, \"nodename\": \"\",\n"
"      \"source\": \"internal\", \"state\": \"UP\", \"txretries\": 100,\n"
"      \"rtt\": { \"avg\": 0 }, \"toppars\": {}\n"
"    }\n"
"  },\n"
"  \"topics\": {\n"
"    \"events\": { \"topic\": \"events\", \"age\": 9060,\n"
"      \"metadata_age\": 9060,\n"
"      \"batchsize\": { \"min\": 99, \"max\": 391805, \"avg\": 272593 },\n"
"      \"batchcnt\": { \"min\": 1, \"max\": 10000, \"avg\": 6965 },\n"
"      \"partitions\": {\n"
"        \"0\": { \"partition\": 0, \"broker\": 1, \"leader\": 1,\n"
"          \"msgq_cnt\": 1, \"msgq_bytes\": 31, \"txmsgs\": 183150 },\n"
"        \"-1\": { \"partition\": -1, \"broker\": -1, \"leader\": -1,\n"
"          \"msgq_cnt\": 0, \"txmsgs\": 0 } } } },\n"
"  \"tx\": 320, \"tx_bytes\": 84283332, \"rx\": 320,\n"
"  \"rx_bytes\": 15708, \"txmsgs\": 183150, \"txmsg_bytes\": 84147964,\n"
"  \"rxmsgs\": 0, \"rxmsg_bytes\": 0\n"
"}\n";


START_TEST(test_stats_parse)
{
    xf_kafka_stats_t  st;

    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) stats_json,
                         sizeof(stats_json) - 1, &st), XF_OK);

    ck_assert_uint_eq(st.msg_cnt, 22710);
    ck_assert_uint_eq(st.msg_size, 704010);

    /* the internal pseudo-broker is not one */
    ck_assert_uint_eq(st.nbrokers, 3);
    ck_assert_uint_eq(st.txretries, 3 + 12 + 1);

    ck_assert_uint_eq(st.brokers[0].name_len, 14);
    ck_assert(memcmp(st.brokers[0].name, "kafka-1:9092/1", 14) == 0);
    ck_assert_uint_eq(st.brokers[0].up, 1);
    ck_assert_uint_eq(st.brokers[0].rtt_us, 2349);
    ck_assert_uint_eq(st.brokers[0].txretries, 3);

    ck_assert(memcmp(st.brokers[1].name, "kafka-2:9092/2", 14) == 0);
    ck_assert_uint_eq(st.brokers[1].up, 0);
    ck_assert_uint_eq(st.brokers[1].rtt_us, 0);

    ck_assert(memcmp(st.brokers[2].name, "kafka-1:9092/bootstrap", 22) == 0);
    ck_assert_uint_eq(st.brokers[2].up, 1);
    /* a fraction is cut */
    ck_assert_uint_eq(st.brokers[2].rtt_us, 1250);
}
END_TEST


static xf_status_t
stats_parse(const char *doc, xf_kafka_stats_t *st)
{
    return xf_metrics_kafka_stats_parse((const u_char *) doc, strlen(doc),
                                        st);
}


START_TEST(test_stats_parse_edges)
{
    size_t            i, o;
    char              doc[8192];
    xf_kafka_stats_t  st;

    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) "{", 1,
                                                  &st), XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) "[]", 2,
                                                  &st), XF_ERR_NOT_OBJECT);
    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) "", 0,
                                                  &st), XF_ERR_EMPTY);

    /* no brokers yet, odd values read as 0 */
    ck_assert_int_eq(stats_parse("{\"msg_cnt\":-5,\"msg_size\":\"7\","
                                 "\"brokers\":[]}", &st), XF_OK);
    ck_assert_uint_eq(st.msg_cnt, 0);
    ck_assert_uint_eq(st.msg_size, 0);
    ck_assert_uint_eq(st.nbrokers, 0);

    /* escaped member names; a broker that is not an object */
    ck_assert_int_eq(stats_parse("{\"brokers\":{\"x\":1,\"h\\u00e9:1/3\":"
                                 "{\"state\":\"UP\",\"rtt\":{\"avg\":9}}}}",
                                 &st), XF_OK);
    ck_assert_uint_eq(st.nbrokers, 1);
    ck_assert_uint_eq(st.brokers[0].name_len, 7);
    ck_assert(memcmp(st.brokers[0].name, "h\xc3\xa9:1/3", 7) == 0);
    ck_assert_uint_eq(st.brokers[0].rtt_us, 9);

    /* more brokers than slots: the rest count in txretries only */
    o = snprintf(doc, sizeof(doc), "{\"brokers\":{");
    for (i = 0; i < XF_METRICS_BROKERS_MAX + 4; i++) {
        o += snprintf(doc + o, sizeof(doc) - o,
                      "%s\"b%zu\":{\"state\":\"UP\",\"txretries\":1}",
                      i ? "," : "", i);
    }
    o += snprintf(doc + o, sizeof(doc) - o, "}}");

    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) doc, o,
                                                  &st), XF_OK);
    ck_assert_uint_eq(st.nbrokers, XF_METRICS_BROKERS_MAX);
    ck_assert_uint_eq(st.txretries, XF_METRICS_BROKERS_MAX + 4);
}
END_TEST


START_TEST(test_stats_apply)
{
    char                   *s;
    test_reg_t              t;
    xf_kafka_stats_t        st;
    xf_kafka_stats_last_t   last0, last1;

    reg_open(&t, NULL, NULL, 2);

    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) stats_json,
                         sizeof(stats_json) - 1, &st), XF_OK);

    memset(&last0, 0, sizeof(last0));
    memset(&last1, 0, sizeof(last1));

    xf_metrics_kafka_stats_apply(t.m, t.mem, 0, &st, &last0);
    xf_metrics_kafka_stats_apply(t.m, t.mem, 1, &st, &last1);

    s = render(&t, 2);
    ck_assert_sample(s, "xflow_kafka_inflight_messages", "45420");
    ck_assert_sample(s, "xflow_kafka_queue_bytes", "1408020");
    ck_assert_sample(s, "xflow_kafka_retries_total", "32");
    /* bytes on the wire: txbytes of every broker, from both workers */
    ck_assert_uint_eq(st.txbytes, 84283332);
    ck_assert_uint_eq(last0.txbytes, 84283332);
    ck_assert_sample(s, "xflow_kafka_tx_bytes_total", "168566664");
    ck_assert_sample(s, "xflow_kafka_broker_up{broker=\"kafka-1:9092/1\"}",
                     "1");
    ck_assert_sample(s, "xflow_kafka_broker_up{broker=\"kafka-2:9092/2\"}",
                     "0");
    ck_assert_sample(s,
        "xflow_kafka_broker_up{broker=\"kafka-1:9092/bootstrap\"}", "1");
    ck_assert_sample(s,
        "xflow_kafka_broker_rtt_seconds{broker=\"kafka-1:9092/1\"}",
        "0.002349");
    ck_assert_ptr_null(strstr(s, "internal"));
    free(s);

    /* the same producer later: only the growth counts */
    st.txretries += 4;
    xf_metrics_kafka_stats_apply(t.m, t.mem, 0, &st, &last0);
    ck_assert_uint_eq(last0.txretries, 20);

    /* a new producer in worker 1 (it restarted): counts from 0 again */
    st.txretries = 2;
    st.nbrokers = 1;                /* it knows only kafka-1 so far */
    st.brokers[0].up = 0;
    xf_metrics_kafka_stats_apply(t.m, t.mem, 1, &st, &last1);

    s = render(&t, 2);
    ck_assert_sample(s, "xflow_kafka_retries_total", "38");
    /* worker 0 still has kafka-1 up; bootstrap is up for worker 0 only */
    ck_assert_sample(s, "xflow_kafka_broker_up{broker=\"kafka-1:9092/1\"}",
                     "1");
    ck_assert_sample(s,
        "xflow_kafka_broker_up{broker=\"kafka-1:9092/bootstrap\"}", "1");
    free(s);

    st.nbrokers = 0;
    xf_metrics_kafka_stats_apply(t.m, t.mem, 0, &st, &last0);

    s = render(&t, 2);
    /* no worker lists bootstrap now: its series went with it */
    ck_assert_ptr_null(strstr(s, "kafka-1:9092/bootstrap"));
    ck_assert_sample(s, "xflow_kafka_broker_up{broker=\"kafka-1:9092/1\"}",
                     "0");
    /* worker 1 still measures kafka-1 (while not up) */
    ck_assert_sample(s,
        "xflow_kafka_broker_rtt_seconds{broker=\"kafka-1:9092/1\"}",
        "0.002349");
    ck_assert_ptr_null(strstr(s, "kafka-2:9092/2"));
    free(s);

    reg_close(&t);
}
END_TEST


/* ------------------------------------------------------------- reload */

START_TEST(test_migrate)
{
    char                *s;
    test_reg_t           o, n;
    static const char   *otopics[] = { "a", "b", NULL };
    static const char   *ntopics[] = { "c", "b", "a", NULL };

    reg_open(&o, otopics, zones1, 4);

    xf_metrics_add(o.m, o.mem, 0, XF_M_KAFKA_MESSAGES, 0,
                   XF_METRICS_KAFKA_DELIVERED, 1);
    xf_metrics_add(o.m, o.mem, 3, XF_M_KAFKA_MESSAGES, 0,
                   XF_METRICS_KAFKA_DELIVERED, 10);
    xf_metrics_add(o.m, o.mem, 2, XF_M_KAFKA_MESSAGES, 1,
                   XF_METRICS_KAFKA_FAILED, 5);
    xf_metrics_add(o.m, o.mem, 1, XF_M_HTTP_REQUESTS, XF_FMT_SEGMENT,
                   xf_metrics_code_index(204), 8);
    xf_metrics_add(o.m, o.mem, 1, XF_M_RATELIMIT_DECISIONS, 0,
                   XF_METRICS_LIMIT_PASSED, 6);
    xf_metrics_observe(o.m, o.mem, 3, XF_M_REQUEST_DURATION, 2000);
    xf_metrics_set(o.m, o.mem, 0, XF_M_SPOOL_BYTES, 0, 0, 77);

    /* a topic more, a zone less, two workers fewer */
    reg_open(&n, ntopics, NULL, 2);
    ck_assert(xf_metrics_hash(n.m) != xf_metrics_hash(o.m));
    ck_assert(!xf_metrics_mem_matches(n.m, o.mem));

    xf_metrics_migrate(n.m, n.mem, o.m, o.mem);

    s = render(&n, 2);
    ck_assert_sample(s,
        "xflow_kafka_messages_total{topic=\"a\",result=\"delivered\"}", "11");
    ck_assert_sample(s,
        "xflow_kafka_messages_total{topic=\"b\",result=\"failed\"}", "5");
    ck_assert_sample(s,
        "xflow_kafka_messages_total{topic=\"c\",result=\"delivered\"}", "0");
    ck_assert_sample(s,
        "xflow_http_requests_total{format=\"segment\",code=\"204\"}", "8");
    ck_assert_sample(s,
        "xflow_request_duration_seconds_bucket{le=\"0.0025\"}", "1");
    ck_assert_sample(s, "xflow_request_duration_seconds_count", "1");
    ck_assert_sample(s, "xflow_request_duration_seconds_sum", "0.002000");
    /* gauges are refreshed, not carried */
    ck_assert_sample(s, "xflow_spool_bytes", "0");
    ck_assert_ptr_null(strstr(s, "per_ip"));
    free(s);

    reg_close(&n);
    reg_close(&o);
}
END_TEST


START_TEST(test_same_layout)
{
    test_reg_t  a, b;

    reg_open(&a, topics2, zones1, 4);
    reg_open(&b, topics2, zones1, 4);

    /* a reload with the same configuration reuses the memory */
    ck_assert(xf_metrics_hash(a.m) == xf_metrics_hash(b.m));
    ck_assert(xf_metrics_mem_matches(b.m, a.mem));

    reg_close(&b);

    reg_open(&b, topics2, zones1, 5);
    ck_assert(!xf_metrics_mem_matches(b.m, a.mem));
    reg_close(&b);

    reg_close(&a);
}
END_TEST


/* -------------------------------------------------------------- memory */

START_TEST(test_nomem)
{
    size_t             i, idx;
    test_reg_t         t;
    xf_unit_mem_t      tm;
    xf_status_t        rc;
    xf_alloc_t         a = { xf_unit_mem_alloc, xf_unit_mem_free, &tm };
    xf_metrics_t      *m;
    xf_buf_t           out;

    /* registry: every allocation failure is reported, nothing leaks */
    for (i = 1; ; i++) {
        memset(&tm, 0, sizeof(tm));
        tm.fail_at = i;

        rc = xf_metrics_create(&m, &a);
        if (rc == XF_OK) {
            rc = xf_metrics_add_label(m, XF_DIM_TOPIC,
                                      (const u_char *) "t", 1, &idx);
            if (rc == XF_OK) {
                rc = xf_metrics_add_label(m, XF_DIM_ZONE,
                                          (const u_char *) "z", 1, &idx);
            }

            xf_metrics_destroy(m);
        }

        ck_assert_uint_eq(tm.live, 0);

        if (rc == XF_OK) {
            break;
        }

        ck_assert_int_eq(rc, XF_ERR_NOMEM);
    }

    ck_assert_uint_ge(i, 4);

    /* renderer: growth fails at each step */
    reg_open(&t, topics2, zones1, 2);

    for (i = 1; ; i++) {
        memset(&tm, 0, sizeof(tm));
        memset(&out, 0, sizeof(out));
        tm.fail_at = i;

        rc = xf_metrics_render(t.m, t.mem, 2, &out, &a);

        if (out.p) {
            xf_unit_mem_free(&tm, out.p);
        }

        ck_assert_uint_eq(tm.live, 0);

        if (rc == XF_OK) {
            break;
        }

        ck_assert_int_eq(rc, XF_ERR_NOMEM);
    }

    /* the output outgrew its first 4 KiB */
    ck_assert_uint_ge(i, 3);

    reg_close(&t);
}
END_TEST


/* ------------------------------------------------------------ promtool */

/* Every family with something in it, odd label values included. */
static void
fill(test_reg_t *t)
{
    size_t                  f, k;
    xf_kafka_stats_t        st;
    xf_kafka_stats_last_t   last;

    for (f = 0; f < XF_FMT_MAX; f++) {
        xf_metrics_add(t->m, t->mem, f % 2, XF_M_HTTP_REQUESTS, f,
                       xf_metrics_code_index(200 + f), f + 1);
        xf_metrics_add(t->m, t->mem, 0, XF_M_EVENTS, f, f % 5, 3);
    }

    for (k = 1; k < XF_STATUS_MAX; k++) {
        xf_metrics_add(t->m, t->mem, 1, XF_M_EVENTS_REJECTED,
                       xf_metrics_status_index(k), 0, k);
        xf_metrics_add(t->m, t->mem, 0, XF_M_DECODE_ERRORS,
                       xf_metrics_status_index(k), 0, 1);
    }

    xf_metrics_add(t->m, t->mem, 0, XF_M_RECEIVED_BYTES, 0, 0, 123);
    xf_metrics_add(t->m, t->mem, 0, XF_M_DECODED_BYTES, 0, 0, 456);
    xf_metrics_add(t->m, t->mem, 1, XF_M_KAFKA_PRODUCED_BYTES, 0, 0, 789);
    xf_metrics_add(t->m, t->mem, 1, XF_M_KAFKA_MESSAGES, 1,
                   XF_METRICS_KAFKA_FAILED, 2);
    xf_metrics_set(t->m, t->mem, 0, XF_M_SPOOL_BYTES, 0, 0, 4096);
    xf_metrics_set(t->m, t->mem, 0, XF_M_SPOOL_RECORDS, 0, 0, 12);
    xf_metrics_add(t->m, t->mem, 0, XF_M_SPOOL_REPLAYED, 0, 0, 5);
    xf_metrics_add(t->m, t->mem, 0, XF_M_SPOOL_ADOPTED, 0, 0, 1);
    xf_metrics_add(t->m, t->mem, 0, XF_M_SPOOL_CORRUPT, 0, 0, 1);
    xf_metrics_add(t->m, t->mem, 1, XF_M_RATELIMIT_DECISIONS, 0,
                   XF_METRICS_LIMIT_OVERFLOW, 1);
    xf_metrics_observe(t->m, t->mem, 0, XF_M_REQUEST_DURATION, 1234);
    xf_metrics_observe(t->m, t->mem, 1, XF_M_REQUEST_DURATION, 99000000);
    xf_metrics_observe(t->m, t->mem, 1, XF_M_BATCH_EVENTS, 30);
    xf_metrics_set(t->m, t->mem, 0, XF_M_WORKER_RSS, 0, 0, 50 << 20);
    xf_metrics_set(t->m, t->mem, 1, XF_M_WORKER_RSS, 0, 0, 60 << 20);

    ck_assert_int_eq(xf_metrics_kafka_stats_parse((const u_char *) stats_json,
                         sizeof(stats_json) - 1, &st), XF_OK);
    memset(&last, 0, sizeof(last));
    xf_metrics_kafka_stats_apply(t->m, t->mem, 0, &st, &last);

    /* a broker name that needs escaping */
    k = xf_metrics_broker_index(t->m, t->mem, (const u_char *) "we\"ird\\", 7);
    xf_metrics_set(t->m, t->mem, 1, XF_M_KAFKA_BROKER_UP, k, 0, 1);
}


static void
promtool_check(const char *text)
{
    int     rc;
    char    path[] = "/tmp/xflow-metrics-XXXXXX";
    char    cmd[256], out[4096];
    size_t  n;
    FILE   *f;

    /* a check that cannot run is a failure, never a pass */
    ck_assert_msg(access(PROMTOOL, X_OK) == 0,
                  "%s not found: make deps installs prometheus", PROMTOOL);

    rc = mkstemp(path);
    ck_assert_int_ge(rc, 0);
    ck_assert_int_eq(write(rc, text, strlen(text)), (ssize_t) strlen(text));
    close(rc);

    snprintf(cmd, sizeof(cmd), "%s check metrics < %s 2>&1", PROMTOOL, path);

    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);

    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    rc = pclose(f);

    unlink(path);

    /* promtool prints nothing for a clean exposition */
    ck_assert_msg(rc == 0 && n == 0, "promtool check metrics (%d): %s",
                  rc, out);
}


START_TEST(test_promtool)
{
    char        *s;
    test_reg_t   t;
    static const char  *topics[] = { "events", "dead \"letters\"\n",
                                     "dict\\ua", NULL };
    static const char  *zones[] = { "per_ip", "per_app", NULL };

    reg_open(&t, topics, zones, 2);
    fill(&t);

    s = render(&t, 2);
    promtool_check(s);
    free(s);

    reg_close(&t);

    /* no dynamic labels at all: families without a sample */
    reg_open(&t, NULL, NULL, 1);
    s = render(&t, 1);
    ck_assert_ptr_nonnull(strstr(s, "# TYPE xflow_kafka_messages_total "
                                    "counter\n# HELP"));
    promtool_check(s);
    free(s);
    reg_close(&t);
}
END_TEST


Suite *
make_metrics_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("metrics");

    tc = tcase_create("core");
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_counter_sum);
    tcase_add_test(tc, test_gauges);
    tcase_add_test(tc, test_histogram);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_code_index);
    tcase_add_test(tc, test_ignored);
    tcase_add_test(tc, test_dynamic_labels);
    tcase_add_test(tc, test_brokers);
    suite_add_tcase(s, tc);

    tc = tcase_create("kafka_stats");
    tcase_add_test(tc, test_stats_parse);
    tcase_add_test(tc, test_stats_parse_edges);
    tcase_add_test(tc, test_stats_apply);
    suite_add_tcase(s, tc);

    tc = tcase_create("reload");
    tcase_add_test(tc, test_migrate);
    tcase_add_test(tc, test_same_layout);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_nomem);
    suite_add_tcase(s, tc);

    tc = tcase_create("exposition");
    tcase_add_test(tc, test_promtool);
    suite_add_tcase(s, tc);

    return s;
}
