/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_route_parse.c - parsing one xflow_route directive's arguments into
 * a rule: event=, app=, tier=, format=, has=, topic=, key=, copy.
 */

#include <stdio.h>
#include <string.h>

#include "xf_route.h"


static void
xf_route_err(char *err, size_t err_len, const char *what, const xf_str_t *t)
{
    if (err_len == 0) {
        return;
    }

    snprintf(err, err_len, "%s \"%.*s\"", what,
             (int) xf_min(t->len, 200), (const char *) t->data);
}


/*
 * Parse "a", "a*", "{a,b*,c}" or "a,b*,c" into exact names and prefixes
 * (appended).  The braces need quotes in nginx.conf, where "{" opens a
 * block: the bare comma form is the same set.
 */
static xf_status_t
xf_route_parse_names(const u_char *p, size_t len, const xf_alloc_t *a,
    xf_route_names_t *names)
{
    size_t         i, start, nitems, item_len;
    xf_str_t      *exact, *prefix;
    const u_char  *item;

    if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
        p++;
        len -= 2;
    }

    if (len == 0) {
        return XF_ERR_JSON_SYNTAX;
    }

    nitems = 1;
    for (i = 0; i < len; i++) {
        nitems += (p[i] == ',');
    }

    exact = a->alloc(a->data, (names->nexact + nitems) * sizeof(xf_str_t));
    prefix = a->alloc(a->data, (names->nprefix + nitems) * sizeof(xf_str_t));
    if (exact == NULL || prefix == NULL) {
        return XF_ERR_NOMEM;
    }

    if (names->nexact) {
        memcpy(exact, names->exact, names->nexact * sizeof(xf_str_t));
    }

    if (names->nprefix) {
        memcpy(prefix, names->prefix, names->nprefix * sizeof(xf_str_t));
    }

    names->exact = exact;
    names->prefix = prefix;

    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != ',') {
            continue;
        }

        item = p + start;
        item_len = i - start;
        start = i + 1;

        if (item_len == 0) {
            return XF_ERR_JSON_SYNTAX;
        }

        if (item[item_len - 1] == '*') {
            prefix[names->nprefix].data = item;
            prefix[names->nprefix++].len = item_len - 1;

        } else {
            exact[names->nexact].data = item;
            exact[names->nexact++].len = item_len;
        }
    }

    return XF_OK;
}


xf_status_t
xf_route_rule_parse(const xf_str_t *tokens, size_t n, const xf_alloc_t *a,
    xf_route_rule_t *rule, char *err, size_t err_len)
{
    size_t             i, j, vlen;
    xf_str_t          *has;
    xf_format_t        f;
    xf_status_t        st;
    const u_char      *v;
    const xf_str_t    *t;
    xf_route_names_t   formats;

    memset(rule, 0, sizeof(xf_route_rule_t));

    for (i = 0; i < n; i++) {
        t = &tokens[i];

#define XF_ROUTE_IS(k)                                                      \
        (t->len > sizeof(k) - 1 && memcmp(t->data, k, sizeof(k) - 1) == 0) \
        && (v = t->data + sizeof(k) - 1, vlen = t->len - (sizeof(k) - 1), 1)

        if (t->len == 4 && memcmp(t->data, "copy", 4) == 0) {
            rule->copy = 1;

        } else if (XF_ROUTE_IS("event=")) {
            st = xf_route_parse_names(v, vlen, a, &rule->event);
            if (st != XF_OK) {
                xf_route_err(err, err_len, "invalid event names in", t);
                return st;
            }

        } else if (XF_ROUTE_IS("app=")) {
            st = xf_route_parse_names(v, vlen, a, &rule->app);
            if (st != XF_OK) {
                xf_route_err(err, err_len, "invalid app names in", t);
                return st;
            }

        } else if (XF_ROUTE_IS("tier=")) {
            st = xf_route_parse_names(v, vlen, a, &rule->tier);
            if (st != XF_OK) {
                xf_route_err(err, err_len, "invalid tiers in", t);
                return st;
            }

        } else if (XF_ROUTE_IS("format=")) {
            memset(&formats, 0, sizeof(formats));

            st = xf_route_parse_names(v, vlen, a, &formats);
            if (st != XF_OK || formats.nprefix) {
                xf_route_err(err, err_len, "invalid formats in", t);
                return st != XF_OK ? st : XF_ERR_JSON_SYNTAX;
            }

            for (j = 0; j < formats.nexact; j++) {
                if (xf_format_parse_name(formats.exact[j].data,
                                         formats.exact[j].len, &f)
                    != XF_OK || f == XF_FMT_AUTO)
                {
                    xf_route_err(err, err_len, "unknown format in", t);
                    return XF_ERR_JSON_SYNTAX;
                }

                rule->formats |= 1u << f;
            }

        } else if (XF_ROUTE_IS("has=")) {
            has = a->alloc(a->data, (rule->nhas + 1) * sizeof(xf_str_t));
            if (has == NULL) {
                return XF_ERR_NOMEM;
            }

            if (rule->nhas) {
                memcpy(has, rule->has, rule->nhas * sizeof(xf_str_t));
            }

            has[rule->nhas].data = v;
            has[rule->nhas++].len = vlen;
            rule->has = has;

        } else if (XF_ROUTE_IS("topic=")) {
            rule->topic.data = v;
            rule->topic.len = vlen;

        } else if (XF_ROUTE_IS("key=")) {
            if (vlen == 8 && memcmp(v, "distinct", 8) == 0) {
                rule->key = XF_ROUTE_KEY_DISTINCT;

            } else if (vlen == 3 && memcmp(v, "app", 3) == 0) {
                rule->key = XF_ROUTE_KEY_APP;

            } else if (vlen == 4 && memcmp(v, "none", 4) == 0) {
                rule->key = XF_ROUTE_KEY_NONE;

            } else {
                xf_route_err(err, err_len,
                             "key must be distinct, app or none in", t);
                return XF_ERR_JSON_SYNTAX;
            }

        } else {
            xf_route_err(err, err_len, "unknown route parameter", t);
            return XF_ERR_JSON_SYNTAX;
        }

#undef XF_ROUTE_IS
    }

    if (rule->topic.len == 0) {
        if (err_len) {
            snprintf(err, err_len, "a route needs topic=NAME");
        }

        return XF_ERR_MISSING_FIELD;
    }

    if (rule->event.nexact + rule->event.nprefix + rule->app.nexact
        + rule->app.nprefix + rule->tier.nexact + rule->tier.nprefix
        + rule->nhas == 0 && rule->formats == 0)
    {
        if (err_len) {
            snprintf(err, err_len, "a route needs at least one of event=, "
                     "app=, tier=, format= or has=");
        }

        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}
