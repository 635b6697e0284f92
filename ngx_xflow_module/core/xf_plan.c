/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_plan.c - one event against the tracking plan (xf_plan.h): its app
 * and name looked up, then one pass over its properties for their types,
 * the required ones and, for a closed event, those the plan does not
 * list.
 */

#include <stdio.h>
#include <string.h>

#include "xf_plan.h"
#include "xf_plan_impl.h"
#include "xf_json.h"


size_t
xf_plan_apps(const xf_plan_t *plan)
{
    return plan->napps;
}


size_t
xf_plan_events(const xf_plan_t *plan)
{
    return plan->nevents;
}


void
xf_plan_properties(const u_char *p, size_t len, size_t *off, size_t *plen)
{
    xf_json_span_t  v;

    if ((xf_json_object_get(p, len, "properties", 10, &v) == XF_OK
         || xf_json_object_get(p, len, "event_properties", 16, &v) == XF_OK)
        && v.type == XF_JSON_OBJECT)
    {
        *off = v.off;
        *plen = v.len;
        return;
    }

    *off = 0;
    *plen = len;
}


int
xf_plan_member(const u_char *p, size_t len, size_t *pos, size_t *name,
    size_t *name_len, size_t *value)
{
    size_t  at;

    at = *pos;

    if (at == 0) {
        at = xf_json_ws(p, len, 1);

    } else {
        /* past the last value: a comma, or the end */
        at = xf_json_ws(p, len, at);

        if (at >= len || p[at] != ',') {
            return 0;
        }

        at = xf_json_ws(p, len, at + 1);
    }

    if (at >= len || p[at] != '"') {
        return 0;
    }

    *name = at;

    if (xf_json_skip_value(p, len, &at) != XF_OK) {
        return 0;
    }

    *name_len = at - *name;
    at = xf_json_ws(p, len, at);

    if (at >= len || p[at] != ':') {
        return 0;
    }

    at = xf_json_ws(p, len, at + 1);

    if (at >= len) {
        return 0;
    }

    *value = at;

    if (xf_json_skip_value(p, len, &at) != XF_OK) {
        return 0;
    }

    *pos = at;

    return 1;
}


static const xf_plan_app_t *
xf_plan_find_app(const xf_plan_t *plan, const xf_str_t *name)
{
    int     c;
    size_t  lo, hi, mid;

    lo = 0;
    hi = plan->napps;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = xf_plan_cmp(name->data, name->len, plan->apps[mid].name.data,
                        plan->apps[mid].name.len);

        if (c == 0) {
            return &plan->apps[mid];
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


static const xf_plan_event_t *
xf_plan_find_event(const xf_plan_app_t *app, const xf_str_t *name)
{
    int     c;
    size_t  lo, hi, mid;

    lo = 0;
    hi = app->nevents;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = xf_plan_cmp(name->data, name->len, app->events[mid].name.data,
                        app->events[mid].name.len);

        if (c == 0) {
            return &app->events[mid];
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* A property of the plan's event by its name as sent (escapes and all). */
static const xf_plan_prop_t *
xf_plan_find_prop(const xf_plan_event_t *e, const u_char *name, size_t len)
{
    int     c;
    size_t  lo, hi, mid, n;
    u_char  buf[256];

    if (memchr(name, '\\', len) != NULL) {
        if (xf_json_string_unescape(name - 1, len + 2, buf, sizeof(buf), &n)
            != XF_OK)
        {
            return NULL;
        }

        name = buf;
        len = n;
    }

    lo = 0;
    hi = e->nprops;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = xf_plan_cmp(name, len, e->props[mid].name.data,
                        e->props[mid].name.len);

        if (c == 0) {
            return &e->props[mid];
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* The type bits a JSON value (validated, starting at p[0]) satisfies. */
static unsigned
xf_plan_value_types(const u_char *p, size_t len)
{
    size_t  i;

    switch (p[0]) {
    case '"':
        return XF_PLAN_T_STRING;
    case '{':
        return XF_PLAN_T_OBJECT;
    case '[':
        return XF_PLAN_T_ARRAY;
    case 't':
    case 'f':
        return XF_PLAN_T_BOOLEAN;
    case 'n':
        return XF_PLAN_T_NULL;
    default:
        break;
    }

    for (i = 0; i < len; i++) {
        if (p[i] == '.' || p[i] == 'e' || p[i] == 'E') {
            return XF_PLAN_T_NUMBER;
        }
    }

    return XF_PLAN_T_NUMBER | XF_PLAN_T_INTEGER;
}


static const char *
xf_plan_type_name(unsigned types)
{
    return (types & XF_PLAN_T_INTEGER) && !(types & XF_PLAN_T_NUMBER)
           ? "an integer"
           : (types & XF_PLAN_T_NUMBER) ? "a number"
           : (types & XF_PLAN_T_STRING) ? "a string"
           : (types & XF_PLAN_T_BOOLEAN) ? "a boolean"
           : (types & XF_PLAN_T_OBJECT) ? "an object"
           : (types & XF_PLAN_T_ARRAY) ? "an array" : "null";
}


void
xf_plan_check(const xf_plan_t *plan, const xf_str_t *app,
    const xf_str_t *name, const u_char *p, size_t len,
    xf_plan_result_t *res)
{
    size_t                   pos, off, plen, nm, nlen, v, end, i;
    uint64_t                 seen, want;
    const xf_plan_app_t     *a;
    const xf_plan_prop_t    *pr;
    const xf_plan_event_t   *e;

    res->verdict = XF_CATALOG_PLAN_NONE;
    res->tier.data = NULL;
    res->tier.len = 0;
    res->why[0] = '\0';

    a = plan ? xf_plan_find_app(plan, app) : NULL;
    if (a == NULL) {
        return;
    }

    e = xf_plan_find_event(a, name);
    if (e == NULL) {
        res->verdict = XF_CATALOG_PLAN_UNKNOWN;
        snprintf(res->why, sizeof(res->why), "event not in the plan");
        return;
    }

    res->tier = e->tier.len ? e->tier : a->tier;
    res->verdict = XF_CATALOG_PLAN_CONFORMS;

    if (e->nprops == 0 && !e->closed) {
        return;
    }

    xf_plan_properties(p, len, &off, &plen);
    p += off;

    pos = 0;
    seen = 0;

    while (xf_plan_member(p, plen, &pos, &nm, &nlen, &v)) {
        pr = xf_plan_find_prop(e, p + nm + 1, nlen - 2);

        if (pr == NULL) {
            if (e->closed) {
                res->verdict = XF_CATALOG_PLAN_INVALID;
                snprintf(res->why, sizeof(res->why),
                         "property \"%.*s\" not in the plan",
                         (int) xf_min(nlen - 2, 64), p + nm + 1);
                return;
            }

            continue;
        }

        end = pos;

        if (!(xf_plan_value_types(p + v, end - v) & pr->types)) {
            res->verdict = XF_CATALOG_PLAN_INVALID;
            snprintf(res->why, sizeof(res->why),
                     "property \"%.*s\" is not %s",
                     (int) xf_min(pr->name.len, 64), pr->name.data,
                     xf_plan_type_name(pr->types));
            return;
        }

        if (pr->is_required) {
            seen |= (uint64_t) 1 << pr->required;
        }
    }

    want = e->nrequired == 64 ? ~(uint64_t) 0
                              : ((uint64_t) 1 << e->nrequired) - 1;

    if (seen == want) {
        return;
    }

    for (i = 0; i < e->nprops; i++) {
        pr = &e->props[i];

        if (pr->is_required && !(seen & ((uint64_t) 1 << pr->required))) {
            res->verdict = XF_CATALOG_PLAN_INVALID;
            snprintf(res->why, sizeof(res->why),
                     "required property \"%.*s\" is missing",
                     (int) xf_min(pr->name.len, 64), pr->name.data);
            return;
        }
    }
}
