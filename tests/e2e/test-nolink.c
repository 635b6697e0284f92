/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-nolink.c - with identifiers stripped (xflow_strip_field hash on
 * the id fields, xflow_cookie_ref on the SDK cookies), no raw identifier
 * reaches Kafka: not in an event, not in a message key, not in the
 * envelope's app, not in a dead letter, in no topic.
 *
 * For every capture of tests/fixtures/sdk-captures/ the identifiers are
 * collected from what the SDK sent (the values of the id members of its
 * events, at any depth, and its cookie values), every record is replayed,
 * and then requests that can only be dead-lettered are sent with the
 * same identifiers in them: an array of strings, NDJSON cut short, a
 * form whose base64 is broken, a GET beacon whose query holds the id.
 * Every message of every topic is then searched for every identifier.
 */

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xf_test.h"


#define NL_MAX_CAPTURES  64
#define NL_MAX_IDS       256
#define NL_EXTRA_ID      "nolink-7d1e@example.com"
#define NL_REF_LEN       22


static char         nl_files[NL_MAX_CAPTURES][512];
static size_t       nl_nfiles;

static char        *nl_ids[NL_MAX_IDS];
static size_t       nl_nids;

static const char  *nl_topics[] = {
    "events", "xflow_dead_letter", "xflow.ua"
};

#define NL_NTOPICS  (sizeof(nl_topics) / sizeof(nl_topics[0]))

/* The members whose values identify a user, a device or a session. */
static const char  *nl_id_keys[] = {
    "distinct_id", "anonymous_id", "login_id", "$device_id",
    "$anon_distinct_id", "$session_id", "$window_id",
    "$identity_cookie_id", "$identity_anonymous_id", "$identity_login_id",
    "$user_id", "userId", "anonymousId", "duid", "uid", "sid", "nuid",
    "device_id", "user_id", NULL
};


static void
nl_setup(void)
{
    xf_fixture_setup(1, 15000, NULL);
    xf_fixture_topics(nl_topics, NL_NTOPICS, 1);
    nl_nids = 0;
}


static void
nl_teardown(void)
{
    size_t  i;

    xf_fixture_teardown();

    for (i = 0; i < nl_nids; i++) {
        free(nl_ids[i]);
    }

    nl_nids = 0;
}


static void
nl_start(void)
{
    char  path[256];

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    snprintf(path, sizeof(path), "%s/hash.key", nginx->dir);
    xf_write_file(path, "0123456789abcdef0123456789abcdef\n", 0400);

    xf_nginx_write_conf(nginx,
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_kafka_conf linger.ms 1;\n"
        "    xflow_topic events;\n"
        "    xflow_hash_key hash.key;\n"
        "    xflow_cookie_ref sensorsdata2015jssdkcross ph_* "
        "sajssdk_2015_cross_new_user;\n"
        "    xflow_ua_dictionary xflow.ua ttl=1h;\n"
        "    xflow_client_ip hash;\n"
        "    xflow_strip_field distinct_id hash;\n"
        "    xflow_strip_field anonymous_id hash;\n"
        "    xflow_strip_field login_id hash;\n"
        "    xflow_strip_field identities.$identity_cookie_id hash;\n"
        "    xflow_strip_field identities.$identity_anonymous_id hash;\n"
        "    xflow_strip_field identities.$identity_login_id hash;\n"
        "    xflow_strip_field properties.distinct_id hash;\n"
        "    xflow_strip_field properties.$device_id hash;\n"
        "    xflow_strip_field properties.$anon_distinct_id hash;\n"
        "    xflow_strip_field properties.$session_id hash;\n"
        "    xflow_strip_field properties.$window_id hash;\n"
        "    xflow_strip_field properties.$set.$device_id hash;\n"
        "    xflow_strip_field properties.$set_once.$device_id hash;\n"
        "    xflow_strip_field $set.$device_id hash;\n"
        "    xflow_strip_field $set_once.$device_id hash;\n"
        /* Segment, RudderStack; Snowplow; Amplitude */
        "    xflow_strip_field anonymousId hash;\n"
        "    xflow_strip_field userId hash;\n"
        "    xflow_strip_field duid hash;\n"
        "    xflow_strip_field sid hash;\n"
        "    xflow_strip_field nuid hash;\n"
        "    xflow_strip_field uid hash;\n"
        "    xflow_strip_field device_id hash;\n"
        "    xflow_strip_field user_id hash;\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location /collect { xflow_collect json; }\n"
        /* auto picks neither (docs/formats.md) */
        "        location /track/ { xflow_collect mixpanel; }\n"
        "        location = /amplitude/batch {\n"
        "            xflow_collect amplitude;\n"
        "        }\n"
        "        location / { xflow_collect auto; }\n"
        "    }\n", kafka->bootstraps);

    xf_nginx_start(nginx);
}


/* ------------------------------------------------------- identifiers */

static void
nl_add_id(const char *v)
{
    xf_str_set_add(nl_ids, &nl_nids, NL_MAX_IDS, v);
}


/* The string values of id members anywhere in v. */
static void
nl_walk(json_t *v)
{
    xf_json_strings_of(v, nl_id_keys, nl_add_id);
}


/* The value of every cookie of a Cookie header. */
static void
nl_cookies(const char *h)
{
    char        *copy, *part, *save, *eq;

    copy = strdup(h);

    for (part = strtok_r(copy, ";", &save); part != NULL;
         part = strtok_r(NULL, ";", &save))
    {
        eq = strchr(part, '=');
        if (eq != NULL) {
            nl_add_id(eq + 1);
        }
    }

    free(copy);
}


static long
nl_request(const char *method, const char *path, const char *const *hdrs,
    const void *body, size_t len)
{
    char            *url;
    long             status;
    xf_http_resp_t   resp;

    ck_assert_int_ge(asprintf(&url, "%s%s", nginx->url, path), 0);
    xf_http_request(method, url, hdrs, body, len, &resp);
    status = resp.status;
    xf_http_resp_free(&resp);
    free(url);

    ck_assert_msg(status != 0, "%s %s: no answer", method, path);

    return status;
}


static void
nl_replay(json_t *rec)
{
    char              *path;
    size_t             i;
    json_t            *raw, *h;
    const char        *query;
    xf_capture_req_t   r;

    query = json_string_value(json_object_get(rec, "query"));

    ck_assert_int_ge(asprintf(&path, "%s%s",
                              json_string_value(json_object_get(rec, "path")),
                              query ? query : ""), 0);

    raw = json_object_get(rec, "rawHeaders");

    for (i = 0; i < json_array_size(raw); i++) {
        h = json_array_get(raw, i);

        if (strcasecmp(json_string_value(json_array_get(h, 0)), "Cookie")
            == 0)
        {
            nl_cookies(json_string_value(json_array_get(h, 1)));
        }
    }

    xf_capture_req(rec, &r);

    (void) nl_request(r.method, path, (const char *const *) r.headers,
                      strcmp(r.method, "POST") == 0 || r.len ? r.body : NULL,
                      r.len);

    xf_capture_req_free(&r);
    free(path);
}


/*
 * Requests that end as dead letters, carrying identifier id: the body or
 * query cannot be stripped as one event object.
 */
static void
nl_dead_letters(const char *id)
{
    char               *b, *q, *enc;
    size_t              i, n;
    const char *const   form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL
    };

    /* events that are not objects: each one a dead letter */
    ck_assert_int_ge(asprintf(&b, "[\"%s\",[\"%s\"],{\"distinct_id\":\"%s\","
                              "\"event\":\"e\"}]", id, id, id), 0);
    (void) nl_request("POST", "/collect", NULL, b, strlen(b));
    free(b);

    /* NDJSON cut short: the request's dead letter */
    ck_assert_int_ge(asprintf(&b, "{\"event\":\"e\",\"distinct_id\":\"%s\"}\n"
                              "{\"event\":\"e\",\"distinct_id\":\"%s\",", id,
                              id), 0);
    (void) nl_request("POST", "/collect", NULL, b, strlen(b));
    free(b);

    /* a wrapper whose events are not where the rules look, broken */
    ck_assert_int_ge(asprintf(&b, "{\"batch\":[{\"userId\":\"%s\"}],"
                              "\"x\":", id), 0);
    (void) nl_request("POST", "/collect", NULL, b, strlen(b));
    free(b);

    /* a form whose data is not base64 but holds the id */
    ck_assert_int_ge(asprintf(&b, "data=*%s*&gzip=0", id), 0);
    (void) nl_request("POST", "/sa.gif?project=default", form, b, strlen(b));
    free(b);

    /* a GET beacon with the id in its (broken) query */
    n = strlen(id);
    enc = malloc(3 * n + 1);
    ck_assert_ptr_nonnull(enc);

    for (i = 0, q = enc; i < n; i++) {
        if ((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')
            || (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '.')
        {
            *q++ = id[i];
        } else {
            q += sprintf(q, "%%%02X", (unsigned char) id[i]);
        }
    }

    *q = '\0';

    ck_assert_int_ge(asprintf(&b, "/sa.gif?project=default&data=*%s*&"
                              "distinct_id=%s", enc, id), 0);
    (void) nl_request("GET", b, NULL, NULL, 0);
    free(b);
    free(enc);

    /*
     * A wrapper that parses but is refused as a whole (over
     * xflow_max_events): its events sit where no rule looks.
     */
    b = malloc(1001 * (strlen(id) + 64) + 64);
    ck_assert_ptr_nonnull(b);
    q = b + sprintf(b, "{\"batch\":[");
    for (i = 0; i < 1001; i++) {
        q += sprintf(q, "%s{\"type\":\"track\",\"event\":\"e\","
                     "\"userId\":\"%s\"}", i ? "," : "", id);
    }
    q += sprintf(q, "]}");
    (void) nl_request("POST", "/v1/batch", NULL, b, q - b);
    free(b);

    /* a body over the dead letter's 16 KiB, not closed: cut there */
    b = malloc(24 * 1024 + strlen(id) + 64);
    ck_assert_ptr_nonnull(b);
    q = b;
    *q++ = '[';
    while (q - b < 24 * 1024) {
        q += sprintf(q, "{\"distinct_id\":\"%s\"},", id);
    }
    n = q - b;
    (void) nl_request("POST", "/collect", NULL, b, n);
    free(b);
}


/* ------------------------------------------------------------- check */

static void
nl_check_topics(size_t *nevents)
{
    size_t            t, i, j;
    int64_t           count, last;
    xf_kafka_msgs_t   out;
    xf_kafka_msg_t   *m;

    *nevents = 0;

    for (t = 0; t < NL_NTOPICS; t++) {

        /* until the count holds still: nothing more is in flight */
        last = -1;
        for (i = 0; i < 50; i++) {
            count = xf_kafka_count(kafka, nl_topics[t]);
            if (count == last) {
                break;
            }
            last = count;
            xf_sleep_ms(300);
        }

        memset(&out, 0, sizeof(out));

        if (count > 0) {
            xf_kafka_consume(kafka, nl_topics[t], (size_t) count, 10000, 0,
                             &out);
        }

        fprintf(stderr, "nolink: %s: %lld messages\n", nl_topics[t],
                (long long) count);

        for (i = 0; i < out.n; i++) {
            m = &out.msgs[i];

            for (j = 0; j < nl_nids; j++) {
                ck_assert_msg(m->key == NULL
                              || xf_memstr(m->key, m->key_len, nl_ids[j])
                                 == NULL,
                              "%s: key \"%s\" holds identifier %s",
                              nl_topics[t], m->key, nl_ids[j]);
                ck_assert_msg(m->value == NULL
                              || xf_memstr(m->value, m->value_len,
                                           nl_ids[j]) == NULL,
                              "%s: message holds identifier %s: %.400s",
                              nl_topics[t], nl_ids[j], m->value);
            }

            if (t == 0) {
                (*nevents)++;

                /* the key is the id's reference, as in the event */
                if (m->key != NULL && m->key_len > 0) {
                    ck_assert_msg(m->key_len == NL_REF_LEN
                                  && strspn(m->key, "ABCDEFGHIJKLMNOPQRSTUV"
                                            "WXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789-_") == NL_REF_LEN,
                                  "key \"%s\" is not a reference", m->key);
                    ck_assert_msg(xf_memstr(m->value, m->value_len, m->key)
                                  != NULL, "key %s is not in the event: "
                                  "%.300s", m->key, m->value);
                }
            }
        }

        xf_kafka_msgs_free(&out);
    }
}


START_TEST(test_no_raw_identifier)
{
    size_t         i, nevents, before;
    json_t        *doc, *recs, *rec, *dec;
    json_error_t   err;

    fprintf(stderr, "nolink: %s\n", nl_files[_i]);

    doc = json_load_file(nl_files[_i], 0, &err);
    ck_assert_msg(doc != NULL, "%s: %s", nl_files[_i], err.text);

    recs = json_object_get(doc, "serverRecords");
    ck_assert(json_is_array(recs));

    /* what identifies the user, as the SDK sent it */
    json_array_foreach(recs, i, rec) {
        dec = json_object_get(rec, "decoded");
        nl_walk(dec);

        /* a GET beacon's event is in its query (Mixpanel, Sensors) */
        nl_walk(json_object_get(rec, "queryParams"));

        if (json_object_get(json_object_get(rec, "headers"), "cookie")) {
            nl_cookies(json_string_value(json_object_get(
                json_object_get(rec, "headers"), "cookie")));
        }
    }

    before = nl_nids;
    nl_add_id(NL_EXTRA_ID);
    ck_assert_msg(before > 0, "%s: no identifier found", nl_files[_i]);

    nl_start();

    json_array_foreach(recs, i, rec) {
        nl_replay(rec);
    }

    for (i = 0; i < nl_nids; i++) {
        nl_dead_letters(nl_ids[i]);
    }

    nl_check_topics(&nevents);
    fprintf(stderr, "nolink: %zu identifiers, %zu events\n", nl_nids,
            nevents);

    json_decref(doc);
}
END_TEST


START_TEST(test_captures_present)
{
    ck_assert_msg(nl_nfiles > 0, "no capture in %s/*.json", XF_TEST_CAPTURES);
}
END_TEST


Suite *
make_nolink_suite(void)
{
    Suite  *s;
    TCase  *tc;

    nl_nfiles = xf_test_captures(nl_files, NL_MAX_CAPTURES);

    s = suite_create("nolink");

    tc = xf_tcase(s, "captures", 120, nl_setup, nl_teardown);
    tcase_add_test(tc, test_captures_present);
    tcase_add_loop_test(tc, test_no_raw_identifier, 0, (int) nl_nfiles);

    return s;
}
