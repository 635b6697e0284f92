/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_plan_parse.c - a tracking plan file into the compiled plan
 * (xf_plan.h, xf_plan_impl.h).  The file is validated as JSON first, so
 * a syntax error names its line; then every member is read, and one
 * that is misspelt, of the wrong type or repeated names its own line:
 * a plan that says less than its author meant is refused, never read
 * half.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_plan.h"
#include "xf_plan_impl.h"
#include "xf_json.h"


typedef struct {
    const u_char       *base;       /* the file */
    size_t              len;
    const xf_alloc_t   *a;
    char               *err;
    size_t              err_len;
    size_t             *line;
    size_t              nevents;
} xf_plan_ctx_t;


static xf_status_t xf_plan_fail(xf_plan_ctx_t *ctx, size_t off,
    xf_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static xf_status_t xf_plan_parse_app(xf_plan_ctx_t *ctx, size_t off,
    xf_plan_app_t *app);
static xf_status_t xf_plan_parse_event(xf_plan_ctx_t *ctx, size_t off,
    xf_plan_event_t *ev);
static xf_status_t xf_plan_parse_props(xf_plan_ctx_t *ctx, size_t off,
    xf_plan_event_t *ev);
static xf_status_t xf_plan_parse_types(xf_plan_ctx_t *ctx, size_t off,
    uint8_t *types);


/* Say what is wrong at off of the file, on its line. */
static xf_status_t
xf_plan_fail(xf_plan_ctx_t *ctx, size_t off, xf_status_t st,
    const char *fmt, ...)
{
    size_t   i, line;
    va_list  args;

    line = 1;

    for (i = 0; i < off && i < ctx->len; i++) {
        line += ctx->base[i] == '\n';
    }

    *ctx->line = line;

    if (ctx->err_len) {
        va_start(args, fmt);
        vsnprintf(ctx->err, ctx->err_len, fmt, args);
        va_end(args);
    }

    return st;
}


/* The span of the validated value that starts at off of the file. */
static size_t
xf_plan_value_len(xf_plan_ctx_t *ctx, size_t off)
{
    size_t  pos;

    pos = off;
    (void) xf_json_skip_value(ctx->base, ctx->len, &pos);

    return pos - off;
}


/* A string value at off, unescaped into memory from a. */
static xf_status_t
xf_plan_string(xf_plan_ctx_t *ctx, size_t off, size_t len, xf_str_t *out)
{
    u_char  *p;
    size_t   n;

    p = ctx->a->alloc(ctx->a->data, len ? len : 1);
    if (p == NULL) {
        return XF_ERR_NOMEM;
    }

    if (xf_json_string_unescape(ctx->base + off, len, p, len, &n) != XF_OK) {
        return xf_plan_fail(ctx, off, XF_ERR_FORM, "bad string");
    }

    out->data = p;
    out->len = n;

    return XF_OK;
}


static int
xf_plan_name_is(xf_plan_ctx_t *ctx, size_t nm, size_t nlen, const char *s)
{
    size_t  n;

    n = strlen(s);

    return nlen == n + 2 && memcmp(ctx->base + nm + 1, s, n) == 0;
}


static size_t
xf_plan_count(xf_plan_ctx_t *ctx, size_t off)
{
    size_t  pos, nm, nlen, v, n, len;

    len = xf_plan_value_len(ctx, off);
    pos = 0;
    n = 0;

    while (xf_plan_member(ctx->base + off, len, &pos, &nm, &nlen, &v)) {
        n++;
    }

    return n;
}


static int
xf_plan_sort_apps(const void *a, const void *b)
{
    const xf_plan_app_t  *x = a, *y = b;

    return xf_plan_cmp(x->name.data, x->name.len, y->name.data, y->name.len);
}


static int
xf_plan_sort_events(const void *a, const void *b)
{
    const xf_plan_event_t  *x = a, *y = b;

    return xf_plan_cmp(x->name.data, x->name.len, y->name.data, y->name.len);
}


static int
xf_plan_sort_props(const void *a, const void *b)
{
    const xf_plan_prop_t  *x = a, *y = b;

    return xf_plan_cmp(x->name.data, x->name.len, y->name.data, y->name.len);
}


xf_status_t
xf_plan_parse(const u_char *p, size_t len, const xf_alloc_t *a,
    xf_plan_t **plan, char *err, size_t err_len, size_t *line)
{
    size_t          end, err_off, pos, nm, nlen, v, i, apps_off;
    xf_plan_t      *pl;
    xf_status_t     st;
    xf_plan_ctx_t   ctx;
    xf_json_span_t  span;

    ctx.base = p;
    ctx.len = len;
    ctx.a = a;
    ctx.err = err;
    ctx.err_len = err_len;
    ctx.line = line;
    ctx.nevents = 0;

    *line = 0;

    if (err_len) {
        err[0] = '\0';
    }

    st = xf_json_scan_value(p, len, 64, &span, &end, &err_off);

    if (st != XF_OK) {
        return xf_plan_fail(&ctx, err_off, st, "not JSON: %s",
                            xf_strerror(st));
    }

    if (xf_json_ws(p, len, end) != len) {
        return xf_plan_fail(&ctx, xf_json_ws(p, len, end),
                            XF_ERR_JSON_SYNTAX,
                            "not JSON: bytes after the plan");
    }

    if (span.type != XF_JSON_OBJECT) {
        return xf_plan_fail(&ctx, span.off, XF_ERR_FORM,
                            "a plan is an object with \"apps\"");
    }

    pl = a->alloc(a->data, sizeof(xf_plan_t));
    if (pl == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(pl, 0, sizeof(xf_plan_t));

    apps_off = 0;
    pos = 0;

    while (xf_plan_member(p + span.off, span.len, &pos, &nm, &nlen, &v)) {
        nm += span.off;
        v += span.off;

        if (xf_plan_name_is(&ctx, nm, nlen, "apps")) {
            if (apps_off) {
                return xf_plan_fail(&ctx, nm, XF_ERR_FORM,
                                    "\"apps\" given twice");
            }

            if (p[v] != '{') {
                return xf_plan_fail(&ctx, v, XF_ERR_FORM,
                                    "\"apps\" must be an object");
            }

            apps_off = v;

        } else if (!xf_plan_name_is(&ctx, nm, nlen, "description")
                   && !xf_plan_name_is(&ctx, nm, nlen, "$comment")
                   && !xf_plan_name_is(&ctx, nm, nlen, "version"))
        {
            return xf_plan_fail(&ctx, nm, XF_ERR_FORM,
                                "unknown member %.*s of the plan",
                                (int) xf_min(nlen, 64), p + nm);
        }
    }

    if (apps_off == 0) {
        return xf_plan_fail(&ctx, span.off, XF_ERR_FORM,
                            "a plan is an object with \"apps\"");
    }

    pl->napps = xf_plan_count(&ctx, apps_off);

    pl->apps = a->alloc(a->data, (pl->napps + 1) * sizeof(xf_plan_app_t));
    if (pl->apps == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(pl->apps, 0, (pl->napps + 1) * sizeof(xf_plan_app_t));

    pos = 0;
    i = 0;

    while (xf_plan_member(p + apps_off, xf_plan_value_len(&ctx, apps_off),
                          &pos, &nm, &nlen, &v))
    {
        nm += apps_off;
        v += apps_off;

        st = xf_plan_string(&ctx, nm, nlen, &pl->apps[i].name);
        if (st != XF_OK) {
            return st;
        }

        if (p[v] != '{') {
            return xf_plan_fail(&ctx, v, XF_ERR_FORM,
                                "app \"%.*s\" must be an object",
                                (int) xf_min(pl->apps[i].name.len, 64),
                                pl->apps[i].name.data);
        }

        st = xf_plan_parse_app(&ctx, v, &pl->apps[i]);
        if (st != XF_OK) {
            return st;
        }

        /* a repeated app would hide its first definition */
        if (i && pl->napps > 1) {
            size_t  k;

            for (k = 0; k < i; k++) {
                if (xf_plan_cmp(pl->apps[k].name.data, pl->apps[k].name.len,
                                pl->apps[i].name.data, pl->apps[i].name.len)
                    == 0)
                {
                    return xf_plan_fail(&ctx, nm, XF_ERR_FORM,
                                        "app \"%.*s\" given twice",
                                        (int) xf_min(pl->apps[i].name.len,
                                                     64),
                                        pl->apps[i].name.data);
                }
            }
        }

        i++;
    }

    qsort(pl->apps, pl->napps, sizeof(xf_plan_app_t), xf_plan_sort_apps);
    pl->nevents = ctx.nevents;
    *plan = pl;

    return XF_OK;
}


static xf_status_t
xf_plan_parse_app(xf_plan_ctx_t *ctx, size_t off, xf_plan_app_t *app)
{
    size_t           pos, nm, nlen, v, i, k, events_off;
    xf_status_t      st;
    xf_plan_event_t *ev;

    events_off = 0;
    pos = 0;

    while (xf_plan_member(ctx->base + off, xf_plan_value_len(ctx, off), &pos,
                          &nm, &nlen, &v))
    {
        nm += off;
        v += off;

        if (xf_plan_name_is(ctx, nm, nlen, "tier")) {
            if (ctx->base[v] != '"') {
                return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                    "\"tier\" must be a string");
            }

            st = xf_plan_string(ctx, v, xf_plan_value_len(ctx, v),
                                &app->tier);
            if (st != XF_OK) {
                return st;
            }

        } else if (xf_plan_name_is(ctx, nm, nlen, "events")) {
            if (ctx->base[v] != '{') {
                return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                    "\"events\" must be an object");
            }

            events_off = v;

        } else if (!xf_plan_name_is(ctx, nm, nlen, "description")
                   && !xf_plan_name_is(ctx, nm, nlen, "$comment"))
        {
            return xf_plan_fail(ctx, nm, XF_ERR_FORM,
                                "unknown member %.*s of app \"%.*s\"",
                                (int) xf_min(nlen, 64), ctx->base + nm,
                                (int) xf_min(app->name.len, 64),
                                app->name.data);
        }
    }

    if (events_off == 0) {
        return xf_plan_fail(ctx, off, XF_ERR_FORM,
                            "app \"%.*s\" has no \"events\"",
                            (int) xf_min(app->name.len, 64), app->name.data);
    }

    app->nevents = xf_plan_count(ctx, events_off);

    app->events = ctx->a->alloc(ctx->a->data,
                                (app->nevents + 1) * sizeof(xf_plan_event_t));
    if (app->events == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(app->events, 0, (app->nevents + 1) * sizeof(xf_plan_event_t));

    pos = 0;
    i = 0;

    while (xf_plan_member(ctx->base + events_off,
                          xf_plan_value_len(ctx, events_off), &pos, &nm,
                          &nlen, &v))
    {
        nm += events_off;
        v += events_off;
        ev = &app->events[i];

        st = xf_plan_string(ctx, nm, nlen, &ev->name);
        if (st != XF_OK) {
            return st;
        }

        for (k = 0; k < i; k++) {
            if (xf_plan_cmp(app->events[k].name.data,
                            app->events[k].name.len, ev->name.data,
                            ev->name.len)
                == 0)
            {
                return xf_plan_fail(ctx, nm, XF_ERR_FORM,
                                    "event \"%.*s\" of app \"%.*s\" given "
                                    "twice", (int) xf_min(ev->name.len, 64),
                                    ev->name.data,
                                    (int) xf_min(app->name.len, 64),
                                    app->name.data);
            }
        }

        if (ctx->base[v] != '{') {
            return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                "event \"%.*s\" must be an object",
                                (int) xf_min(ev->name.len, 64),
                                ev->name.data);
        }

        st = xf_plan_parse_event(ctx, v, ev);
        if (st != XF_OK) {
            return st;
        }

        i++;
    }

    ctx->nevents += app->nevents;
    qsort(app->events, app->nevents, sizeof(xf_plan_event_t),
          xf_plan_sort_events);

    return XF_OK;
}


static xf_status_t
xf_plan_parse_event(xf_plan_ctx_t *ctx, size_t off, xf_plan_event_t *ev)
{
    size_t           pos, nm, nlen, v, apos, vlen, i, nreq, props_off;
    size_t           req_off;
    xf_str_t         name;
    xf_status_t      st;
    xf_plan_prop_t  *pr, *grown;

    props_off = 0;
    req_off = 0;
    pos = 0;

    while (xf_plan_member(ctx->base + off, xf_plan_value_len(ctx, off), &pos,
                          &nm, &nlen, &v))
    {
        nm += off;
        v += off;

        if (xf_plan_name_is(ctx, nm, nlen, "tier")) {
            if (ctx->base[v] != '"') {
                return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                    "\"tier\" must be a string");
            }

            st = xf_plan_string(ctx, v, xf_plan_value_len(ctx, v), &ev->tier);
            if (st != XF_OK) {
                return st;
            }

        } else if (xf_plan_name_is(ctx, nm, nlen, "properties")) {
            if (ctx->base[v] != '{') {
                return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                    "\"properties\" must be an object");
            }

            props_off = v;

        } else if (xf_plan_name_is(ctx, nm, nlen, "required")) {
            if (ctx->base[v] != '[') {
                return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                    "\"required\" must be an array of "
                                    "property names");
            }

            req_off = v;

        } else if (xf_plan_name_is(ctx, nm, nlen, "additionalProperties")) {
            if (ctx->base[v] != 't' && ctx->base[v] != 'f') {
                return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                    "\"additionalProperties\" must be true "
                                    "or false");
            }

            ev->closed = ctx->base[v] == 'f';

        } else if (!xf_plan_name_is(ctx, nm, nlen, "description")
                   && !xf_plan_name_is(ctx, nm, nlen, "$comment"))
        {
            return xf_plan_fail(ctx, nm, XF_ERR_FORM,
                                "unknown member %.*s of event \"%.*s\"",
                                (int) xf_min(nlen, 64), ctx->base + nm,
                                (int) xf_min(ev->name.len, 64),
                                ev->name.data);
        }
    }

    if (props_off) {
        st = xf_plan_parse_props(ctx, props_off, ev);
        if (st != XF_OK) {
            return st;
        }
    }

    if (req_off == 0) {
        goto sort;
    }

    /* each required name: its property, or one of any type */
    vlen = xf_plan_value_len(ctx, req_off);
    apos = xf_json_ws(ctx->base + req_off, vlen, 1);
    nreq = 0;

    while (apos < vlen && ctx->base[req_off + apos] != ']') {
        v = req_off + apos;

        if (ctx->base[v] != '"') {
            return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                "\"required\" must be an array of property "
                                "names");
        }

        st = xf_plan_string(ctx, v, xf_plan_value_len(ctx, v), &name);
        if (st != XF_OK) {
            return st;
        }

        pr = NULL;

        for (i = 0; i < ev->nprops; i++) {
            if (xf_plan_cmp(ev->props[i].name.data, ev->props[i].name.len,
                            name.data, name.len)
                == 0)
            {
                pr = &ev->props[i];
                break;
            }
        }

        if (pr == NULL) {
            grown = ctx->a->alloc(ctx->a->data,
                                  (ev->nprops + 1) * sizeof(xf_plan_prop_t));
            if (grown == NULL) {
                return XF_ERR_NOMEM;
            }

            if (ev->nprops) {
                memcpy(grown, ev->props,
                       ev->nprops * sizeof(xf_plan_prop_t));
                ctx->a->free(ctx->a->data, ev->props);
            }

            ev->props = grown;
            pr = &ev->props[ev->nprops++];
            memset(pr, 0, sizeof(xf_plan_prop_t));
            pr->name = name;
            pr->types = XF_PLAN_T_ANY;
        }

        if (pr->is_required) {
            return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                "\"%.*s\" is required twice",
                                (int) xf_min(name.len, 64), name.data);
        }

        if (nreq == XF_PLAN_REQUIRED_MAX) {
            return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                "more than %d required properties",
                                XF_PLAN_REQUIRED_MAX);
        }

        pr->is_required = 1;
        pr->required = (uint8_t) nreq++;

        apos += xf_plan_value_len(ctx, v);
        apos = xf_json_ws(ctx->base + req_off, vlen, apos);

        if (apos < vlen && ctx->base[req_off + apos] == ',') {
            apos = xf_json_ws(ctx->base + req_off, vlen, apos + 1);
        }
    }

    ev->nrequired = nreq;

sort:

    if (ev->nprops) {
        qsort(ev->props, ev->nprops, sizeof(xf_plan_prop_t),
              xf_plan_sort_props);
    }

    return XF_OK;
}


static xf_status_t
xf_plan_parse_props(xf_plan_ctx_t *ctx, size_t off, xf_plan_event_t *ev)
{
    size_t           pos, nm, nlen, v, i, k, ppos, pnm, pnlen, pv;
    xf_status_t      st;
    xf_plan_prop_t  *pr;

    ev->nprops = xf_plan_count(ctx, off);

    ev->props = ctx->a->alloc(ctx->a->data,
                              (ev->nprops + 1) * sizeof(xf_plan_prop_t));
    if (ev->props == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(ev->props, 0, (ev->nprops + 1) * sizeof(xf_plan_prop_t));

    pos = 0;
    i = 0;

    while (xf_plan_member(ctx->base + off, xf_plan_value_len(ctx, off), &pos,
                          &nm, &nlen, &v))
    {
        nm += off;
        v += off;
        pr = &ev->props[i];

        st = xf_plan_string(ctx, nm, nlen, &pr->name);
        if (st != XF_OK) {
            return st;
        }

        for (k = 0; k < i; k++) {
            if (xf_plan_cmp(ev->props[k].name.data, ev->props[k].name.len,
                            pr->name.data, pr->name.len)
                == 0)
            {
                return xf_plan_fail(ctx, nm, XF_ERR_FORM,
                                    "property \"%.*s\" given twice",
                                    (int) xf_min(pr->name.len, 64),
                                    pr->name.data);
            }
        }

        if (ctx->base[v] != '{') {
            return xf_plan_fail(ctx, v, XF_ERR_FORM,
                                "property \"%.*s\" must be an object, "
                                "{\"type\": ...}",
                                (int) xf_min(pr->name.len, 64),
                                pr->name.data);
        }

        pr->types = XF_PLAN_T_ANY;
        ppos = 0;

        while (xf_plan_member(ctx->base + v, xf_plan_value_len(ctx, v),
                              &ppos, &pnm, &pnlen, &pv))
        {
            pnm += v;
            pv += v;

            if (xf_plan_name_is(ctx, pnm, pnlen, "type")) {
                st = xf_plan_parse_types(ctx, pv, &pr->types);
                if (st != XF_OK) {
                    return st;
                }

            } else if (!xf_plan_name_is(ctx, pnm, pnlen, "description")
                       && !xf_plan_name_is(ctx, pnm, pnlen, "$comment"))
            {
                return xf_plan_fail(ctx, pnm, XF_ERR_FORM,
                                    "unknown member %.*s of property "
                                    "\"%.*s\" (the plan reads \"type\" "
                                    "only)",
                                    (int) xf_min(pnlen, 64),
                                    ctx->base + pnm,
                                    (int) xf_min(pr->name.len, 64),
                                    pr->name.data);
            }
        }

        i++;
    }

    return XF_OK;
}


/* "type": "string" or ["string", "null"]: the bits. */
static xf_status_t
xf_plan_parse_types(xf_plan_ctx_t *ctx, size_t off, uint8_t *types)
{
    size_t  pos, len, n, s, slen;

    static const struct {
        const char  *name;
        uint8_t      bit;
    } names[] = {
        { "string", XF_PLAN_T_STRING },
        { "number", XF_PLAN_T_NUMBER | XF_PLAN_T_INTEGER },
        { "integer", XF_PLAN_T_INTEGER },
        { "boolean", XF_PLAN_T_BOOLEAN },
        { "object", XF_PLAN_T_OBJECT },
        { "array", XF_PLAN_T_ARRAY },
        { "null", XF_PLAN_T_NULL }
    };

    len = xf_plan_value_len(ctx, off);

    if (ctx->base[off] == '"') {
        pos = 0;

    } else if (ctx->base[off] == '[') {
        pos = xf_json_ws(ctx->base + off, len, 1);

    } else {
        return xf_plan_fail(ctx, off, XF_ERR_FORM,
                            "\"type\" must be a type name or an array of "
                            "them");
    }

    *types = 0;

    for ( ;; ) {
        s = off + pos;

        if (ctx->base[s] != '"') {
            return xf_plan_fail(ctx, s, XF_ERR_FORM,
                                "\"type\" must be a type name or an array "
                                "of them");
        }

        slen = xf_plan_value_len(ctx, s);

        for (n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
            if (xf_plan_name_is(ctx, s, slen, names[n].name)) {
                *types |= names[n].bit;
                break;
            }
        }

        if (n == sizeof(names) / sizeof(names[0])) {
            return xf_plan_fail(ctx, s, XF_ERR_FORM,
                                "unknown type %.*s (string, number, "
                                "integer, boolean, object, array, null)",
                                (int) xf_min(slen, 64), ctx->base + s);
        }

        if (ctx->base[off] == '"') {
            return XF_OK;
        }

        pos = xf_json_ws(ctx->base + off, len, pos + slen);

        if (ctx->base[off + pos] == ']') {
            break;
        }

        /* a comma */
        pos = xf_json_ws(ctx->base + off, len, pos + 1);
    }

    if (*types == 0) {
        return xf_plan_fail(ctx, off, XF_ERR_FORM, "\"type\" lists no type");
    }

    return XF_OK;
}
