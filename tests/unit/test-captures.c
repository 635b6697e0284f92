/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-captures.c - golden test: every request the real browser SDKs of
 * the seven families sent (tests/fixtures/sdk-captures/ JSON files, from
 * the repository root; XF_CAPTURES overrides the directory) goes through
 * xf_format_parse, with the format detected (where `auto` picks it: not
 * Mixpanel, not Amplitude's Batch API) and with the format named, and
 * must give exactly the events the recorder decoded: same count, each
 * event's bytes equal as JSON to the expected event, no error, the reply
 * the SDK needs, and the right name, distinct id and app
 * (xf_capture_expect).  Remote config requests must be answered as
 * config with the token of their path.
 *
 * The gzip layer of a body with the gzip magic is peeled first, as the
 * glue does for a body that arrives compressed without saying so.
 */

#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base64.h"
#include "xf_capture.h"
#include "xf_decode.h"
#include "xf_dedup.h"
#include "xf_format.h"
#include "xf_unit.h"


#define XF_CAPTURES_DIR  "tests/fixtures/sdk-captures"


typedef struct {
    size_t  records;                /* with events or config */
    size_t  events;
} test_count_t;


static const xf_limits_t  test_limits = {
    16 * 1024 * 1024, 1000, 1024 * 1024, 64
};


static void
test_glob(glob_t *g)
{
    char         pattern[1024];
    const char  *dir;

    dir = getenv("XF_CAPTURES");
    if (dir == NULL) {
        dir = XF_CAPTURES_DIR;
    }

    snprintf(pattern, sizeof(pattern), "%s/*.json", dir);

    memset(g, 0, sizeof(glob_t));
    (void) glob(pattern, 0, NULL, g);
}


static const char *
jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}


static const xf_format_t  family_format[] = {
    XF_FMT_SENSORS, XF_FMT_POSTHOG, XF_FMT_SEGMENT, XF_FMT_SEGMENT,
    XF_FMT_SNOWPLOW, XF_FMT_MIXPANEL, XF_FMT_AMPLITUDE
};


/* The answer the family's SDK needs for this request. */
static xf_reply_t
expected_reply(xf_capture_family_t fam, xf_method_t method,
    const char *query)
{
    switch (fam) {

    case XF_CAP_SENSORS:
    case XF_CAP_SNOWPLOW:
        return method == XF_METHOD_GET ? XF_REPLY_GIF : XF_REPLY_JSON;

    case XF_CAP_POSTHOG:
        return XF_REPLY_POSTHOG;

    case XF_CAP_SEGMENT:
    case XF_CAP_RUDDERSTACK:
        return XF_REPLY_SEGMENT;

    case XF_CAP_MIXPANEL:
        if (strstr(query, "img=1") != NULL) {
            return XF_REPLY_GIF;
        }

        return strstr(query, "verbose=1") != NULL
               ? XF_REPLY_MIXPANEL_VERBOSE : XF_REPLY_MIXPANEL;

    case XF_CAP_AMPLITUDE:
    default:
        return XF_REPLY_AMPLITUDE;
    }
}


/* A dedup table, for the key of each captured event. */
static xf_dedup_t *
dedup_table(void)
{
    static uint64_t     mem[512];
    static xf_dedup_t  *t;

    if (t == NULL) {
        t = xf_dedup_init(mem, sizeof(mem), 1, 2);
        ck_assert_ptr_nonnull(t);
    }

    return t;
}


static void
check_record(const char *file, size_t idx, json_t *rec, xf_format_t fmt,
    xf_capture_family_t fam, test_count_t *cnt)
{
    int                   by_id;
    size_t                i, blen, len, n;
    u_char               *body, *gz;
    json_t               *hdr, *exp, *e, *got;
    const char           *method, *b64, *path, *query, *want;
    xf_status_t           rc;
    xf_upload_t           up;
    xf_request_t          req;
    json_error_t          jerr;
    xf_capture_expect_t   x;

    method = jstr(rec, "method");

    if (strcmp(method, "OPTIONS") == 0) {
        return;
    }

    if (fmt == XF_FMT_AUTO && !xf_capture_auto(fam, jstr(rec, "path"))) {
        return;
    }

    memset(&req, 0, sizeof(xf_request_t));
    memset(&up, 0, sizeof(xf_upload_t));

    hdr = json_object_get(rec, "headers");
    path = jstr(rec, "path");
    query = jstr(rec, "query");

    if (query[0] == '?') {
        query++;
    }

    req.format = fmt;
    req.method = strcmp(method, "GET") == 0 ? XF_METHOD_GET
                 : strcmp(method, "POST") == 0 ? XF_METHOD_POST
                 : XF_METHOD_OTHER;
    req.path.data = (const u_char *) path;
    req.path.len = strlen(path);
    req.query.data = (const u_char *) query;
    req.query.len = strlen(query);

    if (jstr(hdr, "content-type") != NULL) {
        req.content_type.data = (const u_char *) jstr(hdr, "content-type");
        req.content_type.len = strlen(jstr(hdr, "content-type"));
    }

    if (jstr(hdr, "authorization") != NULL) {
        req.authorization.data = (const u_char *) jstr(hdr, "authorization");
        req.authorization.len = strlen(jstr(hdr, "authorization"));
    }

    if (jstr(hdr, "cookie") != NULL) {
        req.cookie.data = (const u_char *) jstr(hdr, "cookie");
        req.cookie.len = strlen(jstr(hdr, "cookie"));
    }

    b64 = jstr(rec, "bodyBase64");
    blen = b64 ? strlen(b64) : 0;
    body = malloc(xf_base64_decoded_bound(blen) + 1);
    ck_assert_ptr_nonnull(body);
    ck_assert_int_eq(xf_base64_decode((const u_char *) b64, blen,
                                      XF_BASE64_STD, body, &len), XF_OK);
    gz = NULL;

    if (xf_encoding_sniff(body, len) == XF_ENC_GZIP) {
        ck_assert_int_eq(xf_decode(XF_ENC_GZIP, body, len, 1 << 24,
                                   &xf_alloc_libc, &gz, &n), XF_OK);
        req.body = gz;
        req.body_len = n;

    } else {
        req.body = body;
        req.body_len = len;
    }

    rc = xf_format_parse(&req, &test_limits, &xf_alloc_libc, &up);

    ck_assert_msg(rc == XF_OK, "%s record %zu (%s %s): %s", file, idx,
                  method, path, xf_strerror(rc));

    if (strstr(path, "/config") != NULL || strstr(path, "/flags") != NULL) {
        ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
        ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG_CONFIG);
        ck_assert_uint_eq(up.n, 0);

        if (strstr(path, "/flags") != NULL) {
            /* The token of a flags call is in its (gzipped) body. */
            want = jstr(json_object_get(json_object_get(rec, "decoded"),
                                        "value"), "token");
        } else {
            want = strstr(path, "/array/") + 7;
            want = strndup(want, strchr(want, '/') - want);
        }

        ck_assert_msg(xf_unit_str_is(up.token, want), "%s record %zu: token",
                      file, idx);

        if (strstr(path, "/flags") == NULL) {
            free((void *) (uintptr_t) want);
        }

        cnt->records++;
        goto done;
    }

    exp = xf_capture_events(rec);
    ck_assert_msg(exp != NULL, "%s record %zu: nothing expected", file, idx);

    ck_assert_msg(up.n == json_array_size(exp),
                  "%s record %zu: %zu events, expected %zu", file, idx,
                  up.n, json_array_size(exp));
    ck_assert_msg(up.rejected == 0, "%s record %zu: %zu rejected, the "
                  "first %s", file, idx, up.rejected,
                  xf_strerror(up.events[0].error));

    ck_assert_int_eq(up.format, family_format[fam]);
    ck_assert_msg(up.reply == expected_reply(fam, req.method, query),
                  "%s record %zu: reply %d", file, idx, (int) up.reply);

    if (fam == XF_CAP_SENSORS) {
        ck_assert(xf_unit_str_is(up.app, "default"));

    } else if (fam == XF_CAP_POSTHOG) {
        ck_assert(up.app.len > 4 && memcmp(up.app.data, "phc_", 4) == 0);
    }

    for (i = 0; i < up.n; i++) {
        e = json_array_get(exp, i);

        ck_assert_msg(up.events[i].error == XF_OK, "%s %zu/%zu: %s", file,
                      idx, i, xf_strerror(up.events[i].error));

        got = json_loadb((const char *) up.events[i].p, up.events[i].len,
                         JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        ck_assert_msg(got != NULL, "%s %zu/%zu: %s", file, idx, i,
                      jerr.text);
        ck_assert_msg(json_equal(got, e), "%s %zu/%zu: event differs",
                      file, idx, i);
        json_decref(got);

        xf_capture_expect(fam, rec, e, &x);

        ck_assert_msg(xf_unit_str_is(up.events[i].name, x.name),
                      "%s %zu/%zu: name %.*s, expected %s", file, idx, i,
                      (int) up.events[i].name.len, up.events[i].name.data,
                      x.name);

        ck_assert_msg(xf_unit_str_is(up.events[i].distinct_id, x.key),
                      "%s %zu/%zu: distinct id %.*s, expected %s", file, idx,
                      i, (int) up.events[i].distinct_id.len,
                      up.events[i].distinct_id.data, x.key);

        ck_assert_msg(x.app_wk
                      ? xf_capture_is_wk((const char *) up.events[i].app.data,
                                         up.events[i].app.len)
                      : xf_unit_str_is(up.events[i].app, x.app),
                      "%s %zu/%zu: app %.*s, expected %s", file, idx, i,
                      (int) up.events[i].app.len, up.events[i].app.data,
                      x.app);

        /* xflow_dedup finds the id the SDK sends again with a retry */
        (void) xf_dedup_event_key(dedup_table(), up.format,
                                  up.events[i].app.data,
                                  up.events[i].app.len, up.events[i].p,
                                  up.events[i].len, &by_id);
        ck_assert_msg(by_id, "%s %zu/%zu: no per-event id for the dedup "
                      "window", file, idx, i);
    }

    cnt->records++;
    cnt->events += up.n;
    json_decref(exp);

done:

    xf_format_free(&up, &xf_alloc_libc);
    free(gz);
    free(body);
}


static void
check_file(int n, xf_format_t fmt)
{
    size_t                i;
    json_t               *root, *recs;
    glob_t                g;
    const char           *file;
    test_count_t          cnt;
    json_error_t          jerr;
    xf_capture_family_t   fam;

    test_glob(&g);
    ck_assert_uint_gt(g.gl_pathc, (size_t) n);
    file = g.gl_pathv[n];

    root = json_load_file(file, 0, &jerr);
    ck_assert_msg(root != NULL, "%s: %s", file, jerr.text);

    fam = xf_capture_family(file);
    ck_assert_msg(fam != XF_CAP_UNKNOWN, "%s: no SDK family", file);

    if (fmt != XF_FMT_AUTO) {
        fmt = family_format[fam];
    }

    memset(&cnt, 0, sizeof(test_count_t));
    recs = json_object_get(root, "serverRecords");

    for (i = 0; i < json_array_size(recs); i++) {
        check_record(file, i, json_array_get(recs, i), fmt, fam, &cnt);
    }

    ck_assert_msg(cnt.records > 0
                  || (fmt == XF_FMT_AUTO && !xf_capture_auto(fam, "")),
                  "%s: no record checked", file);

    json_decref(root);
    globfree(&g);
}


START_TEST(test_capture_auto)
{
    check_file(_i, XF_FMT_AUTO);
}
END_TEST


START_TEST(test_capture_named)
{
    check_file(_i, XF_FMT_JSON);    /* replaced by the file's format */
}
END_TEST


START_TEST(test_captures_present)
{
    glob_t  g;

    test_glob(&g);
    ck_assert_msg(g.gl_pathc >= 29, "captures not found (%zu files)",
                  g.gl_pathc);
    globfree(&g);
}
END_TEST


Suite *
make_captures_suite(void)
{
    Suite   *s;
    TCase   *tc;
    glob_t   g;

    test_glob(&g);

    s = suite_create("captures");

    tc = tcase_create("golden");
    tcase_add_test(tc, test_captures_present);
    tcase_add_loop_test(tc, test_capture_auto, 0, (int) g.gl_pathc);
    tcase_add_loop_test(tc, test_capture_named, 0, (int) g.gl_pathc);
    suite_add_tcase(s, tc);

    globfree(&g);

    return s;
}
