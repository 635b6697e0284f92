/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-catalog.c - the event catalog end to end: what the recorded
 * uploads of the seven SDK families sent is listed per app, format and
 * event name, with counts and bytes equal to what reached Kafka; a
 * request refused with a retry status counts once, when it is taken;
 * invalid events by reason; property types; the page; the app filter;
 * /metrics; a reload keeps the table; the plan, kill switches, times,
 * placeholder ids and bots.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xf_test.h"
#include "xf_capture.h"


#define CAT_TOPIC  "events"
#define CAT_DL     "xflow_dead_letter"


static const xf_kafka_msg_t *plan_msg(const xf_kafka_msgs_t *m,
    const char *needle);


static void
cat_setup(void)
{
    xf_fixture_setup(1, 15000, CAT_TOPIC, 1, CAT_DL, 1, NULL);
}


static const char  cat_snippet[] =
    "    xflow_kafka_brokers @BROKERS@;\n"
    "    xflow_kafka_conf linger.ms 1;\n"
    "    xflow_topic " CAT_TOPIC ";\n"
    "    xflow_catalog_zone 1m;\n"
    "    server {\n"
    "        listen 127.0.0.1:@PORT@;\n"
    "        location / { xflow_collect auto; }\n"
    "        location /json { xflow_collect json; }\n"
    "        location /catalog { xflow_catalog; }\n"
    "        location /metrics { xflow_metrics; }\n"
    "    }\n";


/* GET path: the answer must be 200 and JSON. */
static json_t *
cat_get(const char *path)
{
    char            url[256];
    json_t         *j;
    json_error_t    err;
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s%s", nginx->url, path);
    xf_http_request("GET", url, NULL, NULL, 0, &resp);
    ck_assert_msg(resp.status == 200, "%s: %ld %s", path, resp.status,
                  resp.body);

    j = json_loads(resp.body, 0, &err);
    ck_assert_msg(j != NULL, "%s: %s: %s", path, err.text, resp.body);
    xf_http_resp_free(&resp);

    return j;
}


static uint64_t
cat_num(json_t *o, const char *name)
{
    json_t  *v;

    v = json_object_get(o, name);
    ck_assert_msg(json_is_integer(v), "no integer %s", name);

    return (uint64_t) json_integer_value(v);
}


static const char *
cat_str(json_t *o, const char *name)
{
    json_t  *v;

    v = json_object_get(o, name);

    return json_is_string(v) ? json_string_value(v) : "";
}


/*
 * The captures' configuration: `auto` for the families it recognises,
 * the format named where it cannot (Mixpanel's routes are PostHog's,
 * Amplitude's Batch API path is PostHog's /batch), as docs/deploy does.
 */
static const char  cap_snippet[] =
    "    xflow_kafka_brokers @BROKERS@;\n"
    "    xflow_kafka_conf linger.ms 1;\n"
    "    xflow_topic " CAT_TOPIC ";\n"
    "    xflow_catalog_zone 1m;\n"
    "    server {\n"
    "        listen 127.0.0.1:@PORT@;\n"
    "        location / { xflow_collect auto; }\n"
    "        location /track/ { xflow_collect mixpanel; }\n"
    "        location = /amplitude/batch { xflow_collect amplitude; }\n"
    "        location /catalog { xflow_catalog; }\n"
    "    }\n";


/* What reached Kafka or the catalog for one (app, format). */
typedef struct {
    char      app[128];
    char      src[16];
    uint64_t  events;
    uint64_t  bytes;
} cat_group_t;


static cat_group_t *
cat_group(cat_group_t *g, size_t *n, const char *app, const char *src)
{
    size_t  i;

    for (i = 0; i < *n; i++) {
        if (strcmp(g[i].app, app) == 0 && strcmp(g[i].src, src) == 0) {
            return &g[i];
        }
    }

    ck_assert_uint_lt(*n, 64);
    memset(&g[*n], 0, sizeof(cat_group_t));
    snprintf(g[*n].app, sizeof(g[*n].app), "%s", app);
    snprintf(g[*n].src, sizeof(g[*n].src), "%s", src);

    return &g[(*n)++];
}


/* An envelope's event bytes: after ,"event": to the closing brace. */
static const char *
cat_event(const xf_kafka_msg_t *m, size_t *len)
{
    const char  *p;

    p = xf_memstr(m->value, m->value_len, ",\"event\":");
    ck_assert_ptr_nonnull(p);
    p += sizeof(",\"event\":") - 1;
    *len = (size_t) (m->value + m->value_len - p) - 1;

    return p;
}


/* The catalog's events now. */
static uint64_t
cat_total(void)
{
    json_t    *cat;
    uint64_t   n;

    cat = cat_get("/catalog");
    n = cat_num(cat, "events");
    json_decref(cat);

    return n;
}


/*
 * Every capture of the seven SDK families replayed, each record as its
 * SDK sent it; after each file, the events the catalog counted are the
 * messages that reached Kafka, none invalid.  Then, per app and format,
 * the catalog's events and bytes are exactly the messages in Kafka and
 * the bytes of their events, in both directions, and each name it lists
 * is in that many of them.
 */
START_TEST(test_sdk_captures)
{
    char                 files[64][512], *url;
    size_t               nfiles, f, i, k, ngroups, ncat, elen, named;
    int64_t              inkafka;
    uint64_t             total, before, fam_events[XF_CAP_UNKNOWN];
    json_t              *root, *recs, *rec, *cat, *e;
    const char          *ev, *path;
    json_error_t         err;
    cat_group_t          groups[64], cgroups[64], *g, *c;
    xf_kafka_msgs_t      msgs;
    xf_http_resp_t       resp;
    xf_capture_req_t     r;
    xf_capture_family_t  fam;
    char                 needle[256];

    xf_fixture_nginx(cap_snippet, 2);

    nfiles = xf_test_captures(files, 64);
    ck_assert_uint_gt(nfiles, 10);

    memset(fam_events, 0, sizeof(fam_events));
    total = 0;

    for (f = 0; f < nfiles; f++) {
        fam = xf_capture_family(files[f]);
        ck_assert_msg(fam != XF_CAP_UNKNOWN, "%s: no family", files[f]);

        root = json_load_file(files[f], 0, &err);
        ck_assert_msg(root != NULL, "%s: %s", files[f], err.text);
        recs = json_object_get(root, "serverRecords");

        json_array_foreach(recs, i, rec) {
            path = cat_str(rec, "path");

            /* a beacon's query is its upload: the URL takes it whole */
            ck_assert_int_ge(asprintf(&url, "%s%s%s", nginx->url, path,
                                      cat_str(rec, "query")), 0);
            xf_capture_req(rec, &r);
            xf_capture_send(&r, url, &resp);
            xf_http_resp_free(&resp);
            xf_capture_req_free(&r);
            free(url);
        }

        json_decref(root);

        /* the file's events, counted once each, as Kafka holds them */
        before = total;
        total = cat_total();
        fam_events[fam] += total - before;

        for (k = 0; k < 100; k++) {
            inkafka = xf_kafka_count(kafka, CAT_TOPIC);

            if (inkafka >= (int64_t) total) {
                break;
            }

            xf_sleep_ms(100);
        }

        ck_assert_msg(inkafka == (int64_t) total, "%s: the catalog counts "
                      "%lu events, Kafka holds %ld", files[f],
                      (unsigned long) total, (long) inkafka);
    }

    /* every family is there */
    for (k = 0; k < XF_CAP_UNKNOWN; k++) {
        ck_assert_msg(fam_events[k] > 0, "no %s event in the catalog",
                      xf_capture_families[k]);
    }

    cat = cat_get("/catalog");
    ck_assert_uint_eq(cat_num(cat, "events"), total);
    ck_assert_uint_eq(cat_num(cat, "invalid"), 0);
    ck_assert_int_eq(xf_kafka_count(kafka, CAT_DL), 0);

    memset(&msgs, 0, sizeof(msgs));
    xf_kafka_consume(kafka, CAT_TOPIC, total, 20000, 1000, &msgs);

    ngroups = 0;

    for (k = 0; k < msgs.n; k++) {
        json_t  *env;

        env = json_loadb(msgs.msgs[k].value, msgs.msgs[k].value_len, 0,
                         &err);
        ck_assert_ptr_nonnull(env);
        g = cat_group(groups, &ngroups, cat_str(env, "app"),
                      cat_str(env, "src"));
        (void) cat_event(&msgs.msgs[k], &elen);
        g->events++;
        g->bytes += elen;
        json_decref(env);
    }

    ncat = 0;

    json_array_foreach(json_object_get(cat, "entries"), i, e) {
        c = cat_group(cgroups, &ncat, cat_str(e, "app"),
                      cat_str(e, "format"));
        c->events += cat_num(e, "events");
        c->bytes += cat_num(e, "bytes");
    }

    ck_assert_uint_eq(ncat, ngroups);

    for (k = 0; k < ngroups; k++) {
        c = cat_group(cgroups, &ncat, groups[k].app, groups[k].src);

        ck_assert_msg(c->events == groups[k].events
                      && c->bytes == groups[k].bytes,
                      "app %s, %s: catalog %lu events %lu bytes, Kafka "
                      "%lu events %lu bytes", groups[k].app, groups[k].src,
                      (unsigned long) c->events, (unsigned long) c->bytes,
                      (unsigned long) groups[k].events,
                      (unsigned long) groups[k].bytes);
    }

    /* and no group of Kafka's was missing from the catalog */
    ck_assert_uint_eq(ncat, ngroups);

    /* each name listed is what that many events carry */
    json_array_foreach(json_object_get(cat, "entries"), i, e) {
        snprintf(needle, sizeof(needle), "\"%s\"", cat_str(e, "event"));
        named = 0;

        for (k = 0; k < msgs.n; k++) {
            ev = cat_event(&msgs.msgs[k], &elen);

            if (xf_memstr(ev, elen, needle) != NULL
                && strstr(msgs.msgs[k].value, cat_str(e, "format")) != NULL)
            {
                named++;
            }
        }

        ck_assert_msg(named >= cat_num(e, "events"),
                      "%s %s: %lu events listed, %zu in Kafka",
                      cat_str(e, "format"), cat_str(e, "event"),
                      (unsigned long) cat_num(e, "events"), named);
        ck_assert_uint_ge(cat_num(e, "last_seen"), cat_num(e, "first_seen"));
    }

    json_decref(cat);
    xf_kafka_msgs_free(&msgs);
}
END_TEST


#define CAT_BATCH                                                           \
    "[{\"event\":\"buy\",\"app\":\"shop\",\"distinct_id\":\"u1\","          \
    "\"properties\":{\"price\":9.5,\"sku\":\"a\",\"gift\":true}},"          \
    "{\"event\":\"buy\",\"app\":\"shop\",\"distinct_id\":\"u2\","           \
    "\"properties\":{\"price\":\"10\",\"sku\":\"b\"}},"                     \
    "7,"                                                                    \
    "{\"event\":\"view\",\"app\":\"blog\",\"distinct_id\":\"u3\"}]"


static json_t *
cat_entry(json_t *cat, const char *app, const char *name)
{
    size_t   i;
    json_t  *e;

    json_array_foreach(json_object_get(cat, "entries"), i, e) {
        if (strcmp(cat_str(e, "app"), app) == 0
            && strcmp(cat_str(e, "event"), name) == 0)
        {
            return e;
        }
    }

    return NULL;
}


static json_t *
cat_prop(json_t *e, const char *name)
{
    size_t   i;
    json_t  *p;

    json_array_foreach(json_object_get(e, "properties"), i, p) {
        if (strcmp(cat_str(p, "name"), name) == 0) {
            return p;
        }
    }

    return NULL;
}


static void
cat_post(const char *body, const char *want)
{
    char            url[128];
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s/json", nginx->url);
    xf_http_request("POST", url, NULL, body, strlen(body), &resp);
    ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
    ck_assert_str_eq(resp.body, want);
    xf_http_resp_free(&resp);
}


/*
 * Properties and their types, invalid events by reason, the app filter,
 * the page for a browser, /metrics, and a reload that keeps it all.
 */
START_TEST(test_entries_page_reload)
{
    char               url[128];
    char              *text;
    json_t            *cat, *e, *p, *t;
    const char *const  html[] = { "Accept: text/html", NULL };
    xf_http_resp_t     resp;

    xf_fixture_nginx(cat_snippet, 2);

    cat_post(CAT_BATCH, "{\"accepted\":3,\"rejected\":1}");

    cat = cat_get("/catalog");
    ck_assert_uint_eq(cat_num(cat, "events"), 4);
    ck_assert_uint_eq(cat_num(cat, "invalid"), 1);

    e = cat_entry(cat, "shop", "buy");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(cat_str(e, "format"), "json");
    ck_assert_uint_eq(cat_num(e, "events"), 2);
    p = cat_prop(e, "price");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(cat_num(p, "count"), 2);
    t = json_object_get(p, "types");
    ck_assert_uint_eq(json_array_size(t), 2);
    ck_assert_uint_eq(cat_num(cat_prop(e, "gift"), "count"), 1);
    ck_assert_str_eq(json_string_value(json_array_get(
        json_object_get(cat_prop(e, "gift"), "types"), 0)), "boolean");

    /* the invalid one has no name nor app: its own entry, by reason */
    e = cat_entry(cat, "", "");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(cat_num(json_object_get(e, "reasons"), "not_object"),
                      1);
    json_decref(cat);

    cat = cat_get("/catalog?app=blog");
    ck_assert_uint_eq(json_array_size(json_object_get(cat, "entries")), 1);
    ck_assert_ptr_nonnull(cat_entry(cat, "blog", "view"));
    json_decref(cat);

    /* a browser gets the page */
    snprintf(url, sizeof(url), "%s/catalog", nginx->url);
    xf_http_request("GET", url, html, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(strstr(resp.body, "xflow event catalog"));
    text = xf_http_header(&resp, "Content-Type");
    ck_assert_ptr_nonnull(strstr(text, "text/html"));
    free(text);
    xf_http_resp_free(&resp);

    /* /metrics: totals only, no label per app or name */
    text = xf_metrics_scrape(nginx);
    ck_assert_uint_eq(xf_metrics_value(text, "xflow_catalog_entries"), 3);
    ck_assert_uint_eq(xf_metrics_value(text, "xflow_catalog_evicted_total"),
                      0);
    ck_assert_ptr_null(strstr(text, "shop"));
    free(text);

    /* a reload keeps the table */
    xf_nginx_reload(nginx);
    cat_post(CAT_BATCH, "{\"accepted\":3,\"rejected\":1}");

    cat = cat_get("/catalog");
    ck_assert_uint_eq(cat_num(cat, "events"), 8);
    ck_assert_uint_eq(cat_num(cat_entry(cat, "shop", "buy"), "events"), 4);
    json_decref(cat);

    /* POST is not for the catalog */
    xf_http_request("POST", url, NULL, "{}", 2, &resp);
    ck_assert_int_eq(resp.status, 405);
    xf_http_resp_free(&resp);
}
END_TEST


/* Without xflow_catalog_zone nothing is kept, and the location says 404. */
START_TEST(test_no_zone)
{
    char            url[128];
    xf_http_resp_t  resp;

    xf_fixture_nginx(
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_topic " CAT_TOPIC ";\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /json { xflow_collect json; }\n"
        "        location /catalog { xflow_catalog; }\n"
        "    }\n", 1);

    cat_post("{\"event\":\"a\"}", "{\"accepted\":1,\"rejected\":0}");

    snprintf(url, sizeof(url), "%s/catalog", nginx->url);
    xf_http_request("GET", url, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 404);
    xf_http_resp_free(&resp);

    ck_assert_ptr_nonnull(xf_nginx_refuses(nginx,
        "    xflow_catalog_zone 4k;\n"
        "    server { listen 127.0.0.1:@PORT@; }\n", NULL, "too small"));
}
END_TEST


/*
 * A request refused with a retry status (Kafka down, under ack=kafka
 * without a spool: 503) is not counted; the SDK's retry, accepted, is,
 * once.  The catalog then says what Kafka holds: one event, one invalid.
 */
static const char  retry_snippet[] =
    "    xflow_kafka_brokers @BROKERS@;\n"
    "    xflow_kafka_conf linger.ms 1;\n"
    "    xflow_kafka_conf message.timeout.ms 1000;\n"
    "    xflow_topic " CAT_TOPIC ";\n"
    "    xflow_catalog_zone 1m;\n"
    "    server {\n"
    "        listen 127.0.0.1:@PORT@;\n"
    "        location /json { xflow_collect json; xflow_ack kafka; }\n"
    "        location /catalog { xflow_catalog; }\n"
    "    }\n";

#define CAT_RETRY  "{\"event\":\"retried\",\"app\":\"shop\"," \
                   "\"distinct_id\":\"u1\",\"properties\":{\"n\":1}}"


static long
cat_status(const char *body, char *answer, size_t len)
{
    long            status;
    char            url[128];
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s/json", nginx->url);
    xf_http_request("POST", url, NULL, body, strlen(body), &resp);
    status = resp.status;
    snprintf(answer, len, "%s", resp.body ? resp.body : "");
    xf_http_resp_free(&resp);

    return status;
}


START_TEST(test_retry_counted_once)
{
    char             answer[256];
    long             status;
    size_t           i, elen;
    json_t          *cat, *e;
    xf_kafka_msgs_t  ev, dl;

    xf_fixture_nginx(retry_snippet, 1);

    /* the worker's producer has its metadata first */
    cat_post("{\"event\":\"warm\",\"app\":\"shop\",\"distinct_id\":\"u0\"}",
             "{\"accepted\":1,\"rejected\":0}");

    xf_kafka_set_leaderless(kafka, CAT_TOPIC, 1, 1);
    xf_kafka_set_leaderless(kafka, CAT_DL, 1, 1);

    status = cat_status("[" CAT_RETRY ",7]", answer, sizeof(answer));
    ck_assert_msg(status == 503, "%ld %s", status, answer);
    ck_assert_ptr_nonnull(strstr(answer, "delivery_failed"));

    cat = cat_get("/catalog");
    ck_assert_uint_eq(cat_num(cat, "events"), 1);
    ck_assert_uint_eq(cat_num(cat, "invalid"), 0);
    ck_assert_ptr_null(cat_entry(cat, "shop", "retried"));
    json_decref(cat);

    xf_kafka_set_leaderless(kafka, CAT_TOPIC, 1, 0);
    xf_kafka_set_leaderless(kafka, CAT_DL, 1, 0);

    /* the SDK sends it again until it is taken (the producer may need a
       moment to find the leaders again: seconds on a loaded machine, so
       up to 30 s of tries) */
    for (i = 0; i < 120; i++) {
        status = cat_status("[" CAT_RETRY ",7]", answer, sizeof(answer));

        if (status != 503) {
            break;
        }

        xf_sleep_ms(250);
    }

    ck_assert_msg(status == 200, "%ld %s", status, answer);
    ck_assert_str_eq(answer, "{\"accepted\":1,\"rejected\":1}");

    cat = cat_get("/catalog");
    ck_assert_uint_eq(cat_num(cat, "events"), 3);
    ck_assert_uint_eq(cat_num(cat, "invalid"), 1);
    e = cat_entry(cat, "shop", "retried");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(cat_num(e, "events"), 1);

    /* what reached Kafka: the warm-up and the retried event once, one
       dead letter; the same bytes */
    memset(&ev, 0, sizeof(ev));
    memset(&dl, 0, sizeof(dl));
    xf_kafka_consume(kafka, CAT_TOPIC, 2, 10000, 1000, &ev);
    xf_kafka_consume(kafka, CAT_DL, 1, 10000, 500, &dl);

    (void) cat_event(plan_msg(&ev, "\"retried\""), &elen);
    ck_assert_uint_eq(elen, sizeof(CAT_RETRY) - 1);
    ck_assert_uint_eq(cat_num(e, "bytes"), elen);

    json_decref(cat);
    xf_kafka_msgs_free(&ev);
    xf_kafka_msgs_free(&dl);
}
END_TEST


/* ------------------------------------------------------------ plan */

static const char  plan_json[] =
    "{\"apps\": {\n"
    "  \"shop\": {\n"
    "    \"tier\": \"silver\",\n"
    "    \"events\": {\n"
    "      \"purchase\": {\"tier\": \"gold\",\n"
    "                   \"required\": [\"price\"],\n"
    "                   \"properties\": {\"price\": {\"type\": \"number\"}}},\n"
    "      \"view\": {}\n"
    "    }\n"
    "  }\n"
    "}}\n";


static const char  plan_snippet[] =
    "    xflow_kafka_brokers @BROKERS@;\n"
    "    xflow_kafka_conf linger.ms 1;\n"
    "    xflow_topic " CAT_TOPIC ";\n"
    "    xflow_catalog_zone 1m;\n"
    "    xflow_tracking_plan plan.json;\n"
    "    xflow_route tier=gold topic=gold;\n"
    "    server {\n"
    "        listen 127.0.0.1:@PORT@;\n"
    "        location /mark { xflow_collect json; }\n"
    "        location /route {\n"
    "            xflow_collect json;\n"
    "            xflow_plan_action unknown=route:plan_unknown\n"
    "                              invalid=route:plan_invalid;\n"
    "        }\n"
    "        location /dl {\n"
    "            xflow_collect json;\n"
    "            xflow_plan_action unknown=dead_letter invalid=dead_letter;\n"
    "        }\n"
    "        location /pass {\n"
    "            xflow_collect json;\n"
    "            xflow_plan_action unknown=pass invalid=pass;\n"
    "        }\n"
    "        location /catalog { xflow_catalog; }\n"
    "    }\n";


#define P_GOOD  "{\"event\":\"purchase\",\"app\":\"shop\"," \
                "\"distinct_id\":\"u1\"," \
                "\"properties\":{\"price\":9.5}}"
#define P_BAD   "{\"event\":\"purchase\",\"app\":\"shop\"," \
                "\"distinct_id\":\"u2\"," \
                "\"properties\":{\"price\":\"9.5\"}}"
#define P_NEW   "{\"event\":\"refund\",\"app\":\"shop\",\"distinct_id\":\"u3\"}"
#define P_VIEW  "{\"event\":\"view\",\"app\":\"shop\",\"distinct_id\":\"u4\"}"
#define P_ELSE  "{\"event\":\"x\",\"app\":\"blog\",\"distinct_id\":\"u5\"}"
#define P_BATCH "[" P_GOOD "," P_BAD "," P_NEW "," P_VIEW "," P_ELSE "]"


static void
plan_setup(void)
{
    xf_fixture_setup(1, 15000, CAT_TOPIC, 1, CAT_DL, 1, "gold", 1,
                     "plan_unknown", 1, "plan_invalid", 1, NULL);
}


static void
plan_start(const char *plan)
{
    char  path[256];

    nginx = xf_nginx_new(plan_snippet, kafka->bootstraps, 1);
    snprintf(path, sizeof(path), "%s/plan.json", nginx->dir);
    xf_write_file(path, plan, 0644);
    xf_nginx_start(nginx);
}


static void
plan_post(const char *loc, const char *body, const char *want)
{
    char            url[128];
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s%s", nginx->url, loc);
    xf_http_request("POST", url, NULL, body, strlen(body), &resp);
    ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
    ck_assert_str_eq(resp.body, want);
    xf_http_resp_free(&resp);
}


/* The message whose event holds needle: it must be there. */
static const xf_kafka_msg_t *
plan_msg(const xf_kafka_msgs_t *m, const char *needle)
{
    size_t  i;

    for (i = 0; i < m->n; i++) {
        if (xf_memstr(m->msgs[i].value, m->msgs[i].value_len, needle)) {
            return &m->msgs[i];
        }
    }

    ck_abort_msg("no message with %s", needle);

    return NULL;
}


START_TEST(test_plan_mark)
{
    json_t                *cat, *e;
    xf_kafka_msgs_t        ev, gold;
    const xf_kafka_msg_t  *m;

    plan_start(plan_json);
    plan_post("/mark", P_BATCH, "{\"accepted\":5,\"rejected\":0}");

    memset(&ev, 0, sizeof(ev));
    memset(&gold, 0, sizeof(gold));
    xf_kafka_consume(kafka, CAT_TOPIC, 3, 10000, 500, &ev);
    xf_kafka_consume(kafka, "gold", 2, 10000, 500, &gold);

    /* purchases, by their tier: the conforming one unmarked, the one
       that fails the plan keeps its tier and says why */
    m = plan_msg(&gold, "\"u1\"");
    ck_assert_ptr_null(strstr(m->value, "\"plan\""));

    m = plan_msg(&gold, "\"u2\"");
    ck_assert_ptr_nonnull(strstr(m->value, ",\"plan\":\"invalid\","
        "\"plan_error\":\"property \\\"price\\\" is not a number\""));
    m = plan_msg(&ev, "\"u3\"");
    ck_assert_ptr_nonnull(strstr(m->value, ",\"plan\":\"unknown\",\"event\""));
    m = plan_msg(&ev, "\"u4\"");
    ck_assert_ptr_null(strstr(m->value, "\"plan\""));
    /* an app the plan does not name is not checked */
    m = plan_msg(&ev, "\"u5\"");
    ck_assert_ptr_null(strstr(m->value, "\"plan\""));

    /* the catalog shows conformance per event */
    cat = cat_get("/catalog?app=shop");
    e = cat_entry(cat, "shop", "purchase");
    ck_assert_uint_eq(cat_num(json_object_get(e, "plan"), "conforms"), 1);
    ck_assert_uint_eq(cat_num(json_object_get(e, "plan"), "invalid"), 1);
    e = cat_entry(cat, "shop", "refund");
    ck_assert_uint_eq(cat_num(json_object_get(e, "plan"), "unknown"), 1);
    json_decref(cat);

    xf_kafka_msgs_free(&ev);
    xf_kafka_msgs_free(&gold);
}
END_TEST


START_TEST(test_plan_route_and_dead_letter)
{
    xf_kafka_msgs_t        un, inv, dl, ev;
    const xf_kafka_msg_t  *m;

    plan_start(plan_json);
    plan_post("/route", P_BATCH, "{\"accepted\":5,\"rejected\":0}");
    plan_post("/dl", P_BATCH, "{\"accepted\":3,\"rejected\":2}");
    plan_post("/pass", P_NEW, "{\"accepted\":1,\"rejected\":0}");

    memset(&un, 0, sizeof(un));
    memset(&inv, 0, sizeof(inv));
    memset(&dl, 0, sizeof(dl));
    memset(&ev, 0, sizeof(ev));
    xf_kafka_consume(kafka, "plan_unknown", 1, 10000, 500, &un);
    xf_kafka_consume(kafka, "plan_invalid", 1, 10000, 500, &inv);
    xf_kafka_consume(kafka, CAT_DL, 2, 10000, 500, &dl);
    /* view and blog's x, twice; refund once by /pass */
    xf_kafka_consume(kafka, CAT_TOPIC, 5, 10000, 500, &ev);

    ck_assert_ptr_nonnull(strstr(un.msgs[0].value, "\"u3\""));
    ck_assert_ptr_nonnull(strstr(inv.msgs[0].value, "\"u2\""));

    m = plan_msg(&dl, "\"u3\"");
    ck_assert_ptr_nonnull(strstr(m->value, "\"error\":\"plan_unknown\""));
    m = plan_msg(&dl, "\"u2\"");
    ck_assert_ptr_nonnull(strstr(m->value, "\"error\":\"plan_invalid\""));
    ck_assert_ptr_nonnull(strstr(m->value, "\"plan_error\":"));

    /* pass: as it came, no mark */
    m = plan_msg(&ev, "\"u3\"");
    ck_assert_ptr_null(strstr(m->value, "\"plan\""));

    xf_kafka_msgs_free(&un);
    xf_kafka_msgs_free(&inv);
    xf_kafka_msgs_free(&dl);
    xf_kafka_msgs_free(&ev);
}
END_TEST


/* nginx -t names the plan's line; a reload reads the plan again. */
START_TEST(test_plan_refused_and_reload)
{
    char      path[256];
    char     *out;
    size_t    i;
    json_t   *cat, *e;
    uint64_t  conforms;

    conforms = 0;
    plan_start(plan_json);
    snprintf(path, sizeof(path), "%s/plan.json", nginx->dir);

    xf_write_file(path, "{\"apps\": {\n  \"shop\": {\"events\": {\n"
                  "    \"buy\": {\"properties\": {\"p\": "
                  "{\"type\": \"numbr\"}}}}}}}\n", 0644);
    out = xf_nginx_refuses(nginx, NULL, NULL,
                           "plan.json:3: unknown type \"numbr\"");
    ck_assert_ptr_nonnull(strstr(out, "nginx.conf:"));
    free(out);

    xf_write_file(path, "{\"apps\": {\n\n\"shop\": {\"events\": {,}}}}",
                  0644);
    free(xf_nginx_refuses(nginx, NULL, NULL, "plan.json:3: not JSON"));

    /* refund joins the plan (an old worker may still take a request) */
    xf_write_file(path, "{\"apps\": {\"shop\": {\"events\": "
                  "{\"refund\": {}}}}}", 0644);
    xf_nginx_reload(nginx);

    for (i = 0; i < 50; i++) {
        plan_post("/mark", P_NEW, "{\"accepted\":1,\"rejected\":0}");

        cat = cat_get("/catalog");
        e = cat_entry(cat, "shop", "refund");
        conforms = cat_num(json_object_get(e, "plan"), "conforms");
        json_decref(cat);

        if (conforms) {
            break;
        }

        usleep(100 * 1000);
    }

    ck_assert_uint_eq(conforms, 1);
}
END_TEST


/* ---------------------------------------------------- kill, hygiene */

static const char  hy_snippet[] =
    "    xflow_kafka_brokers @BROKERS@;\n"
    "    xflow_kafka_conf linger.ms 1;\n"
    "    xflow_topic " CAT_TOPIC ";\n"
    "    xflow_kill app=noisy drop;\n"
    "    xflow_kill app=shop event=debug dead_letter;\n"
    "    xflow_kill event=beta route=beta_events;\n"
    "    xflow_future_clamp 23h;\n"
    "    xflow_historical 2d historical;\n"
    "    xflow_placeholder_ids default;\n"
    "    server {\n"
    "        listen 127.0.0.1:@PORT@;\n"
    "        location /json { xflow_collect json; }\n"
    "        location /track { xflow_collect mixpanel; }\n"
    "        location /2/httpapi { xflow_collect amplitude; }\n"
    "        location /metrics { xflow_metrics; }\n"
    "    }\n";


static void
hy_setup(void)
{
    xf_fixture_setup(1, 15000, CAT_TOPIC, 1, CAT_DL, 1, "beta_events", 1,
                     "historical", 1, NULL);
}


START_TEST(test_kill_switch)
{
    char              *text;
    xf_kafka_msgs_t    ev, dl, beta;

    xf_fixture_nginx(hy_snippet, 1);

    /* answered as accepted, every one: the SDK must not retry */
    cat_post("[{\"event\":\"a\",\"app\":\"noisy\",\"distinct_id\":\"u1\"},"
             "{\"event\":\"b\",\"app\":\"noisy\",\"distinct_id\":\"u1\"},"
             "{\"event\":\"debug\",\"app\":\"shop\",\"distinct_id\":\"u2\"},"
             "{\"event\":\"beta\",\"app\":\"shop\",\"distinct_id\":\"u3\"},"
             "{\"event\":\"buy\",\"app\":\"shop\",\"distinct_id\":\"u4\"}]",
             "{\"accepted\":4,\"rejected\":1}");
    cat_post("{\"event\":\"c\",\"app\":\"noisy\",\"distinct_id\":\"u1\"}",
             "{\"accepted\":1,\"rejected\":0}");

    memset(&ev, 0, sizeof(ev));
    memset(&dl, 0, sizeof(dl));
    memset(&beta, 0, sizeof(beta));
    xf_kafka_consume(kafka, CAT_TOPIC, 1, 10000, 1000, &ev);
    xf_kafka_consume(kafka, CAT_DL, 1, 10000, 500, &dl);
    xf_kafka_consume(kafka, "beta_events", 1, 10000, 500, &beta);

    ck_assert_ptr_nonnull(strstr(ev.msgs[0].value, "\"u4\""));
    ck_assert_ptr_nonnull(strstr(dl.msgs[0].value,
                                 "\"error\":\"kill_switch\""));
    ck_assert_ptr_nonnull(strstr(beta.msgs[0].value, "\"u3\""));

    /* the dropped ones counted, under their own result */
    text = xf_metrics_scrape(nginx);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_events_total{format=\"json\",result=\"dropped\"}"), 3);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_events_total{format=\"json\",result=\"accepted\"}"), 2);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_events_rejected_total{reason=\"kill_switch\"}"), 1);
    free(text);

    xf_kafka_msgs_free(&ev);
    xf_kafka_msgs_free(&dl);
    xf_kafka_msgs_free(&beta);
}
END_TEST


/* Exactly n messages of the events' topic, one of the historical. */
static void
hy_consume(xf_kafka_msgs_t *ev, size_t n, xf_kafka_msgs_t *hist)
{
    memset(ev, 0, sizeof(xf_kafka_msgs_t));
    memset(hist, 0, sizeof(xf_kafka_msgs_t));
    xf_kafka_consume(kafka, CAT_TOPIC, n, 10000, 500, ev);
    xf_kafka_consume(kafka, "historical", 1, 10000, 500, hist);
}


/*
 * The message whose event holds needle was clamped: its "time" about now
 * (seconds or milliseconds: the same first digits), no longer orig,
 * which the envelope keeps as ts_original.
 */
static void
hy_clamped(const xf_kafka_msgs_t *msgs, const char *needle, const char *orig,
    time_t now)
{
    char                   want[128];
    const char            *ev;
    const xf_kafka_msg_t  *m;

    m = plan_msg(msgs, needle);
    snprintf(want, sizeof(want), ",\"ts_original\":%s,", orig);
    ck_assert_msg(strstr(m->value, want) != NULL, "%s", m->value);

    ev = strstr(m->value, ",\"event\":");
    snprintf(want, sizeof(want), "\"time\":%s", orig);
    ck_assert_msg(strstr(ev, want) == NULL, "%s", m->value);
    snprintf(want, sizeof(want), "\"time\":%lld", (long long) now / 100);
    ck_assert_msg(strstr(ev, want) != NULL, "%s", m->value);
}


START_TEST(test_times_and_placeholders)
{
    char                   body[1024];
    time_t                 now;
    xf_kafka_msgs_t        ev, hist;
    const xf_kafka_msg_t  *m;

    xf_fixture_nginx(hy_snippet, 1);

    now = time(NULL);

    /* two days ahead, ten days back, now; a placeholder id */
    snprintf(body, sizeof(body),
             "[{\"event\":\"f\",\"distinct_id\":\"u1\",\"time\":%lld},"
             "{\"event\":\"o\",\"distinct_id\":\"u2\","
             "\"timestamp\":\"2001-02-03T04:05:06.789Z\"},"
             "{\"event\":\"n\",\"distinct_id\":\"u3\",\"time\":%lld},"
             "{\"event\":\"p\",\"distinct_id\":\"undefined\"}]",
             (long long) (now + 2 * 86400) * 1000, (long long) now * 1000);
    cat_post(body, "{\"accepted\":4,\"rejected\":0}");

    hy_consume(&ev, 3, &hist);

    /* clamped to about now, the original in the envelope */
    snprintf(body, sizeof(body), "%lld",
             (long long) (now + 2 * 86400) * 1000);
    hy_clamped(&ev, "\"u1\"", body, now);

    ck_assert_ptr_nonnull(strstr(hist.msgs[0].value, "\"u2\""));

    m = plan_msg(&ev, "\"u3\"");
    ck_assert_ptr_null(strstr(m->value, "ts_original"));

    /* a placeholder id: no key, marked */
    m = plan_msg(&ev, "\"undefined\"");
    ck_assert_ptr_null(m->key);
    ck_assert_ptr_nonnull(strstr(m->value, ",\"anonymous\":true,"));

    xf_kafka_msgs_free(&ev);
    xf_kafka_msgs_free(&hist);
}
END_TEST


/* POST body to loc as JSON: the answer must be 200. */
static void
hy_post(const char *loc, const char *body)
{
    char            url[128];
    const char     *hdrs[] = { "Content-Type: application/json", NULL };
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s%s", nginx->url, loc);
    xf_http_request("POST", url, hdrs, body, strlen(body), &resp);
    ck_assert_msg(resp.status == 200, "%s: %ld %s", loc, resp.status,
                  resp.body);
    xf_http_resp_free(&resp);
}


/*
 * Each format's own time field: Mixpanel's properties.time in seconds,
 * Amplitude's time in milliseconds, clamped or sent to the historical
 * topic; Amplitude's user id "null" gives way to its device id.
 */
START_TEST(test_times_by_format)
{
    char                   body[1024], want[128];
    time_t                 now;
    xf_kafka_msgs_t        msgs, hist;
    const xf_kafka_msg_t  *m;

    xf_fixture_nginx(hy_snippet, 1);

    now = time(NULL);

    snprintf(body, sizeof(body),
             "[{\"event\":\"f\",\"properties\":{\"token\":\"tk\","
             "\"distinct_id\":\"m1\",\"time\":%lld.25}},"
             "{\"event\":\"o\",\"properties\":{\"token\":\"tk\","
             "\"distinct_id\":\"m2\",\"time\":%lld}}]",
             (long long) now + 2 * 86400,
             (long long) (now - 10 * 86400) * 1000);
    hy_post("/track", body);

    snprintf(body, sizeof(body),
             "{\"api_key\":\"k\",\"events\":["
             "{\"event_type\":\"f\",\"user_id\":\"a1\",\"time\":%lld},"
             "{\"event_type\":\"p\",\"user_id\":\"null\","
             "\"device_id\":\"d-9\"}]}",
             (long long) (now + 2 * 86400) * 1000);
    hy_post("/2/httpapi", body);

    hy_consume(&msgs, 3, &hist);

    /* Mixpanel: seconds stay seconds, about now; the original kept */
    snprintf(want, sizeof(want), "%lld.25", (long long) now + 2 * 86400);
    hy_clamped(&msgs, "\"m1\"", want, now);
    ck_assert_ptr_nonnull(strstr(hist.msgs[0].value, "\"m2\""));

    /* Amplitude: milliseconds */
    snprintf(want, sizeof(want), "%lld",
             (long long) (now + 2 * 86400) * 1000);
    hy_clamped(&msgs, "\"a1\"", want, now);

    /* a placeholder user id beside a device id: keyed by the device */
    m = plan_msg(&msgs, "\"d-9\"");
    ck_assert_ptr_nonnull(m->key);
    ck_assert_str_eq(m->key, "d-9");
    ck_assert_ptr_null(strstr(m->value, "\"anonymous\""));

    xf_kafka_msgs_free(&msgs);
    xf_kafka_msgs_free(&hist);
}
END_TEST


/*
 * Bots: the operator's patterns and ASNs beside the shipped ones, from
 * the address realip takes from X-Forwarded-For; a location for each of
 * mark, drop (with receipts) and drop in dry run; the report.  The
 * operator's files hold patterns and asns.
 */
static void
bot_nginx(const char *patterns, const char *asns)
{
    char  *s, path[256];

    ck_assert_int_ge(asprintf(&s,
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_kafka_conf linger.ms 1;\n"
        "    xflow_topic " CAT_TOPIC ";\n"
        "    xflow_bot_patterns bots.txt;\n"
        "    xflow_bot_asns asns.txt 64512;\n"
        "    xflow_geoip asn=%s/tests/fixtures/geoip/GeoLite2-ASN-Test.mmdb;\n"
        "    xflow_bots mark;\n"
        "    real_ip_header X-Forwarded-For;\n"
        "    set_real_ip_from 127.0.0.1;\n"
        "    log_format bots '$xflow_error';\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /json { xflow_collect json; }\n"
        "        location /drop {\n"
        "            xflow_collect json;\n"
        "            xflow_bots drop;\n"
        "            xflow_receipts on;\n"
        "            access_log bots.log bots;\n"
        "        }\n"
        "        location /dry {\n"
        "            xflow_collect json;\n"
        "            xflow_bots drop dry_run;\n"
        "        }\n"
        "        location /metrics { xflow_metrics; }\n"
        "        location /bots { xflow_bot_report; }\n"
        "    }\n", xf_test_src_dir()), 0);

    nginx = xf_nginx_new(s, kafka->bootstraps, 1);
    free(s);

    snprintf(path, sizeof(path), "%s/bots.txt", nginx->dir);
    xf_write_file(path, patterns, 0644);
    snprintf(path, sizeof(path), "%s/asns.txt", nginx->dir);
    xf_write_file(path, asns, 0644);
}


/* POST body as ua (from xff, if any): the answer must hold want. */
static void
bot_post(const char *loc, const char *ua, const char *xff, const char *body,
    const char *want)
{
    char            url[128], h[512], x[128];
    const char     *hdrs[3];
    xf_http_resp_t  resp;

    snprintf(url, sizeof(url), "%s%s", nginx->url, loc);
    snprintf(h, sizeof(h), "User-Agent: %s", ua);
    hdrs[0] = h;
    hdrs[1] = NULL;

    if (xff) {
        snprintf(x, sizeof(x), "X-Forwarded-For: %s", xff);
        hdrs[1] = x;
        hdrs[2] = NULL;
    }

    xf_http_request("POST", url, hdrs, body, strlen(body), &resp);
    ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
    ck_assert_msg(strstr(resp.body, want) != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);
}


#define BOT_HEADLESS  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " \
                      "(KHTML, like Gecko) HeadlessChrome/120.0.0.0 "       \
                      "Safari/537.36"
#define BOT_CHROME    "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0"
#define BOT_GOOGLE    "Mozilla/5.0 (compatible; Googlebot/2.1)"
#define BOT_OK        "{\"accepted\":1,\"rejected\":0}"


/*
 * Headless Chromium is a bot, posthog-node is not, even from a listed
 * AS; the operator's file; a listed AS (1.128.0.0 is AS1221 in the test
 * database); drop and dry run; the metrics, the log and the report.
 */
START_TEST(test_bots)
{
    char                   path[256], *text, *log;
    xf_http_resp_t         resp;
    xf_kafka_msgs_t        ev;
    const xf_kafka_msg_t  *m;

    bot_nginx("# ours\n  AcmeProbe  \n\n",
              "# hosting\nAS1221  # the test database's\n");
    xf_nginx_start(nginx);

    bot_post("/json", BOT_HEADLESS, NULL,
             "{\"event\":\"a\",\"distinct_id\":\"u1\"}", BOT_OK);
    bot_post("/json", "posthog-node/4.2.1", "1.128.0.0",
             "{\"event\":\"a\",\"distinct_id\":\"u2\"}", BOT_OK);
    bot_post("/json", "acmeprobe/1.0", NULL,
             "{\"event\":\"a\",\"distinct_id\":\"u3\"}", BOT_OK);
    bot_post("/json", BOT_CHROME, "81.2.69.160",
             "{\"event\":\"a\",\"distinct_id\":\"u4\"}", BOT_OK);
    bot_post("/json", BOT_CHROME, "1.128.0.0",
             "{\"event\":\"a\",\"distinct_id\":\"u5\"}", BOT_OK);

    /* dropped: answered as accepted, the receipt says why */
    bot_post("/drop", BOT_GOOGLE, NULL,
             "[{\"event\":\"a\",\"distinct_id\":\"u6\"}]",
             "{\"result\":\"dropped\",\"reason\":\"bot\"}");

    /* dry run: the event as it came, counted */
    bot_post("/dry", BOT_GOOGLE, NULL,
             "{\"event\":\"a\",\"distinct_id\":\"u7\"}", BOT_OK);

    memset(&ev, 0, sizeof(ev));
    xf_kafka_consume(kafka, CAT_TOPIC, 6, 10000, 1000, &ev);
    ck_assert_uint_eq(ev.n, 6);

    m = plan_msg(&ev, "\"u1\"");
    ck_assert_ptr_nonnull(strstr(m->value, ",\"bot\":\"headlesschrome\","));
    m = plan_msg(&ev, "\"u2\"");
    ck_assert_ptr_null(strstr(m->value, "\"bot\""));
    m = plan_msg(&ev, "\"u3\"");
    ck_assert_ptr_nonnull(strstr(m->value, ",\"bot\":\"acmeprobe\","));
    m = plan_msg(&ev, "\"u4\"");
    ck_assert_ptr_null(strstr(m->value, "\"bot\""));
    m = plan_msg(&ev, "\"u5\"");
    ck_assert_msg(strstr(m->value, ",\"bot\":\"AS1221\",") != NULL, "%s",
                  m->value);
    m = plan_msg(&ev, "\"u7\"");
    ck_assert_ptr_null(strstr(m->value, "\"bot\""));

    /* the bot outcome: its own result, decisions, $xflow_error */
    text = xf_metrics_scrape(nginx);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_events_total{format=\"json\",result=\"bot\"}"), 1);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_events_total{format=\"json\",result=\"dropped\"}"), 0);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_bot_requests_total{decision=\"mark\"}"), 3);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_bot_requests_total{decision=\"drop\"}"), 1);
    ck_assert_uint_eq(xf_metrics_value(text,
        "xflow_bot_requests_total{decision=\"dry_run_drop\"}"), 1);
    free(text);

    snprintf(path, sizeof(path), "%s/bots.log", nginx->dir);
    log = xf_must_read_file(path);
    ck_assert_str_eq(log, "bot\n");
    free(log);

    /* the report: the top User-Agent and AS */
    snprintf(path, sizeof(path), "%s/bots", nginx->url);
    xf_http_request("GET", path, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_msg(strstr(resp.body, "\"user_agent\":\"" BOT_GOOGLE "\","
                         "\"why\":\"googlebot\",\"requests\":2,"
                         "\"error\":0}") != NULL, "%s", resp.body);
    ck_assert_msg(strstr(resp.body, "{\"asn\":1221,\"listed\":true,"
                         "\"requests\":1,\"error\":0}") != NULL,
                  "%s", resp.body);
    ck_assert_msg(strstr(resp.body, "\"mark\":3,\"route\":0,\"drop\":1,"
                         "\"dry_run_mark\":0,\"dry_run_route\":0,"
                         "\"dry_run_drop\":1}") != NULL, "%s", resp.body);
    xf_http_resp_free(&resp);

    xf_kafka_msgs_free(&ev);
}
END_TEST


/* nginx -t names the bad line of an ASN file; ASNs need the database. */
START_TEST(test_bot_asns_refused)
{
    char  *out;

    bot_nginx("acmeprobe\n", "AS1221\n\nAS-12 # typo\n");

    out = xf_nginx_refuses(nginx, NULL, NULL,
                           "asns.txt:3: \"AS-12\" is not an ASN");
    ck_assert_ptr_nonnull(strstr(out, "nginx.conf:"));
    free(out);

    free(xf_nginx_refuses(nginx,
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_topic " CAT_TOPIC ";\n"
        "    xflow_bot_asns 16509;\n"
        "    server { listen 127.0.0.1:@PORT@; }\n", kafka->bootstraps,
        "xflow_bot_asns needs an ASN database"));

    free(xf_nginx_refuses(nginx,
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_topic " CAT_TOPIC ";\n"
        "    server { listen 127.0.0.1:@PORT@;\n"
        "        location / { xflow_collect json; xflow_bots off dry_run; }\n"
        "    }\n", kafka->bootstraps, "expected dry_run after mark"));
}
END_TEST


Suite *
make_catalog_e2e_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("catalog_e2e");

    tc = xf_tcase(s, "captures", 120, cat_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_sdk_captures);

    tc = xf_tcase(s, "entries", 60, cat_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_entries_page_reload);
    tcase_add_test(tc, test_no_zone);
    tcase_add_test(tc, test_retry_counted_once);

    tc = xf_tcase(s, "plan", 60, plan_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_plan_mark);
    tcase_add_test(tc, test_plan_route_and_dead_letter);
    tcase_add_test(tc, test_plan_refused_and_reload);

    tc = xf_tcase(s, "hygiene", 60, hy_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_kill_switch);
    tcase_add_test(tc, test_times_and_placeholders);
    tcase_add_test(tc, test_times_by_format);
    tcase_add_test(tc, test_bots);
    tcase_add_test(tc, test_bot_asns_refused);

    return s;
}
