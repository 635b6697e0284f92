/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-hygiene.c - kill switches (parsed, refused, matched by app, name,
 * hashed distinct id and event id), event times (read in each kind and
 * written back in the same kind) and placeholder distinct ids.
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


static void
time_is(const char *json, int64_t want, const char *back)
{
    u_char   buf[48];
    size_t   off, len, n;
    int64_t  ms;

    ck_assert_msg(xf_time_of_event((const u_char *) json, strlen(json), &ms,
                                   &off, &len) == XF_OK, "%s", json);
    ck_assert_msg(ms == want, "%s: %lld, want %lld", json, (long long) ms,
                  (long long) want);

    n = xf_time_render((const u_char *) json + off, len, ms, buf);
    ck_assert_msg(n == len && memcmp(buf, json + off, len) == 0,
                  "%s: rendered %.*s", json, (int) n, buf);

    if (back) {
        n = xf_time_render((const u_char *) json + off, len, 0, buf);
        ck_assert_msg(n == strlen(back) && memcmp(buf, back, n) == 0,
                      "%s: epoch rendered %.*s", json, (int) n, buf);
    }
}


START_TEST(test_time)
{
    int64_t  ms;
    size_t   off, len;

    time_is("{\"timestamp\":\"2026-12-07T20:40:26.123Z\"}", 1796676026123LL,
            "\"1970-01-01T00:00:00.000Z\"");
    time_is("{\"time\":1796675426123}", 1796675426123LL, "0");
    time_is("{\"time\":1796675426}", 1796675426000LL, "0");
    time_is("{\"dtm\":\"1796675426123\"}", 1796675426123LL, "\"0\"");
    time_is("{\"timestamp\":\"2000-02-29T00:00:00.000Z\"}", 951782400000LL,
            NULL);

    /* offsets, fractions of any length, a number with a fraction */
    ck_assert_int_eq(xf_time_of_event((const u_char *)
        "{\"timestamp\":\"2026-12-07T21:40:26.1234567+01:00\"}", 51, &ms,
        &off, &len), XF_OK);
    ck_assert_int_eq(ms, 1796676026123LL);
    ck_assert_int_eq(xf_time_of_event((const u_char *)
        "{\"time\":1796675426.5}", 21, &ms, &off, &len), XF_OK);
    ck_assert_int_eq(ms, 1796675426000LL);

    ck_assert_int_eq(xf_time_of_event((const u_char *) "{\"t\":1}", 7, &ms,
                                      &off, &len), XF_ERR_EMPTY);
    ck_assert_int_eq(xf_time_of_event((const u_char *)
        "{\"timestamp\":\"yesterday\"}", 25, &ms, &off, &len), XF_ERR_EMPTY);
    ck_assert_int_eq(xf_time_of_event((const u_char *)
        "{\"timestamp\":\"2026-13-07T20:40:26Z\"}", 36, &ms, &off, &len),
        XF_ERR_EMPTY);
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
    tcase_add_test(tc, test_placeholders);
    suite_add_tcase(s, tc);

    return s;
}
