/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_catalog_render.c - the catalog as JSON (xf_catalog.h), from a table
 * or a copy of one: entries most seen first, each entry's properties
 * most counted first.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_catalog.h"
#include "xf_catalog_impl.h"
#include "xf_realloc.h"


/* the most one entry's fixed text takes, its strings aside */
#define XF_CATALOG_ENTRY_FIXED  4096


static xf_status_t xf_catalog_entry_json(xf_buf_t *out,
    const xf_catalog_entry_t *e, const xf_alloc_t *a);


static xf_status_t
xf_catalog_room(xf_buf_t *out, size_t n, const xf_alloc_t *a)
{
    return xf_buf_reserve(a, out, n, 16384);
}


static char *
xf_catalog_at(xf_buf_t *out)
{
    return (char *) out->p + out->len;
}


/* Text into room the caller made. */
static void
xf_catalog_put(xf_buf_t *out, const char *s)
{
    size_t  n;

    n = strlen(s);
    memcpy(out->p + out->len, s, n);
    out->len += n;
}


static void
xf_catalog_num(xf_buf_t *out, const char *name, uint64_t v)
{
    out->len += (size_t) snprintf(xf_catalog_at(out), out->cap - out->len,
                                 ",\"%s\":%" PRIu64, name, v);
}


/* A JSON string, quoted, into room the caller made. */
static void
xf_catalog_str(xf_buf_t *out, const u_char *p, size_t len)
{
    out->p[out->len++] = '"';
    out->len += xf_json_escape(out->p + out->len, p, len);
    out->p[out->len++] = '"';
}


static int
xf_catalog_cmp(const void *a, const void *b)
{
    const xf_catalog_entry_t  *x, *y;

    x = *(const xf_catalog_entry_t *const *) a;
    y = *(const xf_catalog_entry_t *const *) b;

    if (x->events != y->events) {
        return x->events > y->events ? -1 : 1;
    }

    return x < y ? -1 : (x > y);
}


xf_status_t
xf_catalog_render(const xf_catalog_t *cat, const xf_str_t *app,
    uint64_t now, xf_buf_t *out, const xf_alloc_t *a)
{
    size_t                     i, n;
    xf_status_t                st;
    xf_catalog_entry_t        *entries;
    const xf_catalog_entry_t **order;

    entries = xf_catalog_entries(cat);

    order = a->alloc(a->data, (cat->used + 1) * sizeof(xf_catalog_entry_t *));
    if (order == NULL) {
        return XF_ERR_NOMEM;
    }

    n = 0;

    for (i = 0; i < cat->used; i++) {
        if (app != NULL && app->len
            && (entries[i].app_full != app->len
                || entries[i].app_len != app->len
                || memcmp(entries[i].app, app->data, app->len) != 0))
        {
            continue;
        }

        order[n++] = &entries[i];
    }

    qsort(order, n, sizeof(xf_catalog_entry_t *), xf_catalog_cmp);

    st = xf_catalog_room(out, 512, a);
    if (st != XF_OK) {
        goto done;
    }

    out->len += (size_t) snprintf(xf_catalog_at(out), out->cap - out->len,
                                 "{\"now\":%" PRIu64, now);
    xf_catalog_num(out, "started", cat->started);
    xf_catalog_num(out, "capacity", cat->capacity);
    xf_catalog_num(out, "used", cat->used);
    xf_catalog_num(out, "evicted", cat->evicted);
    xf_catalog_num(out, "events", cat->events);
    xf_catalog_num(out, "bytes", cat->bytes);
    xf_catalog_num(out, "invalid", cat->invalid);
    xf_catalog_put(out, ",\"entries\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            st = xf_catalog_room(out, 1, a);
            if (st != XF_OK) {
                goto done;
            }

            out->p[out->len++] = ',';
        }

        st = xf_catalog_entry_json(out, order[i], a);
        if (st != XF_OK) {
            goto done;
        }
    }

    st = xf_catalog_room(out, 3, a);
    if (st == XF_OK) {
        xf_catalog_put(out, "]}\n");
    }

done:

    a->free(a->data, order);

    return st;
}


static xf_status_t
xf_catalog_entry_json(xf_buf_t *out, const xf_catalog_entry_t *e,
    const xf_alloc_t *a)
{
    size_t                    i, j, n, need;
    unsigned                  t, first;
    xf_status_t               st;
    const xf_catalog_prop_t  *pr, *props[XF_CATALOG_PROPS], *tmp;

    static const char *const  types[] = {
        "object", "array", "string", "number", "boolean", "boolean", "null"
    };

    need = XF_CATALOG_ENTRY_FIXED
           + xf_json_escape_bound(e->app_len + e->name_len
                                  + XF_CATALOG_PROPS * XF_CATALOG_PROP_MAX);

    st = xf_catalog_room(out, need, a);
    if (st != XF_OK) {
        return st;
    }

    xf_catalog_put(out, "{\"app\":");
    xf_catalog_str(out, e->app, e->app_len);
    xf_catalog_put(out, ",\"format\":\"");
    xf_catalog_put(out, xf_format_name((xf_format_t) e->format));
    xf_catalog_put(out, "\",\"event\":");
    xf_catalog_str(out, e->name, e->name_len);

    if (e->app_len < e->app_full || e->name_len < e->name_full) {
        xf_catalog_put(out, ",\"cut\":true");
    }

    xf_catalog_num(out, "events", e->events);
    xf_catalog_num(out, "bytes", e->bytes);
    xf_catalog_num(out, "invalid", e->invalid);
    xf_catalog_num(out, "first_seen", e->first_seen);
    xf_catalog_num(out, "last_seen", e->last_seen);

    xf_catalog_put(out, ",\"reasons\":{");
    first = 1;

    for (i = 1; i < XF_STATUS_MAX; i++) {
        if (e->reasons[i] == 0) {
            continue;
        }

        out->len += (size_t) snprintf(xf_catalog_at(out),
                                      out->cap - out->len,
                                      "%s\"%s\":%" PRIu64, first ? "" : ",",
                                      xf_strerror((xf_status_t) i),
                                      e->reasons[i]);
        first = 0;
    }

    xf_catalog_put(out, "},\"plan\":{");

    for (i = 0; i < XF_CATALOG_PLAN_MAX; i++) {
        out->len += (size_t) snprintf(xf_catalog_at(out),
                                      out->cap - out->len,
                                      "%s\"%s\":%" PRIu64, i ? "," : "",
                                      xf_catalog_plan_name(
                                          (xf_catalog_plan_t) i),
                                      e->plan[i]);
    }

    xf_catalog_put(out, "}");
    xf_catalog_num(out, "property_events", e->props_events);
    xf_catalog_put(out, ",\"properties\":[");

    /* most counted first: sixteen at most, an insertion sort */
    n = 0;

    for (i = 0; i < XF_CATALOG_PROPS && e->props[i].count; i++) {
        props[n++] = &e->props[i];

        for (j = n - 1; j > 0 && props[j]->count > props[j - 1]->count; j--)
        {
            tmp = props[j];
            props[j] = props[j - 1];
            props[j - 1] = tmp;
        }
    }

    for (i = 0; i < n; i++) {
        pr = props[i];

        xf_catalog_put(out, i ? ",{\"name\":" : "{\"name\":");
        xf_catalog_str(out, pr->name, pr->name_len);

        if (pr->cut) {
            xf_catalog_put(out, ",\"cut\":true");
        }

        xf_catalog_num(out, "count", pr->count);
        xf_catalog_put(out, ",\"types\":[");
        first = 1;

        for (t = 0; t <= XF_JSON_NULL; t++) {
            /* true and false are one type: boolean */
            if (!(pr->types & (1u << t))
                || (t == XF_JSON_FALSE && (pr->types & (1u << XF_JSON_TRUE))))
            {
                continue;
            }

            xf_catalog_put(out, first ? "\"" : ",\"");
            xf_catalog_put(out, types[t]);
            xf_catalog_put(out, "\"");
            first = 0;
        }

        xf_catalog_put(out, "]}");
    }

    xf_catalog_put(out, "]}");

    return XF_OK;
}
