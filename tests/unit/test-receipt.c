/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-receipt.c - per-event receipts: both shapes byte for byte, every
 * fate, events without an id in PostHog's shape, ids with escapes, and
 * the size bound against what is written.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xf_receipt.h"
#include "xf_unit.h"


#define S(c)  { (const u_char *) (c), sizeof(c) - 1 }


static char *
render(xf_receipts_shape_t shape, const xf_receipt_t *r, size_t n,
    size_t accepted, size_t rejected)
{
    size_t   size;
    u_char  *buf, *end;

    size = xf_receipts_size(shape, r, n);
    buf = malloc(size + 1);
    ck_assert_ptr_nonnull(buf);

    end = xf_receipts_render(buf, shape, r, n, accepted, rejected);
    ck_assert_uint_le((size_t) (end - buf), size);
    *end = '\0';

    return (char *) buf;
}


static const xf_receipt_t  mixed[] = {
    { XF_RECEIPT_OK, NULL, S("0190a1b2-0001"), S("events"), 2, 41, 0 },
    { XF_RECEIPT_INVALID, "missing_field", S("0190a1b2-0002"), S(""), 0,
      0, 0 },
    { XF_RECEIPT_OK, NULL, S(""), S(""), 0, 0, 1 },
    { XF_RECEIPT_RETRY, "delivery_failed", S("0190a1b2-0004"), S(""), 0,
      0, 0 },
    { XF_RECEIPT_DUPLICATE, NULL, S("a\\u0022b"), S(""), 0, 0, 0 },
    { XF_RECEIPT_OK, NULL, S("0190a1b2-0006"), S("events"), 0,
      9007199254740993LL, 0 },
};


START_TEST(test_json_shape)
{
    char  *s;

    s = render(XF_RECEIPTS_JSON, mixed, 6, 3, 1);

    ck_assert_str_eq(s,
        "{\"accepted\":3,\"rejected\":1,\"receipts\":["
        "{\"result\":\"ok\",\"topic\":\"events\",\"partition\":2,"
        "\"offset\":41},"
        "{\"result\":\"invalid\",\"reason\":\"missing_field\"},"
        "{\"result\":\"ok\",\"spooled\":true},"
        "{\"result\":\"retry\",\"reason\":\"delivery_failed\"},"
        "{\"result\":\"duplicate\"},"
        "{\"result\":\"ok\",\"topic\":\"events\",\"partition\":0,"
        "\"offset\":9007199254740993}]}");

    xf_unit_json_is((const u_char *) s, strlen(s),
                    "{\"accepted\":3,\"rejected\":1,\"receipts\":["
                    "{\"result\":\"ok\",\"topic\":\"events\",\"partition\":2,"
                    "\"offset\":41},{\"result\":\"invalid\",\"reason\":"
                    "\"missing_field\"},{\"result\":\"ok\",\"spooled\":true},"
                    "{\"result\":\"retry\",\"reason\":\"delivery_failed\"},"
                    "{\"result\":\"duplicate\"},{\"result\":\"ok\",\"topic\":"
                    "\"events\",\"partition\":0,\"offset\":9007199254740993}"
                    "]}", "json", 0);
    free(s);

    s = render(XF_RECEIPTS_JSON, NULL, 0, 0, 0);
    ck_assert_str_eq(s, "{\"accepted\":0,\"rejected\":0,\"receipts\":[]}");
    free(s);
}
END_TEST


START_TEST(test_posthog_shape)
{
    char  *s;

    s = render(XF_RECEIPTS_POSTHOG, mixed, 6, 3, 1);

    /* the event without a uuid is left out; escapes stay as sent */
    ck_assert_str_eq(s,
        "{\"results\":{"
        "\"0190a1b2-0001\":{\"result\":\"ok\",\"topic\":\"events\","
        "\"partition\":2,\"offset\":41},"
        "\"0190a1b2-0002\":{\"result\":\"drop\","
        "\"details\":\"missing_field\"},"
        "\"0190a1b2-0004\":{\"result\":\"retry\","
        "\"details\":\"delivery_failed\"},"
        "\"a\\u0022b\":{\"result\":\"ok\",\"details\":\"duplicate\"},"
        "\"0190a1b2-0006\":{\"result\":\"ok\",\"topic\":\"events\","
        "\"partition\":0,\"offset\":9007199254740993}}}");
    free(s);

    s = render(XF_RECEIPTS_POSTHOG, mixed + 2, 1, 1, 0);
    ck_assert_str_eq(s, "{\"results\":{}}");
    free(s);
}
END_TEST


START_TEST(test_id)
{
    xf_str_t     id;
    const char  *ev;

    ev = "{\"event\":\"a\",\"uuid\":\"01-\\\"x\\\"\",\"n\":{\"uuid\":\"no\"}}";
    ck_assert_int_eq(xf_receipt_id((const u_char *) ev, strlen(ev), "uuid",
                                   &id), XF_OK);
    ck_assert_uint_eq(id.len, 8);
    ck_assert_int_eq(memcmp(id.data, "01-\\\"x\\\"", 8), 0);

    ev = "{\"event\":\"a\",\"uuid\":7}";
    ck_assert_int_eq(xf_receipt_id((const u_char *) ev, strlen(ev), "uuid",
                                   &id), XF_ERR_EMPTY);
    ck_assert_uint_eq(id.len, 0);

    ev = "{\"event\":\"a\"}";
    ck_assert_int_eq(xf_receipt_id((const u_char *) ev, strlen(ev), "uuid",
                                   &id), XF_ERR_EMPTY);

    ck_assert_str_eq(xf_receipt_fate_name(XF_RECEIPT_DUPLICATE), "duplicate");
    ck_assert_str_eq(xf_receipt_fate_name(XF_RECEIPT_DROPPED), "dropped");
    ck_assert_str_eq(xf_receipt_fate_name((xf_receipt_fate_t) 9), "unknown");
}
END_TEST


/*
 * A kill switch's drop: xflow's shape names it, PostHog's is the "drop"
 * its SDKs never send again.
 */
START_TEST(test_dropped)
{
    char                *s;
    static xf_receipt_t  r[] = {
        { XF_RECEIPT_DROPPED, "kill_switch", S("0190a1b2-0007"), S(""), 0,
          0, 0 },
    };

    s = render(XF_RECEIPTS_JSON, r, 1, 1, 0);
    ck_assert_str_eq(s, "{\"accepted\":1,\"rejected\":0,\"receipts\":["
                        "{\"result\":\"dropped\",\"reason\":"
                        "\"kill_switch\"}]}");
    free(s);

    s = render(XF_RECEIPTS_POSTHOG, r, 1, 1, 0);
    ck_assert_str_eq(s, "{\"results\":{\"0190a1b2-0007\":{\"result\":"
                        "\"drop\",\"details\":\"kill_switch\"}}}");
    free(s);
}
END_TEST


/* Long topics, reasons and ids, and the extreme numbers: within the size. */
START_TEST(test_size_bound)
{
    size_t         i;
    char          *s, topic[250], id[300];
    xf_receipt_t   r[8];

    memset(topic, 't', sizeof(topic) - 1);
    topic[sizeof(topic) - 1] = '\0';
    memset(id, 'i', sizeof(id));

    for (i = 0; i < 8; i++) {
        memset(&r[i], 0, sizeof(xf_receipt_t));
        r[i].fate = (xf_receipt_fate_t) (i % 5);
        r[i].reason = i % 3 ? "event_too_large" : NULL;
        r[i].id.data = (const u_char *) id;
        r[i].id.len = sizeof(id);
        r[i].topic.data = (const u_char *) topic;
        r[i].topic.len = strlen(topic);
        r[i].partition = i % 2 ? INT32_MIN : INT32_MAX;
        r[i].offset = i % 2 ? INT64_MIN : INT64_MAX;
    }

    s = render(XF_RECEIPTS_JSON, r, 8, SIZE_MAX, SIZE_MAX);
    free(s);
    s = render(XF_RECEIPTS_POSTHOG, r, 8, 0, 0);
    free(s);
}
END_TEST


Suite *
make_receipt_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("receipt");

    tc = tcase_create("core");
    tcase_add_test(tc, test_json_shape);
    tcase_add_test(tc, test_posthog_shape);
    tcase_add_test(tc, test_id);
    tcase_add_test(tc, test_dropped);
    tcase_add_test(tc, test_size_bound);
    suite_add_tcase(s, tc);

    return s;
}
