/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-route.c - routing rules: parsing, first-match order, copy, keys,
 * indexes agreeing with a plain scan.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_route.h"


#define MAX_RULES  1100


/*
 * Routing tables live in nginx's configuration pool and are never freed
 * one by one: the tests give them an arena that is freed whole.
 */
typedef struct {
    void    **blocks;
    size_t    n;
    size_t    cap;
} arena_t;

static arena_t  arena;


static void *
arena_alloc(void *data, size_t size)
{
    arena_t  *ar = data;

    if (ar->n == ar->cap) {
        ar->cap = ar->cap ? 2 * ar->cap : 64;
        ar->blocks = realloc(ar->blocks, ar->cap * sizeof(void *));
        ck_assert_ptr_nonnull(ar->blocks);
    }

    return ar->blocks[ar->n++] = malloc(size);
}


static void
arena_free(void *data, void *p)
{
    /* freed with the arena */
}


static const xf_alloc_t  pool = { arena_alloc, arena_free, &arena };


static void
arena_teardown(void)
{
    size_t  i;

    for (i = 0; i < arena.n; i++) {
        free(arena.blocks[i]);
    }

    free(arena.blocks);
    memset(&arena, 0, sizeof(arena));
}

typedef struct {
    xf_route_rule_t    rules[MAX_RULES];
    uint32_t           topics[MAX_RULES];
    char               text[MAX_RULES][8][64];
    size_t             n;
    xf_route_table_t  *table;
} fixture_t;


/* Split "event=a topic=t copy" into tokens and parse one rule. */
static xf_status_t
add_rule(fixture_t *f, const char *line, char *err, size_t err_len)
{
    size_t       n;
    char        *tok, *save, buf[512];
    xf_str_t     tokens[8];

    snprintf(buf, sizeof(buf), "%s", line);
    n = 0;

    for (tok = strtok_r(buf, " ", &save); tok && n < 8;
         tok = strtok_r(NULL, " ", &save))
    {
        snprintf(f->text[f->n][n], 64, "%s", tok);
        tokens[n].data = (const u_char *) f->text[f->n][n];
        tokens[n].len = strlen(f->text[f->n][n]);
        n++;
    }

    f->topics[f->n] = (uint32_t) f->n + 100;

    return xf_route_rule_parse(tokens, n, &pool, &f->rules[f->n++],
                               err, err_len);
}


static fixture_t *
build(const char **lines)
{
    char        err[256];
    fixture_t  *f;

    f = arena_alloc(&arena, sizeof(fixture_t));
    ck_assert_ptr_nonnull(f);
    memset(f, 0, sizeof(fixture_t));

    for ( ; *lines; lines++) {
        ck_assert_msg(add_rule(f, *lines, err, sizeof(err)) == XF_OK,
                      "%s: %s", *lines, err);
    }

    ck_assert_int_eq(xf_route_compile(f->rules, f->topics, f->n,
                                      &pool, &f->table), XF_OK);
    return f;
}


static xf_route_event_t
event(const char *name, const char *app, xf_format_t fmt, const char *json)
{
    xf_route_event_t  ev;

    ev.name.data = (const u_char *) name;
    ev.name.len = strlen(name);
    ev.app.data = (const u_char *) app;
    ev.app.len = strlen(app);
    ev.format = fmt;
    ev.tier.data = NULL;
    ev.tier.len = 0;
    ev.event = (const u_char *) json;
    ev.event_len = json ? strlen(json) : 0;

    return ev;
}


/* The rule numbers an event is routed to, as "0,3" (topics - 100). */
static const char *
route(fixture_t *f, xf_route_event_t ev)
{
    size_t              i, n;
    static char         out[256];
    xf_route_target_t   t[XF_ROUTE_MAX_TARGETS];
    char               *p;

    n = xf_route_match(f->table, &ev, t);
    p = out;
    *p = '\0';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s%u", i ? "," : "", t[i].topic - 100);
    }

    return out;
}


START_TEST(test_first_match_and_copy)
{
    static const char  *rules[] = {
        "event=purchase topic=orders copy",
        "event={page_view,click} topic=web",
        "event=order_* topic=order_events",
        "app=shop topic=shop",
        "event=click app=shop topic=never",
        "has=$device_id topic=devices",
        "event=alpha,beta* topic=bare_set",
        NULL
    };
    fixture_t  *f = build(rules);

    ck_assert_str_eq(route(f, event("purchase", "shop", XF_FMT_JSON, "{}")),
                     "0,3");
    ck_assert_str_eq(route(f, event("page_view", "x", XF_FMT_JSON, "{}")),
                     "1");
    ck_assert_str_eq(route(f, event("click", "shop", XF_FMT_JSON, "{}")),
                     "1");
    ck_assert_str_eq(route(f, event("order_paid", "x", XF_FMT_JSON, "{}")),
                     "2");
    ck_assert_str_eq(route(f, event("signup", "shop", XF_FMT_JSON, "{}")),
                     "3");
    ck_assert_str_eq(route(f, event("signup", "other", XF_FMT_JSON,
                                    "{\"properties\":{\"$device_id\":1}}")),
                     "5");
    ck_assert_str_eq(route(f, event("signup", "other", XF_FMT_JSON,
                                    "{\"$device_id\":null}")),
                     "5");
    ck_assert_str_eq(route(f, event("signup", "other", XF_FMT_JSON,
                                    "{\"p\":{\"$device_id\":1}}")), "");
    ck_assert_str_eq(route(f, event("", "", XF_FMT_JSON, "{}")), "");
    ck_assert_str_eq(route(f, event("alpha", "", XF_FMT_JSON, "{}")), "6");
    ck_assert_str_eq(route(f, event("betamax", "", XF_FMT_JSON, "{}")), "6");
}
END_TEST


/* tier= matches the plan's tier, indexed with an event name or not. */
START_TEST(test_tiers)
{
    xf_route_event_t    ev;
    static const char  *rules[] = {
        "event=purchase tier=gold topic=gold_orders",
        "tier=gold,silver* topic=valued",
        "app=shop tier=bronze topic=shop_cheap",
        NULL
    };
    fixture_t  *f = build(rules);

    ev = event("purchase", "shop", XF_FMT_JSON, "{}");
    ev.tier.data = (const u_char *) "gold";
    ev.tier.len = 4;
    ck_assert_str_eq(route(f, ev), "0");

    ev = event("view", "x", XF_FMT_JSON, "{}");
    ev.tier.data = (const u_char *) "silver_2";
    ev.tier.len = 8;
    ck_assert_str_eq(route(f, ev), "1");

    ev = event("view", "shop", XF_FMT_JSON, "{}");
    ev.tier.data = (const u_char *) "bronze";
    ev.tier.len = 6;
    ck_assert_str_eq(route(f, ev), "2");

    /* no tier: no tier= rule */
    ck_assert_str_eq(route(f, event("purchase", "shop", XF_FMT_JSON, "{}")),
                     "");
}
END_TEST


START_TEST(test_keys_and_formats)
{
    size_t             n;
    xf_route_target_t  t[XF_ROUTE_MAX_TARGETS];
    xf_route_event_t   ev;
    static const char *rules[] = {
        "format={posthog,segment} event=x topic=a key=app",
        "format=sensors topic=b key=none",
        "event=x topic=c",
        NULL
    };
    fixture_t  *f = build(rules);

    ev = event("x", "k", XF_FMT_SEGMENT, "{}");
    n = xf_route_match(f->table, &ev, t);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(t[0].topic, 100);
    ck_assert_int_eq(t[0].key, XF_ROUTE_KEY_APP);

    ev = event("y", "k", XF_FMT_SENSORS, "{}");
    n = xf_route_match(f->table, &ev, t);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(t[0].topic, 101);
    ck_assert_int_eq(t[0].key, XF_ROUTE_KEY_NONE);

    ev = event("x", "k", XF_FMT_JSON, "{}");
    n = xf_route_match(f->table, &ev, t);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(t[0].topic, 102);
    ck_assert_int_eq(t[0].key, XF_ROUTE_KEY_DISTINCT);
}
END_TEST


START_TEST(test_parse_errors)
{
    char         err[256];
    size_t       i;
    fixture_t   *f;
    static const char *bad[] = {
        "event=a",                      /* no topic */
        "topic=t",                      /* no condition */
        "event= topic=t",
        "event={a,,b} topic=t",
        "event={} topic=t",
        "format=bogus topic=t",
        "format=auto topic=t",
        "format=json* topic=t",
        "key=user topic=t event=a",
        "colour=red topic=t",
    };

    f = arena_alloc(&arena, sizeof(fixture_t));
    memset(f, 0, sizeof(fixture_t));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(add_rule(f, bad[i], err, sizeof(err)) != XF_OK,
                      "accepted: %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
    }

}
END_TEST


/* The indexed match agrees with evaluating every rule in order. */
static const char *
scan(fixture_t *f, xf_route_event_t ev)
{
    size_t              i;
    static char         out[256];
    char               *p;
    xf_route_table_t   *one;
    xf_route_target_t   t[XF_ROUTE_MAX_TARGETS];
    size_t              nout;

    p = out;
    *p = '\0';
    nout = 0;

    for (i = 0; i < f->n && nout < XF_ROUTE_MAX_TARGETS; i++) {
        ck_assert_int_eq(xf_route_compile(&f->rules[i], &f->topics[i], 1,
                                          &pool, &one), XF_OK);

        if (xf_route_match(one, &ev, t)) {
            p += sprintf(p, "%s%u", nout ? "," : "", t[0].topic - 100);
            nout++;

            if (!f->rules[i].copy) {
                break;
            }
        }
    }

    return out;
}


/* More prefix rules on one name's path than a walk gathers: all checked. */
START_TEST(test_crowded_prefix_path)
{
    char         line[64], err[256];
    size_t       i;
    fixture_t   *f;

    f = arena_alloc(&arena, sizeof(fixture_t));
    memset(f, 0, sizeof(fixture_t));

    for (i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "event=%s topic=t%s",
                 i % 2 ? "a*" : "ab*", i < 90 ? " copy" : "");
        ck_assert_msg(add_rule(f, line, err, sizeof(err)) == XF_OK, "%s", err);
    }

    ck_assert_int_eq(xf_route_compile(f->rules, f->topics, f->n, &pool,
                                      &f->table), XF_OK);

    /* 16 targets at most, in rule order */
    ck_assert_str_eq(route(f, event("abc", "", XF_FMT_JSON, "{}")),
                     "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
    ck_assert_str_eq(route(f, event("ax", "", XF_FMT_JSON, "{}")),
                     "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31");
    ck_assert_str_eq(route(f, event("b", "", XF_FMT_JSON, "{}")), "");
}
END_TEST


START_TEST(test_thousand_rules_agree_with_scan)
{
    char         line[128], err[256], name[32], app[32];
    size_t       i, k;
    fixture_t   *f;
    unsigned     seed = 7;
    char         a[256];

    xf_route_event_t  ev;

    f = arena_alloc(&arena, sizeof(fixture_t));
    memset(f, 0, sizeof(fixture_t));

    for (i = 0; i < 1000; i++) {
        seed = seed * 1103515245 + 12345;

        switch ((seed >> 16) % 6) {
        case 0:
            snprintf(line, sizeof(line), "event=e%zu topic=t", i % 300);
            break;
        case 1:
            snprintf(line, sizeof(line), "event={e%zu,e%zu} app=a%zu "
                     "topic=t copy", i % 300, (i * 7) % 300, i % 5);
            break;
        case 2:
            snprintf(line, sizeof(line), "app=a%zu topic=t%s", i % 20,
                     i % 3 ? "" : " copy");
            break;
        case 3:
            snprintf(line, sizeof(line), "event=e%zu* topic=t copy", i % 40);
            break;
        case 4:
            /* 50 names: indexed; 200: over the index's 64, rule by rule */
            snprintf(line, sizeof(line), "has=p%zu topic=t",
                     i % (_i ? 200 : 50));
            break;
        default:
            snprintf(line, sizeof(line), "event=e%zu format=json topic=t",
                     i % 300);
        }

        ck_assert_msg(add_rule(f, line, err, sizeof(err)) == XF_OK, "%s", err);
    }

    ck_assert_int_eq(xf_route_compile(f->rules, f->topics, f->n,
                                      &pool, &f->table), XF_OK);
    ck_assert_uint_eq(xf_route_count(f->table), 1000);

    for (k = 0; k < 3000; k++) {
        seed = seed * 1103515245 + 12345;
        snprintf(name, sizeof(name), "e%u", (seed >> 8) % 330);
        snprintf(app, sizeof(app), "a%u", (seed >> 4) % 25);
        snprintf(line, sizeof(line),
                 (seed & 2) ? "{\"p%u\":1}" : "{\"properties\":{\"p%u\":1}}",
                 (seed >> 12) % (_i ? 210 : 60));

        ev = event(name, app, (seed & 1) ? XF_FMT_JSON : XF_FMT_SENSORS,
                   line);

        snprintf(a, sizeof(a), "%s", route(f, ev));
        ck_assert_str_eq(a, scan(f, ev));
    }

}
END_TEST


Suite *
make_route_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("route");

    tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, arena_teardown);
    tcase_add_test(tc, test_first_match_and_copy);
    tcase_add_test(tc, test_tiers);
    tcase_add_test(tc, test_keys_and_formats);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, arena_teardown);
    tcase_add_loop_test(tc, test_thousand_rules_agree_with_scan, 0, 2);
    tcase_add_test(tc, test_crowded_prefix_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, arena_teardown);
    tcase_add_test(tc, test_parse_errors);
    suite_add_tcase(s, tc);

    return s;
}
