/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-format.c - the format adapters: what each one extracts, its
 * nested layers, per-event dead letters (non-objects, oversized events,
 * missing fields, bad crc, encrypted payloads) next to good events,
 * request errors (bad base64, bad percent-encoding, duplicate fields,
 * invalid JSON, depth, too many events, empty bodies), the decoded
 * budget against a gzip bomb inside base64, automatic detection, and an
 * allocation-failure walk that must neither crash nor leak.
 */

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "xf_base64.h"
#include "xf_form.h"
#include "xf_format.h"
#include "xf_unit_format.h"


static xf_status_t
run_str(xf_format_t fmt, xf_method_t m, const char *path, const char *query,
    const char *auth, const char *cookie, const char *body)
{
    return run_req(fmt, m, path, query, auth, cookie, body, strlen(body));
}


/* base64 of s, percent-encoded as a form value; malloc'd, NUL-ended. */

static char *
b64_form(const void *s, size_t len)
{
    size_t   n;
    u_char  *b, *f;

    b = malloc(xf_base64_encoded_len(len) + 1);
    f = malloc(3 * xf_base64_encoded_len(len) + 1);
    ck_assert(b != NULL && f != NULL);

    n = xf_base64_encode(b, s, len, XF_BASE64_STD);
    n = xf_form_encode(f, b, n);
    f[n] = '\0';
    free(b);

    return (char *) f;
}


/* ----------------------------------------------------------------- json */

START_TEST(test_json_single)
{
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/collect", "",
                         "{\"event\":\"a\\u0062\",\"user_id\":42,"
                         "\"project\":\"p\"}"), XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.format, XF_FMT_JSON);
    ck_assert_int_eq(up.reply, XF_REPLY_JSON);
    ck_str(up.events[0].name, "ab");
    ck_str(up.events[0].distinct_id, "42");
    ck_str(up.events[0].app, "p");
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_assert_uint_eq(up.decoded, 0);
    /* the body itself is the layer the event was read from */
    ck_assert_uint_eq(up.final, strlen("{\"event\":\"a\\u0062\",\"user_id\":42,"
                                       "\"project\":\"p\"}"));
}
END_TEST


START_TEST(test_json_fallbacks)
{
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "app=q%20a",
                         "{\"type\":\"t\",\"anonymousId\":\"x\"}\n"
                         "{\"distinct_id\":\"d\",\"uid\":\"u\"}\n"), XF_OK);
    ck_assert_uint_eq(up.n, 2);
    ck_str(up.events[0].name, "t");
    ck_str(up.events[0].distinct_id, "x");
    ck_str(up.events[0].app, "q a");
    ck_str(up.events[1].name, "");
    ck_str(up.events[1].distinct_id, "d");
    ck_str(up.app, "q a");
}
END_TEST


/* Non-objects and oversized events are dead letters; good ones stay. */

START_TEST(test_json_dead_letters)
{
    char  big[200];

    lim.max_event_size = 100;
    memset(big, 0, sizeof(big));
    snprintf(big, sizeof(big), "[{\"event\":\"a\"}, 1, \"x\", null, [], "
             "{\"event\":\"%0120d\"}, {\"event\":\"b\"}]", 0);

    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "", big), XF_OK);
    ck_assert_uint_eq(up.n, 7);
    ck_assert_uint_eq(up.rejected, 5);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_assert_int_eq(up.events[1].error, XF_ERR_NOT_OBJECT);
    ck_assert_uint_eq(up.events[1].len, 1);
    ck_assert_mem_eq(up.events[1].p, "1", 1);
    ck_assert_int_eq(up.events[2].error, XF_ERR_NOT_OBJECT);
    ck_assert_mem_eq(up.events[2].p, "\"x\"", 3);
    ck_assert_int_eq(up.events[3].error, XF_ERR_NOT_OBJECT);
    ck_assert_int_eq(up.events[4].error, XF_ERR_NOT_OBJECT);
    ck_assert_int_eq(up.events[5].error, XF_ERR_EVENT_TOO_LARGE);
    ck_assert_uint_gt(up.events[5].len, 100);
    ck_assert_int_eq(up.events[6].error, XF_OK);
    ck_str(up.events[6].name, "b");
}
END_TEST


typedef struct {
    const char   *body;
    size_t        len;
    xf_status_t   rc;
} test_req_err_t;

#define REQ_ERR(body, rc)  { body, sizeof(body) - 1, rc }

static const test_req_err_t  test_json_errors[] = {
    REQ_ERR("", XF_ERR_EMPTY),
    REQ_ERR(" \n\t ", XF_ERR_EMPTY),
    REQ_ERR("{", XF_ERR_JSON_SYNTAX),
    REQ_ERR("[{\"a\":1},]", XF_ERR_JSON_SYNTAX),
    REQ_ERR("{}{}", XF_ERR_JSON_SYNTAX),
    REQ_ERR("{\"a\":\"\0\"}", XF_ERR_JSON_SYNTAX),
    REQ_ERR("{\"a\":1}\0", XF_ERR_JSON_SYNTAX),
    REQ_ERR("{\"a\":\"\xff\"}", XF_ERR_JSON_UTF8),
    REQ_ERR("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]"
            "]]]]]]]]]]]]]]]]]]", XF_ERR_JSON_DEPTH),
};


START_TEST(test_json_request_errors)
{
    const test_req_err_t  *t = &test_json_errors[_i];
    xf_status_t            rc;

    rc = run_req(XF_FMT_JSON, XF_METHOD_POST, "/", "", NULL, NULL, t->body,
                 t->len);
    ck_assert_msg(rc == t->rc, "case %d: %s", _i, xf_strerror(rc));
}
END_TEST


START_TEST(test_json_limits)
{
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "", "[]"), XF_OK);
    ck_assert_uint_eq(up.n, 0);

    lim.max_events = 2;
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "[{},{}]"), XF_OK);
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "[{},{},{}]"), XF_ERR_TOO_MANY_EVENTS);
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "{}\n{}\n{}"), XF_ERR_TOO_MANY_EVENTS);

    lim.max_decoded = 4;
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "[{},{}]"), XF_ERR_TOO_LARGE);

    /* depth counts from the top: the array is one level */
    lim.max_decoded = 1024;
    lim.max_depth = 2;
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "[{\"a\":1}]"), XF_OK);
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "[{\"a\":{}}]"), XF_ERR_JSON_DEPTH);
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "",
                         "{\"a\":{}}"), XF_OK);
}
END_TEST


/* -------------------------------------------------------------- sensors */

#define SA_EVENT  "{\"type\":\"track\",\"event\":\"$pageview\"," \
                  "\"distinct_id\":\"u1\",\"properties\":{\"$lib\":\"js\"," \
                  "\"note\":\"\\u9001 +/= \\\"q\\\"\"}}"
#define SA_PROFILE  "{\"type\":\"profile_set\",\"distinct_id\":\"u2\"," \
                    "\"properties\":{\"a\":1},\"project\":\"other\"}"


/* A Sensors form: data or data_list, optional gzip and crc fields. */

static char *
sa_form(const char *field, const char *json, int gz, const char *extra,
    int crc_mode)
{
    char     *f, *out;
    u_char   *z;
    size_t    n, zn;
    u_char    b[8192];
    int32_t   h;

    if (gz) {
        z = xf_unit_gzip(json, strlen(json), &zn);
        f = b64_form(z, zn);
        free(z);

    } else {
        f = b64_form(json, strlen(json));
    }

    /* the hash is over the base64 text, i.e. the decoded field */
    ck_assert_int_eq(xf_form_decode((u_char *) f, strlen(f), 0, b, &n),
                     XF_OK);
    h = xf_java_string_hash(b, n);

    out = malloc(strlen(f) + 256);

    if (crc_mode == 1) {
        sprintf(out, "%s=%s&ext=crc%%3D%d%s", field, f, (int) h, extra);
    } else if (crc_mode == 2) {
        sprintf(out, "crc=%d&gzip=%d&%s=%s%s", (int) h, gz, field, f, extra);
    } else if (crc_mode == 3) {
        sprintf(out, "crc=%d&%s=%s%s", (int) h + 1, field, f, extra);
    } else {
        sprintf(out, "%s=%s%s%s", field, f, gz ? "&gzip=1" : "", extra);
    }

    free(f);

    return out;
}


START_TEST(test_sensors_image)
{
    char  *f, *q;

    f = sa_form("data", SA_EVENT, 0, "", 1);
    q = malloc(strlen(f) + 32);
    sprintf(q, "project=shop&%s", f);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_GET, "/sa.gif", q, NULL),
                     XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_GIF);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_event_json(0, SA_EVENT);
    ck_str(up.events[0].name, "$pageview");
    ck_str(up.events[0].distinct_id, "u1");
    ck_str(up.events[0].app, "shop");
    ck_str(up.app, "shop");
    ck_assert_uint_gt(up.decoded, 0);
    /* only the JSON the base64 held: the query is not counted again */
    ck_assert_uint_eq(up.final, strlen(SA_EVENT));

    /* the same by auto detection, and as a sendBeacon body */
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_GET, "/sa.gif", q, NULL),
                     XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SENSORS);
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/log",
                         "project=shop", f), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SENSORS);
    ck_assert_int_eq(up.reply, XF_REPLY_JSON);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.events[0].error, XF_OK);

    free(q);
    free(f);
}
END_TEST


/* Apps: crc field, gzip=1, data_list; profile events have no name. */

START_TEST(test_sensors_app_batch)
{
    char  *f;

    f = sa_form("data_list", "[" SA_EVENT "," SA_PROFILE "]", 1, "", 2);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa",
                         "project=p", f), XF_OK);
    ck_assert_uint_eq(up.n, 2);
    ck_assert_uint_eq(up.rejected, 0);
    ck_event_json(0, SA_EVENT);
    ck_event_json(1, SA_PROFILE);
    ck_str(up.events[1].name, "profile_set");
    ck_str(up.events[1].distinct_id, "u2");
    ck_str(up.events[0].app, "p");
    ck_str(up.events[1].app, "other");

    free(f);
}
END_TEST


/* A wrong crc: every event kept, every event a dead letter. */

START_TEST(test_sensors_crc_mismatch)
{
    char  *f;

    f = sa_form("data_list", "[" SA_EVENT "," SA_EVENT "]", 0, "", 3);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", f),
                     XF_OK);
    ck_assert_uint_eq(up.n, 2);
    ck_assert_uint_eq(up.rejected, 2);
    ck_assert_int_eq(up.events[0].error, XF_ERR_CRC);
    ck_assert_int_eq(up.events[1].error, XF_ERR_CRC);
    ck_event_json(1, SA_EVENT);
    free(f);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "",
                         "data=e30%3D&ext=crc%3Dabc"), XF_OK);
    ck_assert_int_eq(up.events[0].error, XF_ERR_CRC);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "",
                         "data=e30%3D&crc=99999999999"), XF_OK);
    ck_assert_int_eq(up.events[0].error, XF_ERR_CRC);

    /* {} has no type: a missing field, but the crc matches */
    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "",
                         "data=e30%3D&crc=3059451"), XF_OK);
    ck_assert_int_eq(up.events[0].error, XF_ERR_MISSING_FIELD);
}
END_TEST


START_TEST(test_sensors_encrypted)
{
    static const char  *gz[] = { "9", "13", "7" };
    static const xf_status_t  want[] = {
        XF_ERR_ENCRYPTED, XF_ERR_ENCRYPTED, XF_ERR_ENCODING_UNKNOWN
    };
    char   body[128];
    int    i;

    for (i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "crc=1&gzip=%s&data_list=QUJD%%2Bx%%3D%%3D"
                 "&project=p", gz[i]);
        ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "",
                             body), XF_OK);
        ck_assert_uint_eq(up.n, 1);
        ck_assert_uint_eq(up.rejected, 1);
        ck_assert_int_eq(up.events[0].error, want[i]);
        ck_assert_uint_eq(up.events[0].len, 8);
        ck_assert_mem_eq(up.events[0].p, "QUJD+x==", 8);
        ck_str(up.events[0].app, "p");
    }
}
END_TEST


static const test_req_err_t  test_sensors_errors[] = {
    REQ_ERR("data=e30%", XF_ERR_FORM),
    REQ_ERR("data=e30%3D&x=%zz", XF_ERR_FORM),
    REQ_ERR("data=e30%3D&data=e30%3D", XF_ERR_FORM),
    REQ_ERR("data=e30%3D&d%61ta=e30%3D", XF_ERR_FORM),
    REQ_ERR("data=e30%3D&data_list=W10%3D", XF_ERR_FORM),
    REQ_ERR("data=e30*", XF_ERR_BASE64),
    REQ_ERR("data=e30%3D%3D", XF_ERR_BASE64),
    REQ_ERR("data=e3%000", XF_ERR_BASE64),
    REQ_ERR("data=e3 0", XF_ERR_BASE64),
    REQ_ERR("data=", XF_ERR_EMPTY),
    REQ_ERR("project=x", XF_ERR_EMPTY),
    REQ_ERR("data=ew%3D%3D", XF_ERR_JSON_SYNTAX),
    REQ_ERR("data=H4sIAAAAAAAAAw%3D%3D", XF_ERR_TRUNCATED),
};


START_TEST(test_sensors_request_errors)
{
    const test_req_err_t  *t = &test_sensors_errors[_i];
    xf_status_t            rc;

    rc = run_req(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", NULL, NULL,
                 t->body, t->len);
    ck_assert_msg(rc == t->rc, "case %d: %s, expected %s", _i,
                  xf_strerror(rc), xf_strerror(t->rc));
}
END_TEST


/* A gzip bomb inside base64 stops at the decoded budget. */

START_TEST(test_sensors_gzip_bomb)
{
    char    *f;
    char    *json;
    size_t   n;

    n = 4 * 1024 * 1024;
    json = malloc(n + 1);
    memset(json, ' ', n);
    json[0] = '[';
    json[n - 1] = ']';
    json[n] = '\0';

    f = sa_form("data_list", json, 1, "", 0);
    ck_assert_uint_lt(strlen(f), 64 * 1024);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", f),
                     XF_ERR_TOO_LARGE);
    ck_assert_uint_le(strlen(f) + up.decoded, lim.max_decoded);

    lim.max_decoded = 8 * 1024 * 1024;
    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", f),
                     XF_OK);
    ck_assert_uint_eq(up.n, 0);
    ck_assert_uint_ge(up.decoded, n);

    free(f);
    free(json);
}
END_TEST


/* Every layer counts: find the exact budget a request needs. */

START_TEST(test_sensors_budget)
{
    char    *f;
    size_t   need;

    f = sa_form("data", SA_EVENT, 1, "", 1);

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", f),
                     XF_OK);
    need = strlen(f) + up.decoded;
    ck_assert_uint_gt(up.decoded, strlen(SA_EVENT));

    lim.max_decoded = need;
    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", f),
                     XF_OK);
    lim.max_decoded = need - 1;
    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", f),
                     XF_ERR_TOO_LARGE);

    free(f);
}
END_TEST


/* '+' the sender did not percent-encode is still base64's '+'. */

START_TEST(test_sensors_raw_plus)
{
    /* base64 of {"type":"a","x":"~~~>"} has a '+' */
    char         body[128];
    u_char       b64[64];
    size_t       n;
    const char  *json = "{\"type\":\"a\",\"x\":\"~~~>\"}";

    n = xf_base64_encode(b64, (const u_char *) json, strlen(json),
                         XF_BASE64_STD);
    ck_assert_ptr_nonnull(memchr(b64, '+', n));
    snprintf(body, sizeof(body), "data=%.*s&crc=%d", (int) n, b64,
             (int) xf_java_string_hash(b64, n));

    ck_assert_int_eq(run(XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "", body),
                     XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_event_json(0, json);
}
END_TEST


/* -------------------------------------------------------------- posthog */

#define PH_EVENT(name, id)                                                  \
    "{\"event\":\"" name "\",\"properties\":{\"distinct_id\":\"" id "\","   \
    "\"$lib\":\"web\"},\"uuid\":\"1\"}"


START_TEST(test_posthog_batch)
{
    const char  *body = "{\"api_key\":\"phc_k\",\"batch\":["
                        PH_EVENT("$pageview", "d1") ","
                        PH_EVENT("click", "d2") "],\"sent_at\":\"x\"}";

    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/e/", "ip=1&_=1",
                         body), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG);
    ck_assert_uint_eq(up.n, 2);
    ck_assert_uint_eq(up.rejected, 0);
    ck_event_json(0, PH_EVENT("$pageview", "d1"));
    ck_str(up.events[1].name, "click");
    ck_str(up.events[1].distinct_id, "d2");
    ck_str(up.events[1].app, "phc_k");
    ck_str(up.app, "phc_k");
}
END_TEST


START_TEST(test_posthog_tokens)
{
    ck_assert_int_eq(run(XF_FMT_POSTHOG, XF_METHOD_POST, "/capture/", "",
                         "[{\"event\":\"a\",\"distinct_id\":\"t\","
                         "\"api_key\":\"k1\"},"
                         "{\"event\":\"b\",\"$distinct_id\":\"t2\","
                         "\"properties\":{\"token\":\"k2\"}},"
                         "{\"event\":\"c\",\"properties\":{}},"
                         "{\"properties\":{\"distinct_id\":\"x\"}}]"),
                     XF_OK);
    ck_assert_uint_eq(up.n, 4);
    ck_str(up.events[0].app, "k1");
    ck_str(up.events[0].distinct_id, "t");
    ck_str(up.events[1].app, "k2");
    ck_str(up.events[1].distinct_id, "t2");
    ck_assert_int_eq(up.events[2].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[3].error, XF_ERR_MISSING_FIELD);
    ck_assert_uint_eq(up.rejected, 2);
}
END_TEST


/*
 * An event's fields from the members the split found and one walk of
 * its properties: the same priorities as one lookup per member
 * (properties' distinct_id before the top-level ids, even empty; the
 * top-level keys before properties' token, a found empty one too; the
 * first of duplicates; a member neither string nor number absent), in
 * an array and in a batch.
 */
START_TEST(test_posthog_fields_found_once)
{
    size_t  i, k;
    char    body[256];

    static const struct {
        const char  *event;
        const char  *id;            /* NULL: no id */
        const char  *app;           /* NULL: no app */
    } cases[] = {
        { "{\"event\":\"e\",\"distinct_id\":\"t\",\"properties\":"
          "{\"distinct_id\":\"p\",\"token\":\"pt\"},\"api_key\":\"k\"}",
          "p", "k" },
        { "{\"event\":\"e\",\"distinct_id\":\"t\",\"properties\":"
          "{\"distinct_id\":\"\",\"$token\":\"pt\"}}", NULL, "pt" },
        { "{\"event\":\"e\",\"$distinct_id\":\"t2\",\"distinct_id\":"
          "null,\"properties\":{\"distinct_id\":7}}", "7", NULL },
        { "{\"event\":\"e\",\"$distinct_id\":\"t2\",\"distinct_id\":"
          "null,\"properties\":{\"distinct_id\":{}}}", "t2", NULL },
        { "{\"event\":\"e\",\"distinct_id\":\"t\",\"token\":\"\","
          "\"properties\":{\"token\":\"pt\"}}", "t", NULL },
        { "{\"event\":\"e\",\"properties\":[1],\"distinct_id\":\"t\","
          "\"$token\":\"k\\u0041\"}", "t", "kA" },
        { "{\"event\":\"e\",\"properties\":{\"token\":\"a\","
          "\"$token\":\"b\",\"distinct_id\":\"p\",\"distinct_id\":"
          "\"q\"},\"distinct_id\":\"t\"}", "p", "a" },
        { "{\"properties\":{\"distinct_id\":\"p\"},\"properties\":"
          "{\"distinct_id\":\"q\"},\"event\":\"e\"}", "p", NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (k = 0; k < 2; k++) {
            snprintf(body, sizeof(body), k ? "{\"batch\":[%s]}" : "[%s]",
                     cases[i].event);

            ck_assert_int_eq(run(XF_FMT_POSTHOG, XF_METHOD_POST,
                                 k ? "/batch/" : "/capture/", "", body),
                             XF_OK);
            ck_assert_uint_eq(up.n, 1);
            ck_str(up.events[0].name, "e");

            if (cases[i].id != NULL) {
                ck_str(up.events[0].distinct_id, cases[i].id);

            } else {
                ck_assert_uint_eq(up.events[0].distinct_id.len, 0);
            }

            if (cases[i].app != NULL) {
                ck_str(up.events[0].app, cases[i].app);

            } else {
                ck_assert_uint_eq(up.events[0].app.len, 0);
            }

            ck_assert_int_eq(up.events[0].error, cases[i].id
                             ? XF_OK : XF_ERR_MISSING_FIELD);
        }
    }
}
END_TEST


/* gzip-js with or without the query flag, and sendBeacon's base64. */

START_TEST(test_posthog_layers)
{
    u_char      *z;
    char        *f, *body;
    size_t       zn;
    const char  *json = "[" PH_EVENT("a", "d") "]";

    z = xf_unit_gzip(json, strlen(json), &zn);

    ck_assert_int_eq(run_req(XF_FMT_AUTO, XF_METHOD_POST, "/i/v0/e/",
                             "compression=gzip-js", NULL, NULL, z, zn),
                     XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
    ck_assert_uint_eq(up.n, 1);
    ck_event_json(0, PH_EVENT("a", "d"));
    ck_assert_uint_eq(up.decoded, strlen(json));
    ck_assert_uint_eq(up.final, strlen(json));

    ck_assert_int_eq(run_req(XF_FMT_POSTHOG, XF_METHOD_POST, "/batch/", "",
                             NULL, NULL, z, zn), XF_OK);
    ck_assert_uint_eq(up.n, 1);

    f = b64_form(json, strlen(json));
    body = malloc(strlen(f) + 8);
    sprintf(body, "data=%s", f);

    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/ingest/e/",
                         "compression=base64", body), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
    ck_assert_uint_eq(up.n, 1);
    ck_event_json(0, PH_EVENT("a", "d"));

    /* the same form on an unknown path is found by its query */
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/x",
                         "compression=base64", body), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);

    ck_assert_int_eq(run(XF_FMT_POSTHOG, XF_METHOD_POST, "/e/",
                         "compression=lz64", "N4Ig"),
                     XF_ERR_ENCODING_UNKNOWN);

    free(body);
    free(f);
    free(z);
}
END_TEST


START_TEST(test_posthog_config)
{
    u_char      *z;
    size_t       zn;
    const char  *flags = "{\"token\":\"phc_f\",\"distinct_id\":\"d\"}";

    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_GET,
                         "/array/phc_abc/config.js", "", NULL), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG_CONFIG);
    ck_assert_uint_eq(up.n, 0);
    ck_str(up.token, "phc_abc");

    ck_assert_int_eq(run(XF_FMT_POSTHOG, XF_METHOD_GET,
                         "/ph/array/phc%5Fx/config", "", NULL), XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG_CONFIG);
    ck_str(up.token, "phc_x");

    z = xf_unit_gzip(flags, strlen(flags), &zn);
    ck_assert_int_eq(run_req(XF_FMT_AUTO, XF_METHOD_POST, "/flags/", "v=2",
                             NULL, NULL, z, zn), XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG_CONFIG);
    ck_str(up.token, "phc_f");
    free(z);

    /* a body that cannot be read still gets a config answer */
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/decide/", "v=3",
                         "{bad"), XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG_CONFIG);
    ck_assert_uint_eq(up.token.len, 0);

    /* not a config path: no token segment */
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_GET, "/array//config.js",
                         "", NULL), XF_ERR_EMPTY);
}
END_TEST


/* -------------------------------------------------------------- segment */

/* base64url(SHA-256(key)[0..16)), computed apart */
#define WK_BASIC_FP  "SkhaAzDOcDf_aS6cwvHzoQ"       /* "wk_basic" */
#define WK_BODY_FP   "Iw2DWNyOiJC0xY3utikS7g"       /* "body" */
#define WK_WK_FP     "zPOqyGTodn4j5U4RS2hpHg"       /* "wk" */
#define WK_RK_FP     "2o0Xb3OVWbH7nCtky-eTzg"       /* "rk" */

START_TEST(test_segment_batch)
{
    /* Basic base64("wk_basic:") */
    ck_assert_int_eq(run_str(XF_FMT_AUTO, XF_METHOD_POST, "/v1/batch", "",
                             "Basic d2tfYmFzaWM6", NULL,
                             "{\"batch\":[{\"type\":\"track\","
                             "\"event\":\"Buy\",\"userId\":\"u\"},"
                             "{\"type\":\"identify\",\"userId\":\"\","
                             "\"anonymousId\":\"a\"},"
                             "{\"type\":\"track\",\"userId\":\"u\"},"
                             "{\"type\":\"page\"}],\"writeKey\":\"body\"}"),
                     XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SEGMENT);
    ck_assert_int_eq(up.reply, XF_REPLY_SEGMENT);

    /*
     * A Basic credential is never the app as sent: "wk:" and the first
     * 128 bits of SHA-256("wk_basic"), base64url.
     */
    ck_str(up.app, "wk:" WK_BASIC_FP);
    ck_assert_uint_eq(up.n, 4);
    ck_str(up.events[0].name, "Buy");
    ck_str(up.events[0].app, "wk:" WK_BASIC_FP);
    ck_str(up.events[1].name, "identify");
    ck_str(up.events[1].distinct_id, "a");
    ck_assert_int_eq(up.events[2].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[3].error, XF_ERR_MISSING_FIELD);
}
END_TEST


START_TEST(test_segment_single)
{
    static const char  body[] = "{\"event\":\"Signed Up\",\"anonymousId\":"
                                "\"an\",\"writeKey\":\"wk\"}";

    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/v1/t", "", body),
                     XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SEGMENT);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_assert_uint_eq(up.events[0].len, sizeof(body) - 1);
    ck_assert_mem_eq(up.events[0].p, body, sizeof(body) - 1);
    ck_str(up.events[0].name, "Signed Up");
    ck_str(up.events[0].distinct_id, "an");
    ck_str(up.events[0].app, "wk:" WK_WK_FP);

    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/page", "",
                         "{\"userId\":7,\"name\":\"Home\"}"), XF_OK);
    ck_str(up.events[0].name, "page");
    ck_str(up.events[0].distinct_id, "7");

    /* RudderStack beacons: the key in the query */
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/beacon/v1/batch",
                         "writeKey=rk", "{\"batch\":[{\"type\":\"screen\","
                         "\"userId\":\"u\"}]}"), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SEGMENT);
    ck_str(up.events[0].app, "wk:" WK_RK_FP);
    ck_str(up.events[0].name, "screen");

    /* a bad Authorization header is ignored */
    ck_assert_int_eq(run_str(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/i", "",
                             "Basic !!!", NULL, "{\"userId\":\"u\"}"),
                     XF_OK);
    ck_assert_uint_eq(up.app.len, 0);
    ck_str(up.events[0].name, "identify");
}
END_TEST


/*
 * An event's fields come from the members the split found while it
 * validated the event: the same priorities as one lookup per member
 * (the first of duplicates, userId before anonymousId, "userId": ""
 * with an anonymousId, a member neither string nor number absent, the
 * path's type for an empty one), in a batch and in a single call.
 */
START_TEST(test_segment_fields_found_once)
{
    size_t  i, k;
    char    body[256];

    static const struct {
        const char  *path;
        const char  *event;
        const char  *name;          /* NULL: no name */
        const char  *id;            /* NULL: no id */
    } cases[] = {
        { "/v1/batch", "{\"type\":\"track\",\"userId\":\"\","
          "\"anonymousId\":\"\"}", NULL, NULL },
        { "/v1/batch", "{\"type\":\"track\",\"event\":null,"
          "\"userId\":null,\"anonymousId\":\"a\"}", NULL, "a" },
        { "/v1/t", "{\"type\":\"\",\"event\":\"E\",\"userId\":\"u\"}",
          "E", "u" },
        { "/v1/batch", "{\"type\":\"page\",\"event\":\"E\","
          "\"userId\":\"u\\u0041\"}", "page", "uA" },
        { "/v1/batch", "{\"type\":\"track\",\"event\":\"A\","
          "\"event\":\"B\",\"userId\":\"u\",\"userId\":\"v\"}",
          "A", "u" },
        { "/v1/batch", "{\"type\":7,\"userId\":8}", "7", "8" },
        { "/v1/p", "{\"userId\":{\"x\":1},\"anonymousId\":\"an\"}",
          "page", "an" },
        { "/v1/batch", "{\"userId\":\"u\",\"anonymousId\":\"an\"}",
          NULL, "u" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (k = 0; k < 2; k++) {
            if (k == 0) {
                snprintf(body, sizeof(body), "%s", cases[i].event);

            } else {
                /* the same event in a batch: found by the array's split */
                snprintf(body, sizeof(body), "{\"batch\":[%s]}",
                         cases[i].event);
            }

            ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST,
                                 cases[i].path, "", body), XF_OK);
            ck_assert_uint_eq(up.n, 1);

            if (cases[i].name != NULL) {
                ck_str(up.events[0].name, cases[i].name);

            } else {
                ck_assert_uint_eq(up.events[0].name.len, 0);
            }

            if (cases[i].id != NULL) {
                ck_str(up.events[0].distinct_id, cases[i].id);

            } else {
                ck_assert_uint_eq(up.events[0].distinct_id.len, 0);
            }

            ck_assert_int_eq(up.events[0].error,
                             cases[i].name && cases[i].id
                             ? XF_OK : XF_ERR_MISSING_FIELD);
        }
    }
}
END_TEST


/* "wk:" and the field reference of key under hash_key. */
static void
ck_keyed_app(xf_str_t app, const char *key)
{
    u_char  want[3 + XF_HASHREF_LEN];

    memcpy(want, "wk:", 3);
    ck_assert_int_eq(xf_hashref(hash_key, XF_HASHREF_FIELD,
                                (const u_char *) key, strlen(key), want + 3),
                     XF_OK);
    ck_assert_uint_eq(app.len, sizeof(want));
    ck_assert_mem_eq(app.data, want, sizeof(want));
}


/*
 * A write key is never the app as sent, wherever it comes from: the
 * body's (and the events that took it) and the query's get the
 * fingerprint a Basic one gets; under xflow_hash_key every one of them
 * is "wk:" and the key's field reference, the one the standard treatment
 * puts in place of an event's "writeKey".
 */
START_TEST(test_segment_write_keys)
{
    const char  *err;

    static const char  batch[] = "{\"batch\":[{\"type\":\"track\","
                                 "\"event\":\"e\",\"userId\":\"u\"},"
                                 "{\"type\":\"page\",\"userId\":\"u\","
                                 "\"writeKey\":\"wk\"}],\"writeKey\":"
                                 "\"body\"}";

    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         batch), XF_OK);
    ck_assert_uint_eq(up.n, 2);
    ck_str(up.app, "wk:" WK_BODY_FP);
    ck_str(up.events[0].app, "wk:" WK_BODY_FP);
    ck_str(up.events[1].app, "wk:" WK_WK_FP);

    err = xf_hashref_create((const u_char *) "0123456789abcdef0123456789"
                            "abcdef", 32, NULL, 0, &xf_alloc_libc,
                            &hash_key);
    ck_assert_ptr_null(err);

    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         batch), XF_OK);
    ck_keyed_app(up.app, "body");
    /* HMAC-SHA-256(key, "f:body")[0..16), computed apart (docs/formats.md
     * gives the openssl command) */
    ck_str(up.app, "wk:aa8VQPSVdpBVdiurNH0EAA");
    ck_keyed_app(up.events[0].app, "body");
    ck_keyed_app(up.events[1].app, "wk");

    ck_assert_int_eq(run_str(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch",
                             "", "Basic d2tfYmFzaWM6", NULL, batch), XF_OK);
    ck_keyed_app(up.app, "wk_basic");
    ck_keyed_app(up.events[0].app, "wk_basic");

    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/beacon/v1/batch",
                         "writeKey=r%6b", "{\"batch\":[{\"type\":"
                         "\"screen\",\"userId\":\"u\"}]}"), XF_OK);
    ck_keyed_app(up.app, "rk");
    ck_keyed_app(up.events[0].app, "rk");

    xf_hashref_destroy(hash_key, &xf_alloc_libc);
    hash_key = NULL;
}
END_TEST


/*
 * A batch's events are validated once, the rest of the wrapper apart:
 * what the whole body is decides all the same (an error anywhere, in the
 * order of the bytes; a wrapper member that is not the first of its
 * name; several objects; more events than allowed).
 */
START_TEST(test_wrapper_once)
{
#define SEG_EV  "{\"type\":\"track\",\"event\":\"a\",\"userId\":\"u\"}"

    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         " {\"sentAt\":\"t\", \"batch\" : [" SEG_EV ","
                         SEG_EV "] ,\"writeKey\":\"wk\"} \n"), XF_OK);
    ck_assert_uint_eq(up.n, 2);
    ck_str(up.app, "wk:" WK_WK_FP);
    ck_str(up.events[1].name, "a");
    ck_assert_mem_eq(up.events[0].p, SEG_EV, strlen(SEG_EV));

    /* invalid after, before, inside the batch */
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "],\"x\":}"),
                     XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"x\":\"\xff\",\"batch\":[" SEG_EV "]}"),
                     XF_ERR_JSON_UTF8);
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV ",\"\xff\"],\"x\":}"),
                     XF_ERR_JSON_UTF8);
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "]"), XF_ERR_JSON_SYNTAX);

    /* too many events, and an error after them: the error */
    lim.max_events = 1;
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "," SEG_EV "]}"),
                     XF_ERR_TOO_MANY_EVENTS);
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "," SEG_EV "],\"x\":tru}"),
                     XF_ERR_JSON_SYNTAX);
    lim.max_events = 100;

    /* the first member of the name decides; several objects are events */
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":1,\"batch\":[" SEG_EV "]}"), XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_uint_eq(up.events[0].len,
                      strlen("{\"batch\":1,\"batch\":[" SEG_EV "]}"));
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "]}\n{\"batch\":[]}"),
                     XF_OK);
    ck_assert_uint_eq(up.n, 2);

    /* the batch's events at their depth in the body */
    lim.max_depth = 2;
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "]}"), XF_ERR_JSON_DEPTH);
    lim.max_depth = 3;
    ck_assert_int_eq(run(XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "",
                         "{\"batch\":[" SEG_EV "]}"), XF_OK);
    lim.max_depth = 32;

#undef SEG_EV
}
END_TEST


/* ------------------------------------------------------------- snowplow */

START_TEST(test_snowplow_post)
{
    ck_assert_int_eq(run_str(XF_FMT_AUTO, XF_METHOD_POST,
                             "/com.snowplowanalytics.snowplow/tp2", "",
                             NULL, "a=1; sp=nu-1",
                             "{\"schema\":\"iglu:com.snowplowanalytics."
                             "snowplow/payload_data/jsonschema/1-0-4\","
                             "\"data\":[{\"e\":\"pv\",\"aid\":\"site\","
                             "\"duid\":\"du\"},{\"e\":\"se\",\"aid\":"
                             "\"site\"},{\"aid\":\"x\"}]}"), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SNOWPLOW);
    ck_assert_int_eq(up.reply, XF_REPLY_JSON);
    ck_assert_uint_eq(up.n, 3);
    ck_str(up.events[0].name, "pv");
    ck_str(up.events[0].app, "site");
    ck_str(up.events[0].distinct_id, "du");
    ck_str(up.events[1].name, "se");
    ck_str(up.events[1].distinct_id, "nu-1");
    ck_assert_int_eq(up.events[2].error, XF_ERR_MISSING_FIELD);
}
END_TEST


START_TEST(test_snowplow_pixel)
{
    ck_assert_int_eq(run_req(XF_FMT_AUTO, XF_METHOD_GET, "/i",
                             "e=pv&aid=s&url=http%3A%2F%2Fx%2F%3Fa%3D1"
                             "&page=A+%22B%22%5C&nul=%00&bad=%FF"
                             "&ue_px=eyJ9-_&nuid=n9", NULL, "sp=c",
                             NULL, 0), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_SNOWPLOW);
    ck_assert_int_eq(up.reply, XF_REPLY_GIF);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_event_json(0, "{\"e\":\"pv\",\"aid\":\"s\",\"url\":\"http://x/?a=1\","
                  "\"page\":\"A \\\"B\\\"\\\\\",\"nul\":\"\\u0000\","
                  "\"bad\":\"\\ufffd\",\"ue_px\":\"eyJ9-_\","
                  "\"nuid\":\"n9\"}");
    ck_str(up.events[0].name, "pv");
    ck_str(up.events[0].app, "s");
    ck_str(up.events[0].distinct_id, "n9");
    ck_assert_uint_eq(up.decoded, up.events[0].len);
    ck_assert_uint_eq(up.final, up.events[0].len);

    ck_assert_int_eq(run(XF_FMT_SNOWPLOW, XF_METHOD_GET, "/i",
                         "e=pv&e=se", NULL), XF_ERR_FORM);
    ck_assert_int_eq(run(XF_FMT_SNOWPLOW, XF_METHOD_GET, "/i",
                         "e=pv&x=%4", NULL), XF_ERR_FORM);
    ck_assert_int_eq(run(XF_FMT_SNOWPLOW, XF_METHOD_GET, "/i", "", NULL),
                     XF_ERR_EMPTY);
}
END_TEST


/* ----------------------------------------------------------------- auto */

typedef struct {
    xf_method_t   method;
    const char   *path;
    const char   *query;
    const char   *body;
    xf_format_t   format;
} test_auto_t;


static const test_auto_t  test_auto[] = {
    { XF_METHOD_POST, "/v1/batch", "", "{}", XF_FMT_SEGMENT },
    { XF_METHOD_POST, "/v1/track/", "", "{}", XF_FMT_SEGMENT },
    { XF_METHOD_POST, "/x/v1/b", "", "{}", XF_FMT_SEGMENT },
    { XF_METHOD_POST, "/tp2", "", "{}", XF_FMT_SNOWPLOW },
    { XF_METHOD_GET, "/i", "e=pv", NULL, XF_FMT_SNOWPLOW },
    { XF_METHOD_POST, "/i", "", "{}", XF_FMT_JSON },
    { XF_METHOD_POST, "/e/", "", "{}", XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/i/v0/e/", "", "{}", XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/batch", "", "{}", XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/capture/", "", "{}", XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/engage/", "", "{}", XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/flags/", "v=2", "{}", XF_FMT_POSTHOG },
    { XF_METHOD_GET, "/array/k/config", "", NULL, XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/sa", "", "data=e30%3D", XF_FMT_SENSORS },
    { XF_METHOD_GET, "/sa.gif", "data=e30%3D", NULL, XF_FMT_SENSORS },
    { XF_METHOD_GET, "/pixel", "data=e30%3D", NULL, XF_FMT_SENSORS },
    { XF_METHOD_POST, "/c", "", "data_list=W10%3D", XF_FMT_SENSORS },
    { XF_METHOD_POST, "/c", "compression=base64", "data=W10%3D",
      XF_FMT_POSTHOG },
    { XF_METHOD_POST, "/c", "", "{\"schema\":\"iglu:com.snowplowanalytics."
      "snowplow/payload_data/jsonschema/1-0-4\",\"data\":[]}",
      XF_FMT_SNOWPLOW },
    { XF_METHOD_POST, "/collect", "", "{\"data\":1}", XF_FMT_JSON },
    { XF_METHOD_POST, "/", "", "[]", XF_FMT_JSON },
    { XF_METHOD_POST, "/track-e", "", "{}", XF_FMT_JSON },
};


START_TEST(test_auto_table)
{
    const test_auto_t  *t = &test_auto[_i];

    (void) run(XF_FMT_AUTO, t->method, t->path, t->query, t->body);
    ck_assert_msg(up.format == t->format, "case %d (%s): %s", _i, t->path,
                  xf_format_name(up.format));
}
END_TEST


START_TEST(test_format_names)
{
    xf_format_t  f;
    int          i;

    for (i = 0; i < XF_FMT_MAX; i++) {
        const char  *n = xf_format_name((xf_format_t) i);

        ck_assert_int_eq(xf_format_parse_name((const u_char *) n, strlen(n),
                                              &f), XF_OK);
        ck_assert_int_eq(f, i);
    }

    ck_assert_int_eq(xf_format_parse_name((const u_char *) "jso", 3, &f),
                     XF_ERR_FORM);
    ck_assert_str_eq(xf_format_name(XF_FMT_MAX), "unknown");
}
END_TEST


/*
 * The table's answer facts, as the glue's switches had them: "try
 * later", the "code" of error bodies, GET in Allow, the cookie.
 */
START_TEST(test_format_facts)
{
    static const struct {
        xf_format_t   f;
        unsigned      retry, retry_throttled, code, get;
        const char   *cookie;
    } t[] = {
        { XF_FMT_AUTO,      503, 503, 0, 1, "sp" },
        { XF_FMT_JSON,      503, 429, 0, 0, NULL },
        { XF_FMT_SENSORS,   503, 503, 0, 1, NULL },
        { XF_FMT_POSTHOG,   503, 503, 0, 1, NULL },
        { XF_FMT_SEGMENT,   429, 429, 0, 1, NULL },
        { XF_FMT_SNOWPLOW,  429, 429, 0, 1, "sp" },
        { XF_FMT_MIXPANEL,  503, 429, 0, 1, NULL },
        { XF_FMT_AMPLITUDE, 503, 429, 1, 1, NULL },
        { XF_FMT_MAX,       503, 429, 0, 0, NULL },   /* as plain JSON */
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_uint_eq(xf_format_retry_status(t[i].f, 0), t[i].retry);
        ck_assert_uint_eq(xf_format_retry_status(t[i].f, 1),
                          t[i].retry_throttled);
        ck_assert_uint_eq(xf_format_error_code(t[i].f), t[i].code);
        ck_assert_uint_eq(xf_format_takes_get(t[i].f), t[i].get);

        if (t[i].cookie == NULL) {
            ck_assert_ptr_null(xf_format_cookie(t[i].f));

        } else {
            ck_assert_str_eq(xf_format_cookie(t[i].f), t[i].cookie);
        }
    }
}
END_TEST


/* ------------------------------------------------------ out of memory */

/* Fail each allocation in turn: XF_ERR_NOMEM or XF_OK, never a leak. */

START_TEST(test_format_oom)
{
    char          *f;
    const char    *q;
    size_t         i, total;
    xf_status_t    rc;
    xf_unit_mem_t  m;
    xf_alloc_t     a;
    xf_request_t   req;
    xf_upload_t    u;

    f = sa_form("data_list", "[" SA_EVENT "," SA_PROFILE ",1]", 1, "", 2);
    q = "project=p%20q";

    a.alloc = xf_unit_mem_alloc;
    a.free = xf_unit_mem_free;
    a.data = &m;

    memset(&req, 0, sizeof(xf_request_t));
    req.format = (xf_format_t) (_i + 1);
    req.method = XF_METHOD_POST;
    req.path.data = (const u_char *) "/x";
    req.path.len = 2;
    req.query.data = (const u_char *) q;
    req.query.len = strlen(q);
    req.body = (const u_char *) f;
    req.body_len = strlen(f);

    if (req.format != XF_FMT_SENSORS) {
        req.body = (const u_char *) "{\"batch\":[{\"e\":\"a\\u0062\","
            "\"event\":\"x\\n\",\"type\":\"track\",\"userId\":\"u\\t\","
            "\"properties\":{\"distinct_id\":\"d\\/\"}},2],"
            "\"data\":[{\"e\":\"\\\"\"}]}";
        req.body_len = strlen((const char *) req.body);
    }

    memset(&m, 0, sizeof(xf_unit_mem_t));
    memset(&u, 0, sizeof(xf_upload_t));
    ck_assert_int_eq(xf_format_parse(&req, &lim, &a, &u), XF_OK);
    total = m.calls;
    xf_format_free(&u, &a);
    ck_assert_uint_eq(m.live, 0);

    for (i = 1; i <= total; i++) {
        memset(&m, 0, sizeof(xf_unit_mem_t));
        m.fail_at = i;
        memset(&u, 0, sizeof(xf_upload_t));

        rc = xf_format_parse(&req, &lim, &a, &u);
        ck_assert_msg(rc == XF_OK || rc == XF_ERR_NOMEM, "%zu: %s", i,
                      xf_strerror(rc));
        xf_format_free(&u, &a);
        ck_assert_msg(m.live == 0, "%zu: %zu blocks leaked", i, m.live);
    }

    free(f);
}
END_TEST

/*
 * The nested bomb: a Sensors POST /sa.gif whose data_list is base64 of
 * concatenated gzip members, each a few KiB inflating to 4 MiB (64 of
 * them: 256 MiB).  The budget is the whole cap, body included: a body of
 * exactly the cap leaves 0 for nested layers, and 0 must never read as
 * "no limit".  Nothing beyond the cap is ever inflated.
 */

static char *
nested_bomb_form(size_t members, size_t member_len, size_t *zlen)
{
    char     *f, *out;
    u_char   *z, *all, *zeros;
    size_t    i, zn;

    zeros = calloc(1, member_len);
    ck_assert_ptr_nonnull(zeros);
    z = xf_unit_gzip(zeros, member_len, &zn);
    free(zeros);

    all = malloc(zn * members);
    ck_assert_ptr_nonnull(all);

    for (i = 0; i < members; i++) {
        memcpy(all + i * zn, z, zn);
    }

    *zlen = zn * members;
    f = b64_form(all, zn * members);
    free(z);
    free(all);

    out = malloc(strlen(f) + 32);
    ck_assert_ptr_nonnull(out);
    sprintf(out, "data_list=%s&gzip=1", f);
    free(f);

    return out;
}


START_TEST(test_nested_bomb)
{
    char    *f;
    size_t   zlen, len;

    f = nested_bomb_form(64, 4 * 1024 * 1024, &zlen);
    len = strlen(f);
    ck_assert_uint_lt(len, 512 * 1024);

    /* the body is exactly the cap: no budget is left, none is spent */
    lim.max_decoded = len;
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/sa.gif",
                         "project=default", f), XF_ERR_TOO_LARGE);
    ck_assert_int_eq(up.format, XF_FMT_SENSORS);
    ck_assert_uint_le(len + up.decoded, lim.max_decoded);

    /* a cap of 0 allows nothing: never "no limit" */
    lim.max_decoded = 0;
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/sa.gif",
                         "project=default", f), XF_ERR_TOO_LARGE);
    ck_assert_uint_eq(up.decoded, 0);

    /* some budget left: spent, never more */
    lim.max_decoded = len + zlen + 1024 * 1024;
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/sa.gif",
                         "project=default", f), XF_ERR_TOO_LARGE);
    ck_assert_uint_le(len + up.decoded, lim.max_decoded);

    free(f);
}
END_TEST


/* A body of more than half the cap with nothing nested is accepted. */

START_TEST(test_budget_whole_cap)
{
    char    *body;
    size_t   n;

    n = 3000;
    body = malloc(n + 1);
    ck_assert_ptr_nonnull(body);
    memset(body, ' ', n);
    memcpy(body, "{\"event\":\"e\",\"distinct_id\":\"u\"}", 31);
    body[n] = '\0';

    lim.max_decoded = 4000;
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "", body), XF_OK);
    ck_assert_uint_eq(up.n, 1);

    lim.max_decoded = n;
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "", body), XF_OK);

    lim.max_decoded = n - 1;
    ck_assert_int_eq(run(XF_FMT_JSON, XF_METHOD_POST, "/", "", body),
                     XF_ERR_TOO_LARGE);

    free(body);
}
END_TEST


Suite *
make_format_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("format");

    tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_json_single);
    tcase_add_test(tc, test_nested_bomb);
    tcase_add_test(tc, test_budget_whole_cap);
    tcase_add_test(tc, test_json_fallbacks);
    tcase_add_test(tc, test_json_dead_letters);
    tcase_add_loop_test(tc, test_json_request_errors, 0,
                        sizeof(test_json_errors) / sizeof(test_json_errors[0]));
    tcase_add_test(tc, test_json_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("sensors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sensors_image);
    tcase_add_test(tc, test_sensors_app_batch);
    tcase_add_test(tc, test_sensors_crc_mismatch);
    tcase_add_test(tc, test_sensors_encrypted);
    tcase_add_loop_test(tc, test_sensors_request_errors, 0,
                        sizeof(test_sensors_errors)
                        / sizeof(test_sensors_errors[0]));
    tcase_add_test(tc, test_sensors_gzip_bomb);
    tcase_add_test(tc, test_sensors_budget);
    tcase_add_test(tc, test_sensors_raw_plus);
    suite_add_tcase(s, tc);

    tc = tcase_create("posthog");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_posthog_batch);
    tcase_add_test(tc, test_posthog_tokens);
    tcase_add_test(tc, test_posthog_fields_found_once);
    tcase_add_test(tc, test_posthog_layers);
    tcase_add_test(tc, test_posthog_config);
    suite_add_tcase(s, tc);

    tc = tcase_create("segment");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_segment_batch);
    tcase_add_test(tc, test_segment_single);
    tcase_add_test(tc, test_segment_fields_found_once);
    tcase_add_test(tc, test_segment_write_keys);
    tcase_add_test(tc, test_wrapper_once);
    suite_add_tcase(s, tc);

    tc = tcase_create("snowplow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_snowplow_post);
    tcase_add_test(tc, test_snowplow_pixel);
    suite_add_tcase(s, tc);

    tc = tcase_create("auto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_auto_table, 0,
                        sizeof(test_auto) / sizeof(test_auto[0]));
    tcase_add_test(tc, test_format_names);
    tcase_add_test(tc, test_format_facts);
    suite_add_tcase(s, tc);

    tc = tcase_create("oom");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_format_oom, 0, XF_FMT_MAX - 1);
    suite_add_tcase(s, tc);

    return s;
}
