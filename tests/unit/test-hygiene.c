/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-hygiene.c - kill switches (parsed, refused, matched by app, name,
 * hashed distinct id and event id), event times (read from each
 * format's own fields in each kind, written back in the same kind,
 * clamped) and placeholder distinct ids (and the id each format has
 * beside one).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_hygiene.h"
#include "xf_unit.h"
#include "xf_arena.h"


static xf_str_t           toks[8][8];
static char               tok_text[8][8][128];

/* rules live in nginx's configuration pool: here, in this arena */
static xf_arena_block_t  *arena;


static void
teardown(void)
{
    xf_arena_free(arena);
    arena = NULL;
}


static xf_status_t
rule(xf_kill_rule_t *r, size_t slot, const char *line, char *err)
{
    size_t       n;
    char        *t, *save, buf[512];
    xf_alloc_t   a;

    snprintf(buf, sizeof(buf), "%s", line);
    n = 0;

    for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        snprintf(tok_text[slot][n], 128, "%s", t);
        toks[slot][n].data = (const u_char *) tok_text[slot][n];
        toks[slot][n].len = strlen(t);
        n++;
    }

    a = xf_arena(&arena);

    return xf_kill_parse(toks[slot], n, &a, r, err, 256);
}


static ssize_t
match(const xf_kill_rule_t *r, size_t n, const char *app, const char *name,
    const char *distinct, const char *json)
{
    xf_kill_event_t  ev;

    ev.app.data = (const u_char *) app;
    ev.app.len = strlen(app);
    ev.name.data = (const u_char *) name;
    ev.name.len = strlen(name);
    ev.distinct_id.data = (const u_char *) distinct;
    ev.distinct_id.len = strlen(distinct);
    ev.p = (const u_char *) json;
    ev.len = strlen(json);

    return xf_kill_match(r, n, &ev);
}




START_TEST(test_kill)
{
    char             err[256], sha[80];
    xf_kill_rule_t   r[4];
    FILE            *f;

    ck_assert_int_eq(rule(&r[0], 0, "app=noisy drop", err), XF_OK);
    ck_assert_int_eq(rule(&r[1], 1, "app=shop event=debug,trace "
                          "route=debug_topic", err), XF_OK);
    ck_assert_int_eq(rule(&r[2], 2, "id=abc-123 dead_letter", err), XF_OK);

    /* the hash of "u-blocked", from the tool an operator would use */
    f = popen("printf %s u-blocked | sha256sum | cut -c1-64", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(sha, sizeof(sha), f));
    pclose(f);
    sha[64] = '\0';
    snprintf(err, sizeof(err), "distinct_sha256=%s drop", sha);
    ck_assert_int_eq(rule(&r[3], 3, err, err), XF_OK);

    ck_assert_int_eq(r[1].action, XF_KILL_ROUTE);
    ck_assert_int_eq(match(r, 4, "noisy", "x", "u", "{}"), 0);
    ck_assert_int_eq(match(r, 4, "shop", "trace", "u", "{}"), 1);
    ck_assert_int_eq(match(r, 4, "shop", "view", "u", "{}"), -1);
    ck_assert_int_eq(match(r, 4, "shop", "view", "u",
                           "{\"uuid\":\"abc-123\"}"), 2);
    ck_assert_int_eq(match(r, 4, "shop", "view", "u",
                           "{\"messageId\":\"abc-12\\u0033\"}"), 2);
    ck_assert_int_eq(match(r, 4, "shop", "view", "u-blocked", "{}"), 3);
    ck_assert_int_eq(match(r, 4, "shop", "view", "u-blocked2", "{}"), -1);
    ck_assert_int_eq(match(r, 4, "shop", "view", "", "{}"), -1);

    ck_assert_int_eq(rule(&r[0], 0, "app=a", err), XF_ERR_FORM);
    ck_assert_ptr_nonnull(strstr(err, "drop, dead_letter or route"));
    ck_assert_int_eq(rule(&r[0], 0, "drop", err), XF_ERR_FORM);
    ck_assert_ptr_nonnull(strstr(err, "at least one of"));
    ck_assert_int_eq(rule(&r[0], 0, "distinct_sha256=abc drop", err),
                     XF_ERR_FORM);
    ck_assert_ptr_nonnull(strstr(err, "64 hex digits"));
    ck_assert_int_eq(rule(&r[0], 0, "app=a,,b drop", err), XF_ERR_FORM);
    ck_assert_int_eq(rule(&r[0], 0, "colour=red drop", err), XF_ERR_FORM);
    ck_assert_ptr_nonnull(strstr(err, "\"colour=red\""));
}
END_TEST


/* The time of an event of format f, read and written back as it came. */
static void
time_is(xf_format_t f, const char *json, int64_t want, const char *back)
{
    u_char           buf[XF_TIME_RENDER_MAX];
    size_t           n, off, len;
    xf_time_field_t  t[XF_TIME_FIELDS];

    ck_assert_msg(xf_time_fields(f, (const u_char *) json, strlen(json), t)
                  > 0, "%s: no time", json);
    ck_assert_msg(t[0].ms == want, "%s: %lld, want %lld", json,
                  (long long) t[0].ms, (long long) want);

    off = t[0].off;
    len = t[0].len;
    n = xf_time_render((const u_char *) json + off, len, t[0].ms, buf);

    if (memchr(json + off, '.', len) == NULL) {
        ck_assert_msg(n == len && memcmp(buf, json + off, len) == 0,
                      "%s: rendered %.*s", json, (int) n, buf);
    }

    if (back) {
        n = xf_time_render((const u_char *) json + off, len, 0, buf);
        ck_assert_msg(n == strlen(back) && memcmp(buf, back, n) == 0,
                      "%s: epoch rendered %.*s", json, (int) n, buf);
    }
}


static size_t
times(xf_format_t f, const char *json, xf_time_field_t *t)
{
    return xf_time_fields(f, (const u_char *) json, strlen(json), t);
}


START_TEST(test_time)
{
    xf_time_field_t  t[XF_TIME_FIELDS];

    time_is(XF_FMT_JSON, "{\"timestamp\":\"2026-12-07T20:40:26.123Z\"}",
            1796676026123LL, "\"1970-01-01T00:00:00.000Z\"");
    time_is(XF_FMT_JSON, "{\"time\":1796675426123}", 1796675426123LL, "0");
    time_is(XF_FMT_JSON, "{\"time\":1796675426}", 1796675426000LL, "0");
    time_is(XF_FMT_JSON, "{\"timestamp\":\"2000-02-29T00:00:00.000Z\"}",
            951782400000LL, NULL);

    /* offsets, fractions of any length, a number with a fraction */
    time_is(XF_FMT_JSON,
            "{\"timestamp\":\"2026-12-07T21:40:26.1234567+01:00\"}",
            1796676026123LL, NULL);
    time_is(XF_FMT_JSON, "{\"time\":1796675426.5}", 1796675426000LL, "0");

    ck_assert_uint_eq(times(XF_FMT_JSON, "{\"t\":1}", t), 0);
    ck_assert_uint_eq(times(XF_FMT_JSON, "{\"timestamp\":\"yesterday\"}", t),
                      0);
    ck_assert_uint_eq(times(XF_FMT_JSON,
                            "{\"timestamp\":\"2026-13-07T20:40:26Z\"}", t),
                      0);
    ck_assert_uint_eq(times(XF_FMT_AUTO, "{\"time\":1}", t), 0);
}
END_TEST


/* Each format's own time field, in the kinds its SDKs send. */
START_TEST(test_time_formats)
{
    xf_time_field_t  t[XF_TIME_FIELDS];

    /* Mixpanel: properties.time, seconds (with a fraction) or ms; a
       top-level "time" is not Mixpanel's */
    time_is(XF_FMT_MIXPANEL, "{\"event\":\"a\",\"properties\":{\"token\":"
            "\"t\",\"time\":1796675426.14,\"distinct_id\":\"u\"}}",
            1796675426000LL, "0");
    time_is(XF_FMT_MIXPANEL, "{\"event\":\"a\",\"properties\":"
            "{\"time\":1796675426140}}", 1796675426140LL, "0");
    ck_assert_uint_eq(times(XF_FMT_MIXPANEL, "{\"event\":\"a\","
                            "\"time\":1796675426}", t), 0);
    ck_assert_uint_eq(times(XF_FMT_MIXPANEL, "{\"event\":\"a\","
                            "\"properties\":\"time\"}", t), 0);

    /* Sensors: time in ms, then _flush_time */
    ck_assert_uint_eq(times(XF_FMT_SENSORS, "{\"_flush_time\":"
                            "1796675426999,\"time\":1796675426123}", t), 2);
    ck_assert_int_eq(t[0].ms, 1796675426123LL);
    ck_assert_int_eq(t[1].ms, 1796675426999LL);

    /* PostHog: timestamp, else properties.$time (seconds) */
    time_is(XF_FMT_POSTHOG, "{\"event\":\"e\",\"properties\":{\"$time\":"
            "1796675426.232},\"timestamp\":\"2026-12-07T20:30:26.232Z\"}",
            1796675426232LL, NULL);
    time_is(XF_FMT_POSTHOG, "{\"event\":\"e\",\"properties\":{\"$time\":"
            "1796675426.232}}", 1796675426000LL, "0");

    /* Segment: timestamp; RudderStack: originalTimestamp; sentAt too */
    ck_assert_uint_eq(times(XF_FMT_SEGMENT, "{\"type\":\"track\","
                            "\"sentAt\":\"2026-12-07T20:30:27.000Z\","
                            "\"timestamp\":\"2026-12-07T20:30:26.232Z\"}",
                            t), 2);
    ck_assert_int_eq(t[0].ms, 1796675426232LL);
    ck_assert_int_eq(t[1].ms, 1796675427000LL);
    time_is(XF_FMT_SEGMENT, "{\"type\":\"track\",\"originalTimestamp\":"
            "\"2026-12-07T20:30:26.232Z\",\"sentAt\":"
            "\"2026-12-07T20:30:27.000Z\"}", 1796675426232LL, NULL);

    /* Amplitude: time in ms */
    time_is(XF_FMT_AMPLITUDE, "{\"event_type\":\"e\",\"time\":"
            "1796675426123}", 1796675426123LL, "0");

    /* Snowplow: dtm, stm, strings of ms from the form or the query */
    ck_assert_uint_eq(times(XF_FMT_SNOWPLOW, "{\"e\":\"pv\",\"stm\":"
                            "\"1796675426999\",\"dtm\":\"1796675426123\"}",
                            t), 2);
    ck_assert_int_eq(t[0].ms, 1796675426123LL);
    time_is(XF_FMT_SNOWPLOW, "{\"e\":\"pv\",\"dtm\":\"1796675426123\"}",
            1796675426123LL, "\"0\"");
}
END_TEST


static void
clamp_is(xf_format_t f, const char *json, const char *want)
{
    u_char           out[1024];
    size_t           n, len;
    xf_time_field_t  t[XF_TIME_FIELDS];

    len = strlen(json);
    n = xf_time_fields(f, (const u_char *) json, len, t);
    ck_assert_uint_gt(n, 0);

    /* the limit is 1000 ms after the epoch; now the epoch */
    n = xf_time_clamp((const u_char *) json, len, t, n, 1000, 0, out);
    ck_assert_msg(n == strlen(want) && memcmp(out, want, n) == 0,
                  "%s: %.*s", json, (int) n, out);
}


/* Every time beyond the limit is set to now, each in its own kind. */
START_TEST(test_time_clamp)
{
    clamp_is(XF_FMT_MIXPANEL,
             "{\"event\":\"a\",\"properties\":{\"time\":1796675426.14}}",
             "{\"event\":\"a\",\"properties\":{\"time\":0}}");
    clamp_is(XF_FMT_SEGMENT,
             "{\"sentAt\":\"2026-12-07T20:30:27.000Z\",\"timestamp\":"
             "\"2026-12-07T20:30:26.232Z\",\"x\":1}",
             "{\"sentAt\":\"1970-01-01T00:00:00.000Z\",\"timestamp\":"
             "\"1970-01-01T00:00:00.000Z\",\"x\":1}");
    /* a field within the limit stays */
    clamp_is(XF_FMT_SNOWPLOW,
             "{\"dtm\":\"1796675426123\",\"stm\":\"999\"}",
             "{\"dtm\":\"0\",\"stm\":\"999\"}");
    clamp_is(XF_FMT_SENSORS,
             "{\"time\":1796675426123,\"_flush_time\":1796675426999}",
             "{\"time\":0,\"_flush_time\":0}");
    clamp_is(XF_FMT_POSTHOG,
             "{\"timestamp\":\"2026-12-07T20:30:26.232Z\",\"properties\":"
             "{\"$time\":1796675426.232}}",
             "{\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"properties\":"
             "{\"$time\":0}}");
}
END_TEST


START_TEST(test_placeholders)
{
    size_t     n;
    xf_str_t   list[32], id;

    for (n = 0; xf_placeholder_ids[n]; n++) {
        list[n].data = (const u_char *) xf_placeholder_ids[n];
        list[n].len = strlen(xf_placeholder_ids[n]);
    }

#define PH(s)  (id.data = (const u_char *) (s), id.len = strlen(s), \
                xf_placeholder_id(&id, list, n))

    ck_assert(PH("undefined"));
    ck_assert(PH("NULL"));
    ck_assert(PH("\"null\""));
    ck_assert(PH(" Anonymous "));
    ck_assert(PH("[object Object]"));
    ck_assert(PH("0"));
    ck_assert(PH(""));
    ck_assert(!PH("u-123"));
    ck_assert(!PH("01"));
    ck_assert(!PH("nullx"));

#undef PH
}
END_TEST


/*
 * The id beside a placeholder: the first other id field of the format
 * that is none; 0 when every one is.
 */
static const char *
other(xf_format_t f, const char *json)
{
    size_t           n;
    xf_str_t         list[32], id;
    static u_char    buf[512];

    for (n = 0; xf_placeholder_ids[n]; n++) {
        list[n].data = (const u_char *) xf_placeholder_ids[n];
        list[n].len = strlen(xf_placeholder_ids[n]);
    }

    if (!xf_placeholder_other(f, (const u_char *) json, strlen(json), list,
                              n, buf, &id))
    {
        return NULL;
    }

    buf[id.len] = '\0';

    return (const char *) buf;
}


START_TEST(test_placeholder_formats)
{
    ck_assert_str_eq(other(XF_FMT_AMPLITUDE, "{\"user_id\":\"null\","
                           "\"device_id\":\"d-1\"}"), "d-1");
    ck_assert_str_eq(other(XF_FMT_SEGMENT, "{\"userId\":\"undefined\","
                           "\"anonymousId\":\"a-1\"}"), "a-1");
    ck_assert_str_eq(other(XF_FMT_MIXPANEL, "{\"event\":\"e\",\"properties\":"
                           "{\"distinct_id\":\"[object Object]\","
                           "\"$device_id\":\"dev-1\"}}"), "dev-1");
    ck_assert_str_eq(other(XF_FMT_POSTHOG, "{\"distinct_id\":\"guest\","
                           "\"properties\":{\"distinct_id\":\"anonymous\","
                           "\"$device_id\":\"dev-2\"}}"), "dev-2");
    ck_assert_str_eq(other(XF_FMT_SENSORS, "{\"distinct_id\":\"0\","
                           "\"identities\":{\"$identity_cookie_id\":"
                           "\"c-1\"}}"), "c-1");
    ck_assert_str_eq(other(XF_FMT_SNOWPLOW, "{\"duid\":\"null\","
                           "\"nuid\":\"n-1\"}"), "n-1");
    ck_assert_str_eq(other(XF_FMT_JSON, "{\"distinct_id\":\"none\","
                           "\"user_id\":\"u\\u002d1\"}"), "u-1");

    /* nothing but placeholders, a number, nothing at all */
    ck_assert_ptr_null(other(XF_FMT_MIXPANEL, "{\"$distinct_id\":\"NaN\","
                             "\"$set\":{}}"));
    ck_assert_ptr_null(other(XF_FMT_AMPLITUDE, "{\"user_id\":\"null\","
                             "\"device_id\":\"undefined\"}"));
    ck_assert_ptr_null(other(XF_FMT_SEGMENT, "{\"userId\":\"null\","
                             "\"anonymousId\":7}"));
    ck_assert_ptr_null(other(XF_FMT_SNOWPLOW, "{\"e\":\"pv\"}"));
    ck_assert_ptr_null(other(XF_FMT_AUTO, "{\"distinct_id\":\"u\"}"));
}
END_TEST


Suite *
make_hygiene_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("hygiene");
    tc = tcase_create("hygiene");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_kill);
    tcase_add_test(tc, test_time);
    tcase_add_test(tc, test_time_formats);
    tcase_add_test(tc, test_time_clamp);
    tcase_add_test(tc, test_placeholders);
    tcase_add_test(tc, test_placeholder_formats);
    suite_add_tcase(s, tc);

    return s;
}
