/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-catalog.c - the event catalog's table: counts, bytes, reasons and
 * times per app, format and name; properties and their types; the bound
 * under a flood of names (the frequent ones stay); Space-Saving's
 * promise for properties; a reload keeping the table; a copy rendering
 * like the table; the JSON it renders.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_catalog.h"
#include "xf_unit.h"


static xf_catalog_t *
table(uint32_t capacity, void **mem, size_t *size)
{
    xf_catalog_t  *cat;

    *size = xf_catalog_size_for(capacity);
    *mem = malloc(*size);
    ck_assert_ptr_nonnull(*mem);
    memset(*mem, 0xa5, *size);

    cat = xf_catalog_init(*mem, *size, 12345, 1000);
    ck_assert_ptr_nonnull(cat);
    ck_assert_uint_eq(xf_catalog_capacity(cat), capacity);

    return cat;
}


static void
event(xf_catalog_event_t *ev, const char *app, const char *name,
    xf_format_t format, const char *json)
{
    memset(ev, 0, sizeof(xf_catalog_event_t));
    ev->app.data = (const u_char *) app;
    ev->app.len = strlen(app);
    ev->name.data = (const u_char *) name;
    ev->name.len = strlen(name);
    ev->format = format;
    ev->p = (const u_char *) json;
    ev->len = strlen(json);
}


/* The rendered JSON, parsed. */
static json_t *
render(const xf_catalog_t *cat, const char *app)
{
    json_t            *j;
    xf_str_t           a;
    json_error_t       err;
    xf_buf_t           out;

    memset(&out, 0, sizeof(out));
    a.data = (const u_char *) app;
    a.len = app ? strlen(app) : 0;

    ck_assert_int_eq(xf_catalog_render(cat, &a, 2000, &out, &xf_alloc_libc),
                     XF_OK);
    j = json_loadb((const char *) out.p, out.len, 0, &err);
    ck_assert_msg(j != NULL, "%s: %.*s", err.text, (int) out.len, out.p);
    free(out.p);

    return j;
}


static json_t *
entry(json_t *j, const char *app, const char *name)
{
    size_t   i;
    json_t  *e;

    json_array_foreach(json_object_get(j, "entries"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "app")), app) == 0
            && strcmp(json_string_value(json_object_get(e, "event")), name)
               == 0)
        {
            return e;
        }
    }

    return NULL;
}


static uint64_t
num(json_t *o, const char *name)
{
    json_t  *v;

    v = json_object_get(o, name);
    ck_assert_msg(json_is_integer(v), "no %s", name);

    return (uint64_t) json_integer_value(v);
}


static json_t *
prop(json_t *e, const char *name)
{
    size_t   i;
    json_t  *p;

    json_array_foreach(json_object_get(e, "properties"), i, p) {
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
        {
            return p;
        }
    }

    return NULL;
}


START_TEST(test_counts)
{
    void                *mem;
    size_t               size;
    json_t              *j, *e, *p;
    xf_catalog_t        *cat;
    xf_catalog_event_t   ev;

    static const char  view[] =
        "{\"event\":\"view\",\"properties\":{\"url\":\"/a\",\"n\":1,"
        "\"ok\":true,\"tags\":[1],\"x\\u0041\":null}}";

    cat = table(64, &mem, &size);

    event(&ev, "shop", "view", XF_FMT_POSTHOG, view);
    ck_assert_uint_eq(xf_catalog_record(cat, &ev, 1001), 0);
    ck_assert_uint_eq(xf_catalog_record(cat, &ev, 1005), 0);

    /* another format is another entry */
    event(&ev, "shop", "view", XF_FMT_JSON, "{\"url\":false}");
    xf_catalog_record(cat, &ev, 1002);

    event(&ev, "shop", "view", XF_FMT_POSTHOG, "[1]");
    ev.error = XF_ERR_NOT_OBJECT;
    xf_catalog_record(cat, &ev, 1006);

    ck_assert_uint_eq(xf_catalog_used(cat), 2);

    j = render(cat, NULL);
    ck_assert_uint_eq(num(j, "events"), 4);
    ck_assert_uint_eq(num(j, "invalid"), 1);
    ck_assert_uint_eq(num(j, "bytes"), 2 * strlen(view) + 13 + 3);
    ck_assert_uint_eq(num(j, "started"), 1000);

    /* most events first */
    e = json_array_get(json_object_get(j, "entries"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "format")),
                     "posthog");
    ck_assert_uint_eq(num(e, "events"), 3);
    ck_assert_uint_eq(num(e, "bytes"), 2 * strlen(view) + 3);
    ck_assert_uint_eq(num(e, "invalid"), 1);
    ck_assert_uint_eq(num(json_object_get(e, "reasons"), "not_object"), 1);
    ck_assert_uint_eq(num(e, "first_seen"), 1001);
    ck_assert_uint_eq(num(e, "last_seen"), 1006);
    ck_assert_uint_eq(num(e, "property_events"), 2);
    ck_assert_uint_eq(num(json_object_get(e, "plan"), "none"), 3);

    p = prop(e, "url");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(num(p, "count"), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(p, "types")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(p, "types"), 0)), "string");
    ck_assert_ptr_nonnull(prop(e, "n"));
    ck_assert_ptr_nonnull(prop(e, "ok"));
    ck_assert_ptr_nonnull(prop(e, "tags"));
    /* names unescaped */
    ck_assert_ptr_nonnull(prop(e, "xA"));
    ck_assert_ptr_null(prop(e, "event"));

    /* no "properties" object: the top level */
    e = json_array_get(json_object_get(j, "entries"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(e, "format")), "json");
    p = prop(e, "url");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(p, "types"), 0)), "boolean");

    json_decref(j);
    free(mem);
}
END_TEST


START_TEST(test_types_and_amplitude)
{
    void                *mem;
    size_t               size;
    json_t              *j, *e, *t;
    xf_catalog_t        *cat;
    xf_catalog_event_t   ev;

    cat = table(8, &mem, &size);

    event(&ev, "a", "click", XF_FMT_AMPLITUDE,
          "{\"event_type\":\"click\",\"event_properties\":{\"v\":1}}");
    xf_catalog_record(cat, &ev, 1);
    event(&ev, "a", "click", XF_FMT_AMPLITUDE,
          "{\"event_type\":\"click\",\"event_properties\":{\"v\":\"1\"}}");
    xf_catalog_record(cat, &ev, 1);
    event(&ev, "a", "click", XF_FMT_AMPLITUDE,
          "{\"event_type\":\"click\",\"event_properties\":{\"v\":{}}}");
    xf_catalog_record(cat, &ev, 1);

    j = render(cat, NULL);
    e = entry(j, "a", "click");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(prop(e, "event_type"));
    ck_assert_uint_eq(num(prop(e, "v"), "count"), 3);
    t = json_object_get(prop(e, "v"), "types");
    ck_assert_uint_eq(json_array_size(t), 3);

    json_decref(j);
    free(mem);
}
END_TEST


START_TEST(test_flood_keeps_frequent)
{
    char                 name[32];
    void                *mem;
    size_t               size, i;
    json_t              *j, *e;
    xf_catalog_t        *cat;
    xf_catalog_event_t   ev;

    cat = table(64, &mem, &size);

    /* ten names that fire */
    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "real_%zu", i % 10);
        event(&ev, "app", name, XF_FMT_JSON, "{}");
        xf_catalog_record(cat, &ev, 1);
    }

    /* then a flood of names seen once */
    for (i = 0; i < 100000; i++) {
        snprintf(name, sizeof(name), "junk_%zu", i);
        event(&ev, "app", name, XF_FMT_JSON, "{}");
        xf_catalog_record(cat, &ev, 2);
    }

    ck_assert_uint_eq(xf_catalog_used(cat), 64);
    ck_assert_uint_ge(xf_catalog_evicted(cat), 100000 - 64);

    j = render(cat, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "entries")), 64);

    for (i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "real_%zu", i);
        e = entry(j, "app", name);
        ck_assert_msg(e != NULL, "%s evicted", name);
        ck_assert_uint_eq(num(e, "events"), 100);
    }

    /* the totals count every event, evicted or not */
    ck_assert_uint_eq(num(j, "events"), 101000);

    json_decref(j);
    free(mem);
}
END_TEST


/*
 * Space-Saving: a property in more than 1/XF_CATALOG_PROPS of the
 * events is kept, with a count never below the true one.
 */
START_TEST(test_props_heavy_hitters)
{
    char                 buf[128];
    void                *mem;
    size_t               size, i;
    json_t              *j, *e, *p;
    xf_catalog_t        *cat;
    xf_catalog_event_t   ev;

    cat = table(4, &mem, &size);

    for (i = 0; i < 3000; i++) {
        snprintf(buf, sizeof(buf),
                 "{\"properties\":{\"rare_%zu\":1,%s\"x\":1}}", i,
                 i % 3 == 0 ? "\"often\":\"s\"," : "");
        event(&ev, "a", "e", XF_FMT_POSTHOG, buf);
        xf_catalog_record(cat, &ev, 1);
    }

    j = render(cat, NULL);
    e = entry(j, "a", "e");
    ck_assert_uint_le(json_array_size(json_object_get(e, "properties")),
                      XF_CATALOG_PROPS);

    p = prop(e, "x");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(num(p, "count"), 3000);
    p = prop(e, "often");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(num(p, "count"), 1000);

    /* the most counted first */
    p = json_array_get(json_object_get(e, "properties"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "x");

    json_decref(j);
    free(mem);
}
END_TEST


START_TEST(test_reload_keeps)
{
    void                *mem, *copy;
    size_t               size;
    json_t              *j;
    xf_catalog_t        *cat, *again;
    xf_catalog_event_t   ev;
    xf_buf_t             a, b;

    cat = table(16, &mem, &size);

    event(&ev, "a", "e", XF_FMT_JSON, "{\"k\":1}");
    xf_catalog_record(cat, &ev, 1);
    xf_catalog_record(cat, &ev, 2);

    /* a reload hands the same memory over: kept, seed and start too */
    again = xf_catalog_init(mem, size, 999, 5000);
    ck_assert_ptr_eq(again, cat);
    xf_catalog_record(again, &ev, 3);
    ck_assert_uint_eq(xf_catalog_used(again), 1);

    j = render(again, NULL);
    ck_assert_uint_eq(num(entry(j, "a", "e"), "events"), 3);
    ck_assert_uint_eq(num(j, "started"), 1000);
    json_decref(j);

    /* a copy of its bytes renders the same */
    copy = malloc(xf_catalog_size(cat));
    memcpy(copy, cat, xf_catalog_size(cat));
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(xf_catalog_render(cat, NULL, 7, &a, &xf_alloc_libc),
                     XF_OK);
    ck_assert_int_eq(xf_catalog_render(copy, NULL, 7, &b, &xf_alloc_libc),
                     XF_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert(memcmp(a.p, b.p, a.len) == 0);
    free(a.p);
    free(b.p);
    free(copy);

    /* another size is another table */
    memset(mem, 0, size);
    cat = xf_catalog_init(mem, xf_catalog_size_for(16), 1, 1);
    ck_assert_uint_eq(xf_catalog_used(cat), 0);
    xf_catalog_record(cat, &ev, 3);
    again = xf_catalog_init(mem, xf_catalog_size_for(15), 1, 2);
    ck_assert_uint_eq(xf_catalog_used(again), 0);

    free(mem);
}
END_TEST


START_TEST(test_long_names_and_filter)
{
    char                 app[200], name[300];
    void                *mem;
    size_t               size;
    json_t              *j, *e;
    const char          *s;
    xf_catalog_t        *cat;
    xf_catalog_event_t   ev;

    cat = table(16, &mem, &size);

    /* a name cut in the middle of "é" keeps whole characters only */
    memset(app, 'a', sizeof(app));
    app[sizeof(app) - 1] = '\0';
    memset(name, 'n', sizeof(name));
    memcpy(name + XF_CATALOG_NAME_MAX - 1, "\xc3\xa9", 2);
    name[sizeof(name) - 1] = '\0';

    event(&ev, app, name, XF_FMT_JSON, "{}");
    xf_catalog_record(cat, &ev, 1);

    /* one character more is another entry */
    name[sizeof(name) - 2] = '\0';
    event(&ev, app, name, XF_FMT_JSON, "{}");
    xf_catalog_record(cat, &ev, 1);

    event(&ev, "other", "e", XF_FMT_JSON, "{}");
    xf_catalog_record(cat, &ev, 1);

    ck_assert_uint_eq(xf_catalog_used(cat), 3);

    j = render(cat, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "entries")), 3);
    e = json_array_get(json_object_get(j, "entries"), 0);
    s = json_string_value(json_object_get(e, "event"));
    ck_assert_uint_eq(strlen(s), XF_CATALOG_NAME_MAX - 1);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(e, "app"))),
                      XF_CATALOG_APP_MAX);
    ck_assert(json_is_true(json_object_get(e, "cut")));
    json_decref(j);

    j = render(cat, "other");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "entries")), 1);
    ck_assert_ptr_nonnull(entry(j, "other", "e"));
    json_decref(j);

    free(mem);
}
END_TEST


START_TEST(test_sizes)
{
    uint32_t  c;

    ck_assert_uint_eq(xf_catalog_capacity_for(0), 0);
    ck_assert_uint_eq(xf_catalog_capacity_for(xf_catalog_size_for(1) - 1),
                      0);

    for (c = 1; c < 3000; c += 37) {
        ck_assert_uint_eq(xf_catalog_capacity_for(xf_catalog_size_for(c)),
                          c);
        ck_assert_uint_eq(
            xf_catalog_capacity_for(xf_catalog_size_for(c + 1) - 1), c);
    }
}
END_TEST


START_TEST(test_render_nomem)
{
    void                *mem;
    size_t               size, i, fails;
    xf_alloc_t           a;
    xf_catalog_t        *cat;
    xf_unit_mem_t        m;
    xf_buf_t             out;
    xf_catalog_event_t   ev;

    cat = table(4, &mem, &size);
    event(&ev, "a", "e", XF_FMT_JSON, "{\"k\":1}");
    xf_catalog_record(cat, &ev, 1);

    fails = 0;

    for (i = 1; i <= 3; i++) {
        xf_unit_mem_allocator(&m, &a);
        m.fail_at = i;
        memset(&out, 0, sizeof(out));

        if (xf_catalog_render(cat, NULL, 1, &out, &a) != XF_OK) {
            fails++;
        }

        if (out.p) {
            a.free(a.data, out.p);
        }

        ck_assert_uint_eq(m.live, 0);
    }

    ck_assert_uint_ge(fails, 1);
    free(mem);
}
END_TEST


Suite *
make_catalog_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("catalog");
    tc = tcase_create("table");
    tcase_add_test(tc, test_counts);
    tcase_add_test(tc, test_types_and_amplitude);
    tcase_add_test(tc, test_flood_keeps_frequent);
    tcase_add_test(tc, test_props_heavy_hitters);
    tcase_add_test(tc, test_reload_keeps);
    tcase_add_test(tc, test_long_names_and_filter);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_render_nomem);
    suite_add_tcase(s, tc);

    return s;
}
