/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-plan.c - the tracking plan: a plan file parsed, and refused with
 * the line of its fault; events checked against it (unknown, missing or
 * mistyped properties, closed events, tiers), with names escaped as
 * clients escape them.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_plan.h"
#include "xf_unit.h"
#include "xf_arena.h"


static const char  plan_text[] =
    "{\n"
    "  \"description\": \"the shop\",\n"
    "  \"apps\": {\n"
    "    \"shop\": {\n"
    "      \"tier\": \"silver\",\n"
    "      \"events\": {\n"
    "        \"purchase\": {\n"
    "          \"tier\": \"gold\",\n"
    "          \"required\": [\"price\", \"sku\"],\n"
    "          \"properties\": {\n"
    "            \"price\": {\"type\": \"number\"},\n"
    "            \"qty\": {\"type\": \"integer\"},\n"
    "            \"sku\": {\"type\": \"string\"},\n"
    "            \"coupon\": {\"type\": [\"string\", \"null\"]}\n"
    "          },\n"
    "          \"additionalProperties\": false\n"
    "        },\n"
    "        \"page_view\": {},\n"
    "        \"search\": {\"required\": [\"q\"]}\n"
    "      }\n"
    "    },\n"
    "    \"blog\": {\"events\": {\"read\": {\"tier\": \"bronze\"}}}\n"
    "  }\n"
    "}\n";


/* A plan lives in nginx's configuration pool: here, in this arena. */
static xf_arena_block_t  *arena;


static void
teardown(void)
{
    xf_arena_free(arena);
    arena = NULL;
}


static xf_plan_t *
load(const char *text)
{
    char        err[256];
    size_t      line;
    xf_plan_t  *plan;
    xf_alloc_t  a;

    a = xf_arena(&arena);
    ck_assert_msg(xf_plan_parse((const u_char *) text, strlen(text),
                                &a, &plan, err, sizeof(err), &line)
                  == XF_OK, "line %zu: %s", line, err);

    return plan;
}


static void
check(xf_plan_t *plan, const char *app, const char *name, const char *ev,
    xf_catalog_plan_t want, const char *tier, const char *why)
{
    xf_str_t          a, n;
    xf_plan_result_t  res;

    a.data = (const u_char *) app;
    a.len = strlen(app);
    n.data = (const u_char *) name;
    n.len = strlen(name);

    xf_plan_check(plan, &a, &n, (const u_char *) ev, strlen(ev), &res);

    ck_assert_msg(res.verdict == want, "%s %s %s: %s, want %s (%s)", app,
                  name, ev, xf_catalog_plan_name(res.verdict),
                  xf_catalog_plan_name(want), res.why);
    ck_assert_msg(res.tier.len == strlen(tier)
                  && (res.tier.len == 0
                      || memcmp(res.tier.data, tier, res.tier.len) == 0),
                  "%s: tier %.*s, want %s", name, (int) res.tier.len,
                  res.tier.data, tier);

    if (why) {
        ck_assert_msg(strstr(res.why, why) != NULL, "%s: why \"%s\", want "
                      "\"%s\"", ev, res.why, why);
    }
}


START_TEST(test_check)
{
    xf_plan_t  *plan;

    plan = load(plan_text);
    ck_assert_uint_eq(xf_plan_apps(plan), 2);
    ck_assert_uint_eq(xf_plan_events(plan), 4);

    check(plan, "shop", "purchase",
          "{\"event\":\"purchase\",\"properties\":{\"price\":9.5,"
          "\"sku\":\"a\",\"coupon\":null,\"qty\":2}}",
          XF_CATALOG_PLAN_CONFORMS, "gold", NULL);

    /* escaped names are the names they spell */
    check(plan, "shop", "purchase",
          "{\"properties\":{\"pric\\u0065\":1,\"sku\":\"a\"}}",
          XF_CATALOG_PLAN_CONFORMS, "gold", NULL);

    check(plan, "shop", "purchase",
          "{\"properties\":{\"price\":\"9.5\",\"sku\":\"a\"}}",
          XF_CATALOG_PLAN_INVALID, "gold", "\"price\" is not a number");

    check(plan, "shop", "purchase",
          "{\"properties\":{\"price\":1,\"sku\":\"a\",\"qty\":1.5}}",
          XF_CATALOG_PLAN_INVALID, "gold", "\"qty\" is not an integer");

    check(plan, "shop", "purchase", "{\"properties\":{\"price\":1}}",
          XF_CATALOG_PLAN_INVALID, "gold",
          "required property \"sku\" is missing");

    check(plan, "shop", "purchase",
          "{\"properties\":{\"price\":1,\"sku\":\"a\",\"extra\":1}}",
          XF_CATALOG_PLAN_INVALID, "gold", "\"extra\" not in the plan");

    /* no schema: any properties; the app's tier */
    check(plan, "shop", "page_view", "{\"properties\":{\"x\":1}}",
          XF_CATALOG_PLAN_CONFORMS, "silver", NULL);

    /* required without a type: any type; top-level members without
       a properties object */
    check(plan, "shop", "search", "{\"q\":[1]}", XF_CATALOG_PLAN_CONFORMS,
          "silver", NULL);
    check(plan, "shop", "search", "{\"properties\":{}}",
          XF_CATALOG_PLAN_INVALID, "silver", "\"q\" is missing");

    /* Amplitude's properties */
    check(plan, "shop", "search", "{\"event_properties\":{\"q\":\"s\"}}",
          XF_CATALOG_PLAN_CONFORMS, "silver", NULL);

    check(plan, "shop", "refund", "{}", XF_CATALOG_PLAN_UNKNOWN, "",
          "not in the plan");
    check(plan, "blog", "read", "{}", XF_CATALOG_PLAN_CONFORMS, "bronze",
          NULL);
    check(plan, "other", "purchase", "{}", XF_CATALOG_PLAN_NONE, "", NULL);
    check(plan, "", "", "{}", XF_CATALOG_PLAN_NONE, "", NULL);
}
END_TEST


/* A plan that is refused, and the line the refusal names. */
static void
refused(const char *text, size_t want_line, const char *want)
{
    char        err[256];
    size_t      line;
    xf_plan_t  *plan;
    xf_alloc_t  a;

    plan = NULL;
    a = xf_arena(&arena);
    ck_assert_msg(xf_plan_parse((const u_char *) text, strlen(text),
                                &a, &plan, err, sizeof(err), &line)
                  != XF_OK, "accepted: %s", text);
    ck_assert_msg(line == want_line, "line %zu, want %zu: %s", line,
                  want_line, err);
    ck_assert_msg(strstr(err, want) != NULL, "\"%s\", want \"%s\"", err,
                  want);
}


START_TEST(test_refused)
{
    refused("", 1, "not JSON");
    refused("{\n\"apps\": {\n\"a\": {\"events\": {,}}\n}}", 3, "not JSON");
    refused("[]", 1, "\"apps\"");
    refused("{\"apps\": {}} x", 1, "after the plan");
    refused("{\n\"aps\": {}\n}", 2, "unknown member \"aps\"");
    refused("{\"apps\": {\n\"a\": {\n\"events\": {\n\"e\": {\n"
            "\"properties\": {\"p\": {\"type\": \"numbr\"}}}}}}}",
            5, "unknown type \"numbr\"");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": {\n\n"
            "\"requird\": []}}}}}", 3, "unknown member \"requird\"");
    refused("{\"apps\": {\"a\": {\"tier\": 1, \"events\": {}}}}", 1,
            "\"tier\" must be a string");
    refused("{\"apps\": {\"a\": {}}}", 1, "has no \"events\"");
    refused("{\"apps\": {\"a\": {\"events\": {}},\n\"a\": {\"events\": {}}}}",
            2, "given twice");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": {},\n\"e\": {}}}}}", 2,
            "given twice");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": {\"required\": "
            "[\"x\", \"x\"]}}}}}", 1, "required twice");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": {\"required\": "
            "[1]}}}}}", 1, "array of property names");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": {\"properties\": "
            "{\"p\": {\"type\": \"string\", \"enum\": [1]}}}}}}}", 1,
            "\"type\" only");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": {\"properties\": "
            "{\"p\": {\"type\": []}}}}}}}", 1, "type name");
    refused("{\"apps\": {\"a\": {\"events\": {\"e\": "
            "{\"additionalProperties\": 0}}}}}", 1, "true or false");
}
END_TEST


/* Many events: each found, by binary search, in a plan of 500. */
START_TEST(test_many)
{
    char        *text, name[32], ev[64];
    size_t       i, len;
    xf_plan_t   *plan;

    text = malloc(64 * 1024);
    len = (size_t) sprintf(text, "{\"apps\": {\"a\": {\"events\": {");

    for (i = 0; i < 500; i++) {
        len += (size_t) sprintf(text + len, "%s\"e%zu\": {\"required\": "
                                "[\"p%zu\"]}", i ? "," : "", i, i % 7);
    }

    sprintf(text + len, "}}}}");

    plan = load(text);
    ck_assert_uint_eq(xf_plan_events(plan), 500);

    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "e%zu", i);
        snprintf(ev, sizeof(ev), "{\"properties\":{\"p%zu\":1}}", i % 7);
        check(plan, "a", name, ev, XF_CATALOG_PLAN_CONFORMS, "", NULL);
        snprintf(ev, sizeof(ev), "{\"properties\":{\"p%zu\":1}}",
                 (i + 1) % 7);
        check(plan, "a", name, ev, XF_CATALOG_PLAN_INVALID, "", "missing");
    }

    check(plan, "a", "e500", "{}", XF_CATALOG_PLAN_UNKNOWN, "", NULL);

    free(text);
}
END_TEST


START_TEST(test_nomem)
{
    char                 err[256];
    size_t               i, line, calls;
    xf_plan_t           *plan;
    xf_alloc_t           a;
    xf_arena_failing_t   f;

    memset(&f, 0, sizeof(f));
    a = xf_arena_failing(&f);
    ck_assert_int_eq(xf_plan_parse((const u_char *) plan_text,
                                   strlen(plan_text), &a, &plan, err,
                                   sizeof(err), &line), XF_OK);
    calls = f.calls;
    xf_arena_free(f.head);

    for (i = 1; i <= calls; i++) {
        memset(&f, 0, sizeof(f));
        f.fail_at = i;
        a = xf_arena_failing(&f);
        ck_assert_int_eq(xf_plan_parse((const u_char *) plan_text,
                                       strlen(plan_text), &a, &plan, err,
                                       sizeof(err), &line), XF_ERR_NOMEM);
        xf_arena_free(f.head);
    }
}
END_TEST


Suite *
make_plan_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("plan");
    tc = tcase_create("plan");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_check);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_many);
    tcase_add_test(tc, test_nomem);
    suite_add_tcase(s, tc);

    return s;
}
