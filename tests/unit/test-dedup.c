/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-dedup.c - the dedup window's table: seen within the window, not
 * after it; the id each SDK family retries with, keyed by app; the
 * event's bytes without one; the key's secret; the capacity bound; a
 * reload keeping the entries.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xf_dedup.h"


static xf_dedup_t *
table(uint32_t capacity, uint64_t k0, void **mem)
{
    xf_dedup_t  *t;

    *mem = malloc(xf_dedup_size(capacity));
    ck_assert_ptr_nonnull(*mem);
    memset(*mem, 0xa5, xf_dedup_size(capacity));

    t = xf_dedup_init(*mem, xf_dedup_size(capacity), k0, 7);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(xf_dedup_capacity(t), capacity);

    return t;
}


static uint64_t
key_of(xf_dedup_t *t, xf_format_t f, const char *app, const char *event,
    int *by_id)
{
    return xf_dedup_event_key(t, f, (const u_char *) app, strlen(app),
                              (const u_char *) event, strlen(event), by_id);
}


START_TEST(test_window)
{
    void        *mem;
    uint64_t     k;
    xf_dedup_t  *t;

    t = table(1024, 1, &mem);
    k = 0x1234567890abcdefULL;

    ck_assert_int_eq(xf_dedup_seen(t, k, 1000), XF_DEDUP_FIRST);

    /* looked up, not recorded: still a first */
    ck_assert_int_eq(xf_dedup_seen(t, k, 1000), XF_DEDUP_FIRST);

    xf_dedup_set(t, k, 1000, 600000);
    ck_assert_int_eq(xf_dedup_seen(t, k, 1001), XF_DEDUP_AGAIN);
    ck_assert_int_eq(xf_dedup_seen(t, k, 600999), XF_DEDUP_AGAIN);
    ck_assert_int_eq(xf_dedup_seen(t, k, 601000), XF_DEDUP_FIRST);

    /* renewed by the copy kept after the window */
    xf_dedup_set(t, k, 601000, 600000);
    ck_assert_int_eq(xf_dedup_seen(t, k, 601001), XF_DEDUP_AGAIN);
    ck_assert_int_eq(xf_dedup_seen(t, k + 1, 601001), XF_DEDUP_FIRST);

    free(mem);
}
END_TEST


START_TEST(test_ids)
{
    int          by_id;
    void        *mem;
    uint64_t     a, b;
    xf_dedup_t  *t;

    t = table(1024, 1, &mem);

    /* the id decides, whatever else a retry changes (sentAt) */
    a = key_of(t, XF_FMT_SEGMENT, "w1",
               "{\"messageId\":\"m-1\",\"sentAt\":\"1\"}", &by_id);
    ck_assert_int_eq(by_id, 1);
    b = key_of(t, XF_FMT_SEGMENT, "w1",
               "{\"sentAt\":\"2\",\"messageId\":\"m-1\"}", NULL);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_ne(a, key_of(t, XF_FMT_SEGMENT, "w1",
                                "{\"messageId\":\"m-2\"}", NULL));

    /* the same id in another app is another event */
    ck_assert_uint_ne(a, key_of(t, XF_FMT_SEGMENT, "w2",
                                "{\"messageId\":\"m-1\"}", NULL));

    ck_assert_uint_eq(key_of(t, XF_FMT_POSTHOG, "p",
                             "{\"uuid\":\"u\",\"x\":1}", NULL),
                      key_of(t, XF_FMT_POSTHOG, "p",
                             "{\"uuid\":\"u\",\"x\":2}", NULL));
    ck_assert_uint_eq(key_of(t, XF_FMT_AMPLITUDE, "k",
                             "{\"insert_id\":\"i\",\"time\":1}", NULL),
                      key_of(t, XF_FMT_AMPLITUDE, "k",
                             "{\"insert_id\":\"i\",\"time\":2}", NULL));
    ck_assert_uint_eq(key_of(t, XF_FMT_SNOWPLOW, "a",
                             "{\"eid\":\"e\",\"stm\":\"1\"}", NULL),
                      key_of(t, XF_FMT_SNOWPLOW, "a",
                             "{\"eid\":\"e\",\"stm\":\"2\"}", NULL));

    /* Mixpanel's is in its properties */
    a = key_of(t, XF_FMT_MIXPANEL, "tok",
               "{\"event\":\"x\",\"properties\":{\"$insert_id\":\"q\","
               "\"mp_sent_by_lib_version\":\"1\"}}", &by_id);
    ck_assert_int_eq(by_id, 1);
    ck_assert_uint_eq(a, key_of(t, XF_FMT_MIXPANEL, "tok",
                                "{\"event\":\"x\",\"properties\":{"
                                "\"$insert_id\":\"q\"}}", NULL));

    /* Sensors: a random _track_id, with time and distinct_id */
    a = key_of(t, XF_FMT_SENSORS, "prod",
               "{\"_track_id\":42,\"time\":1000,\"distinct_id\":\"d\","
               "\"_flush_time\":1}", &by_id);
    ck_assert_int_eq(by_id, 1);
    ck_assert_uint_eq(a, key_of(t, XF_FMT_SENSORS, "prod",
                                "{\"_track_id\":42,\"time\":1000,"
                                "\"distinct_id\":\"d\",\"_flush_time\":2}",
                                NULL));
    ck_assert_uint_ne(a, key_of(t, XF_FMT_SENSORS, "prod",
                                "{\"_track_id\":42,\"time\":1001,"
                                "\"distinct_id\":\"d\"}", NULL));
    ck_assert_uint_ne(a, key_of(t, XF_FMT_SENSORS, "prod",
                                "{\"_track_id\":42,\"time\":1000,"
                                "\"distinct_id\":\"e\"}", NULL));

    /* no id: the event's bytes */
    a = key_of(t, XF_FMT_JSON, "j", "{\"event\":\"a\",\"n\":1}", &by_id);
    ck_assert_int_eq(by_id, 0);
    ck_assert_uint_eq(a, key_of(t, XF_FMT_JSON, "j",
                                "{\"event\":\"a\",\"n\":1}", NULL));
    ck_assert_uint_ne(a, key_of(t, XF_FMT_JSON, "j",
                                "{\"event\":\"a\",\"n\":2}", NULL));
    key_of(t, XF_FMT_SEGMENT, "w1", "{\"messageId\":\"\",\"n\":1}", &by_id);
    ck_assert_int_eq(by_id, 0);
    key_of(t, XF_FMT_MIXPANEL, "t", "{\"properties\":1}", &by_id);
    ck_assert_int_eq(by_id, 0);

    free(mem);
}
END_TEST


/* Another table key, other keys: nobody outside can choose collisions. */
START_TEST(test_secret_key)
{
    void        *m1, *m2;
    xf_dedup_t  *t1, *t2;

    t1 = table(64, 1, &m1);
    t2 = table(64, 2, &m2);

    ck_assert_uint_ne(key_of(t1, XF_FMT_POSTHOG, "p", "{\"uuid\":\"u\"}",
                             NULL),
                      key_of(t2, XF_FMT_POSTHOG, "p", "{\"uuid\":\"u\"}",
                             NULL));

    free(m1);
    free(m2);
}
END_TEST


START_TEST(test_bound_and_reload)
{
    void        *mem;
    uint64_t     i, again;
    xf_dedup_t  *t;

    t = table(1024, 1, &mem);

    for (i = 1; i <= 10240; i++) {
        xf_dedup_set(t, i * 0x9e3779b97f4a7c15ULL, 1000 + i, 600000);
    }

    ck_assert_uint_eq(xf_dedup_capacity(t), 1024);

    /* the most recent are remembered */
    again = 0;
    for (i = 10240 - 256 + 1; i <= 10240; i++) {
        again += xf_dedup_seen(t, i * 0x9e3779b97f4a7c15ULL, 20000)
                 == XF_DEDUP_AGAIN;
    }
    ck_assert_uint_gt(again, 240);

    /* a reload with the same zone keeps them, and the key */
    t = xf_dedup_init(mem, xf_dedup_size(1024), 99, 99);
    ck_assert_int_eq(xf_dedup_seen(t, 10240 * 0x9e3779b97f4a7c15ULL, 20000),
                     XF_DEDUP_AGAIN);

    ck_assert_ptr_null(xf_dedup_init(mem, xf_dedup_size(8), 1, 1));

    free(mem);
}
END_TEST


Suite *
make_dedup_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("dedup");

    tc = tcase_create("core");
    tcase_add_test(tc, test_window);
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_secret_key);
    tcase_add_test(tc, test_bound_and_reload);
    suite_add_tcase(s, tc);

    return s;
}
