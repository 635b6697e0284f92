/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-format-posthog-v1.c - PostHog's v1 capture in the posthog adapter:
 * the route (auto picks it, any prefix, the AI lane's path too), the
 * Bearer token as the app, the {created_at, batch} body, the per-event
 * reply, and the uuids receipts name events by.
 */

#include <check.h>
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
    suite_add_tcase(s, tc);

    return s;
}
