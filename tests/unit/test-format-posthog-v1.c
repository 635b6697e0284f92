/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-format-posthog-v1.c - PostHog's v1 capture in the posthog adapter:
 * the route (auto picks it, any prefix, the AI lane's path too), the
 * Bearer token as the app, the {created_at, batch} body, the per-event
 * reply, and the uuids receipts name events by.
 */

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xf_format.h"
#include "xf_receipt.h"
#include "xf_unit.h"
#include "xf_unit_format.h"


static const char  v1_body[] =
    "{\"created_at\":\"2026-12-07T20:00:00Z\",\"batch\":["
    "{\"event\":\"$pageview\",\"uuid\":\"u-1\",\"distinct_id\":\"d1\","
    "\"timestamp\":\"2026-12-07T19:59:59Z\",\"properties\":{}},"
    "{\"uuid\":\"u-2\",\"distinct_id\":\"d2\",\"properties\":{}}]}";


START_TEST(test_v1_route)
{
    static const char  *paths[] = {
        "/i/v1/analytics/events", "/i/v1/analytics/events/",
        "/ingest/i/v1/analytics/events", "/i/v1/ai/events"
    };
    xf_str_t            id;

    ck_assert_int_eq(run_req(XF_FMT_AUTO, XF_METHOD_POST, paths[_i], "",
                             "Bearer phc_abc", NULL, v1_body,
                             strlen(v1_body)), XF_OK);

    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG_V1);
    ck_assert_uint_eq(up.n, 2);
    ck_str(up.app, "phc_abc");
    ck_str(up.events[0].app, "phc_abc");
    ck_str(up.events[0].distinct_id, "d1");
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_assert_int_eq(up.events[1].error, XF_ERR_MISSING_FIELD);

    ck_assert_int_eq(xf_receipt_id(up.events[1].p, up.events[1].len, "uuid",
                                   &id), XF_OK);
    ck_str(id, "u-2");
}
END_TEST


START_TEST(test_v1_bearer)
{
    /* the scheme in any case, blanks around the token */
    ck_assert_int_eq(run_req(XF_FMT_POSTHOG, XF_METHOD_POST,
                             "/i/v1/analytics/events", "",
                             "bEaReR \t phc_x  ", NULL, v1_body,
                             strlen(v1_body)), XF_OK);
    ck_str(up.app, "phc_x");

    /* not Bearer, or no token: the events' own, here none */
    ck_assert_int_eq(run_req(XF_FMT_POSTHOG, XF_METHOD_POST,
                             "/i/v1/analytics/events", "",
                             "Basic cGhjOg==", NULL, v1_body,
                             strlen(v1_body)), XF_OK);
    ck_assert_uint_eq(up.app.len, 0);

    ck_assert_int_eq(run_req(XF_FMT_POSTHOG, XF_METHOD_POST,
                             "/i/v1/analytics/events", "", "Bearer   ",
                             NULL, v1_body, strlen(v1_body)), XF_OK);
    ck_assert_uint_eq(up.app.len, 0);

    /* the legacy routes keep their answer and ignore Authorization */
    ck_assert_int_eq(run_req(XF_FMT_POSTHOG, XF_METHOD_POST, "/batch", "",
                             "Bearer phc_x", NULL, v1_body,
                             strlen(v1_body)), XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_POSTHOG);
    ck_assert_uint_eq(up.app.len, 0);
}
END_TEST


/* h as a posthog-go upload sends them: every header v1 requires. */
static void
v1_headers(xf_posthog_v1_headers_t *h)
{
#define V1_SET(f, v)  (h->f.data = (const u_char *) (v), h->f.len = strlen(v))

    memset(h, 0, sizeof(xf_posthog_v1_headers_t));
    V1_SET(authorization, "Bearer phc_test_token_123");
    V1_SET(content_type, "application/json");
    V1_SET(user_agent, "posthog-go/1.0.0");
    V1_SET(sdk_info, "posthog-go/1.0.0");
    V1_SET(attempt, "1");
    V1_SET(request_id, "0193a1f0-0000-7000-8000-0000000000aa");
    V1_SET(request_timestamp, "2026-12-07T19:59:59Z");
}


/* h's check refuses with status and tag; the description. */
static const char *
v1_refused(const xf_posthog_v1_headers_t *h, unsigned status,
    const char *tag)
{
    static xf_posthog_v1_error_t  e;

    ck_assert_int_eq(xf_posthog_v1_check(h, &e), 0);
    ck_assert_uint_eq(e.status, status);
    ck_assert_str_eq(e.error, tag);

    return e.description;
}


/*
 * The headers PostHog's v1 capture requires, checked in its order and
 * refused with its answers (rust/capture's v1 context).
 */
START_TEST(test_v1_headers)
{
    u_char                   body[2048];
    size_t                   n, i;
    xf_str_t                *f;
    const char              *desc;
    xf_posthog_v1_error_t    e;
    xf_posthog_v1_headers_t  hv, *h;

#define V1_BAD(field, v, d)  { offsetof(xf_posthog_v1_headers_t, field), v, d }

    static const struct {
        size_t       field;
        const char  *value;
        const char  *description;
    } bad[] = {
        V1_BAD(request_id, "not-a-uuid",
               "invalid header value: PostHog-Request-Id is not a valid "
               "UUID: not-a-uuid"),
        V1_BAD(request_id, "0193a1f0-0000-7000-8000-00000000000g", NULL),
        V1_BAD(attempt, "0",
               "invalid header value: PostHog-Attempt must be a positive "
               "integer: 0"),
        V1_BAD(attempt, "abc", NULL),
        V1_BAD(attempt, "4294967296", NULL),
        V1_BAD(attempt, "-1", NULL),
        V1_BAD(request_timestamp, "not-a-timestamp",
               "invalid header value: PostHog-Request-Timestamp is not "
               "valid RFC 3339: not-a-timestamp"),
        V1_BAD(request_timestamp, "2026-12-07T19:59:59", NULL),
        V1_BAD(request_timestamp, "2026-13-07T19:59:59Z", NULL),
        V1_BAD(request_timestamp, "2026-12-07T19:59:59.Z", NULL)
    };

#undef V1_BAD

    h = &hv;

    v1_headers(h);
    ck_assert_int_eq(xf_posthog_v1_check(h, &e), 1);
    ck_assert_uint_eq(e.status, 0);

    /* what PostHog takes too: a charset, any case, blanks, an offset */
    V1_SET(content_type, "Application/JSON; charset=utf-8");
    V1_SET(authorization, "bEARER   phc_test_token_123  ");
    V1_SET(content_encoding, "BR");
    V1_SET(request_timestamp, "2026-12-07t19:59:59.123+01:00");
    V1_SET(request_id, "0193a1f0000070008000000000000000");
    V1_SET(attempt, "4294967295");
    ck_assert_int_eq(xf_posthog_v1_check(h, &e), 1);

    /* no Authorization: 401, before anything else */
    memset(h, 0, sizeof(hv));
    v1_refused(h, 401, "invalid_api_token");

    /* every required header missing is named, in PostHog's order */
    v1_headers(h);
    h->user_agent.data = NULL;
    h->attempt.data = NULL;
    ck_assert_str_eq(v1_refused(h, 400, "missing_required_headers"),
                     "request is missing required headers: "
                     "[\"PostHog-Attempt\", \"user-agent\"]");

    /* an empty header is present */
    v1_headers(h);
    V1_SET(sdk_info, "");
    ck_assert_int_eq(xf_posthog_v1_check(h, &e), 1);

    v1_headers(h);
    V1_SET(authorization, "Basic abc123");
    ck_assert_str_eq(v1_refused(h, 400, "invalid_header_value"),
                     "invalid header value: Authorization must use Bearer "
                     "scheme");
    V1_SET(authorization, "Bearer");
    v1_refused(h, 400, "invalid_header_value");

    /* a personal API key is no project token */
    V1_SET(authorization, "Bearer phx_personal_key");
    v1_refused(h, 401, "invalid_api_token");
    V1_SET(authorization, "Bearer    ");
    v1_refused(h, 401, "invalid_api_token");

    v1_headers(h);
    V1_SET(content_type, "text/plain");
    ck_assert_str_eq(v1_refused(h, 415, "unsupported_content_type"),
                     "unsupported content type: text/plain");

    v1_headers(h);
    V1_SET(content_encoding, "lz4");
    ck_assert_str_eq(v1_refused(h, 415, "unsupported_encoding"),
                     "unsupported content encoding: lz4");
    V1_SET(content_encoding, "identity");
    v1_refused(h, 415, "unsupported_encoding");

    /* each value PostHog's parser refuses, and how it says so */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v1_headers(h);
        f = (xf_str_t *) ((u_char *) h + bad[i].field);
        f->data = (const u_char *) bad[i].value;
        f->len = strlen(bad[i].value);

        desc = v1_refused(h, 400, "invalid_header_value");

        if (bad[i].description != NULL) {
            ck_assert_str_eq(desc, bad[i].description);
        }
    }

    /* the answer's body: PostHog's shape, the value escaped */
    v1_headers(h);
    V1_SET(content_type, "text/\"x\"");
    ck_assert_int_eq(xf_posthog_v1_check(h, &e), 0);
    n = xf_posthog_v1_error_body(&e, body, sizeof(body));
    ck_assert_uint_gt(n, 0);
    body[n] = '\0';
    ck_assert_str_eq((char *) body,
                     "{\"error\":\"unsupported_content_type\","
                     "\"error_description\":\"unsupported content type: "
                     "text/\\\"x\\\"\",\"error_uri\":"
                     "\"https://posthog.com/docs/api\"}");
    ck_assert_uint_eq(xf_posthog_v1_error_body(&e, body, 40), 0);

    /* the routes it applies to */
    ck_assert(xf_posthog_v1_route((const u_char *) "/i/v1/analytics/events",
                                  22));
    ck_assert(xf_posthog_v1_route((const u_char *) "/x/i/v1/ai/events/",
                                  18));
    ck_assert(!xf_posthog_v1_route((const u_char *) "/batch", 6));

#undef V1_SET
}
END_TEST


Suite *
make_format_posthog_v1_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("format_posthog_v1");

    tc = tcase_create("v1");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_v1_route, 0, 4);
    tcase_add_test(tc, test_v1_bearer);
    tcase_add_test(tc, test_v1_headers);
    suite_add_tcase(s, tc);

    return s;
}
