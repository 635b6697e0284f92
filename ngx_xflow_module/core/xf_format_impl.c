/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_impl.c - the xf_fmt_* toolkit every adapter shares (owned
 * buffers, the decoded budget, nested layers, events) and
 * xf_format_free(), which returns what it allocated.
 *
 * Memory: events[] grows by doubling; every buffer a nested layer
 * produces is kept on up->blocks, a list whose nodes either precede
 * their bytes (xf_fmt_alloc) or point at a buffer another unit allocated
 * with the same allocator (a gunzipped field):
 *
 *     up->blocks --> [next|NULL|bytes...] --> [next|p] --> NULL
 *                                                   \--> bytes
 *
 * so that xf_format_free() can return all of it when free is not a no-op.
 */

#include <string.h>

#include "xf_base64.h"
#include "xf_decode.h"
#include "xf_form.h"
#include "xf_format_impl.h"


typedef struct xf_fmt_block_s  xf_fmt_block_t;

struct xf_fmt_block_s {
    xf_fmt_block_t  *next;
    void            *p;             /* NULL: the bytes follow the node */
};


void
xf_format_free(xf_upload_t *out, const xf_alloc_t *a)
{
    xf_fmt_block_t  *b, *next;

    for (b = out->blocks; b != NULL; b = next) {
        next = b->next;

        if (b->p != NULL) {
            a->free(a->data, b->p);
        }

        a->free(a->data, b);
    }

    if (out->events != NULL) {
        a->free(a->data, out->events);
    }

    memset(out, 0, sizeof(xf_upload_t));
}



void *
xf_fmt_alloc(xf_fmt_ctx_t *ctx, size_t size)
{
    xf_fmt_block_t  *b;

    if (size > SIZE_MAX - sizeof(xf_fmt_block_t)) {
        return NULL;
    }

    b = ctx->a->alloc(ctx->a->data, sizeof(xf_fmt_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->p = NULL;
    b->next = ctx->up->blocks;
    ctx->up->blocks = b;

    return b + 1;
}


/* Keep a buffer another unit allocated with ctx->a; freed on failure. */

static xf_status_t
xf_fmt_own(xf_fmt_ctx_t *ctx, void *p)
{
    xf_fmt_block_t  *b;

    b = ctx->a->alloc(ctx->a->data, sizeof(xf_fmt_block_t));
    if (b == NULL) {
        ctx->a->free(ctx->a->data, p);
        return XF_ERR_NOMEM;
    }

    b->p = p;
    b->next = ctx->up->blocks;
    ctx->up->blocks = b;

    return XF_OK;
}


/*
 * Bytes nested layers may still produce.  A used-up budget is 0, and 0
 * is 0: never "no limit" (a caller that wants none passes SIZE_MAX).
 */

static size_t
xf_fmt_budget(xf_fmt_ctx_t *ctx)
{
    size_t  used;

    used = ctx->req->body_len + ctx->up->decoded;

    return used >= ctx->lim->max_decoded ? 0 : ctx->lim->max_decoded - used;
}


xf_status_t
xf_fmt_charge(xf_fmt_ctx_t *ctx, size_t n)
{
    if (n > xf_fmt_budget(ctx)) {
        return XF_ERR_TOO_LARGE;
    }

    ctx->up->decoded += n;

    return XF_OK;
}


xf_status_t
xf_fmt_produced(xf_fmt_ctx_t *ctx, xf_str_t *s, const u_char *p, size_t n)
{
    xf_status_t  rc;

    rc = xf_fmt_charge(ctx, n);
    if (rc != XF_OK) {
        return rc;
    }

    s->data = p;
    s->len = n;

    return XF_OK;
}


xf_status_t
xf_fmt_form_field(xf_fmt_ctx_t *ctx, const u_char *form, size_t len,
    const char *key, unsigned flags, xf_str_t *out)
{
    u_char           *dst;
    size_t            n;
    xf_status_t       rc;
    xf_form_field_t   f;

    rc = xf_form_get(form, len, key, strlen(key), &f);
    if (rc != XF_OK) {
        return rc;
    }

    if (!xf_form_is_encoded(f.value, f.value_len)
        || ((flags & XF_FORM_PLUS_KEEP)
            && memchr(f.value, '%', f.value_len) == NULL))
    {
        out->data = f.value;
        out->len = f.value_len;
        return XF_OK;
    }

    if (f.value_len > xf_fmt_budget(ctx)) {
        return XF_ERR_TOO_LARGE;
    }

    dst = xf_fmt_alloc(ctx, f.value_len);
    if (dst == NULL) {
        return XF_ERR_NOMEM;
    }

    rc = xf_form_decode(f.value, f.value_len, flags, dst, &n);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_produced(ctx, out, dst, n);
}


xf_status_t
xf_fmt_query_app(xf_fmt_ctx_t *ctx, const char *const *keys)
{
    xf_status_t  rc;

    rc = XF_ERR_EMPTY;

    for ( /* void */ ; *keys != NULL && rc == XF_ERR_EMPTY; keys++) {
        rc = xf_fmt_form_field(ctx, ctx->req->query.data,
                               ctx->req->query.len, *keys, 0,
                               &ctx->up->app);
    }

    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    if (rc != XF_OK) {
        ctx->up->app.data = NULL;
        ctx->up->app.len = 0;
    }

    return XF_OK;
}


xf_status_t
xf_fmt_unbase64(xf_fmt_ctx_t *ctx, xf_str_t *s)
{
    u_char       *dst;
    size_t        n;
    xf_status_t   rc;

    n = xf_base64_decoded_bound(s->len);

    dst = xf_fmt_alloc(ctx, n);
    if (dst == NULL) {
        return XF_ERR_NOMEM;
    }

    rc = xf_base64_decode(s->data, s->len, XF_BASE64_ANY, dst, &n);
    if (rc != XF_OK) {
        return rc;
    }

    rc = xf_fmt_produced(ctx, s, dst, n);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_gunzip(ctx, s);
}


xf_status_t
xf_fmt_data_field(xf_fmt_ctx_t *ctx, xf_str_t *s, int *was_base64)
{
    xf_status_t  rc;

    *was_base64 = 0;

    if (xf_form_validate(s->data, s->len) != XF_OK) {
        return XF_ERR_FORM;
    }

    /* encodeURIComponent() writes '+' as %2B: a bare '+' is base64's */
    rc = xf_fmt_form_field(ctx, s->data, s->len, "data", XF_FORM_PLUS_KEEP,
                           s);
    if (rc != XF_OK) {
        return rc;
    }

    /* some senders put plain JSON in data=; everything else is base64 */
    if (xf_fmt_is_json(*s)) {
        return XF_OK;
    }

    *was_base64 = 1;

    return xf_fmt_unbase64(ctx, s);
}


xf_status_t
xf_fmt_gunzip(xf_fmt_ctx_t *ctx, xf_str_t *s)
{
    u_char       *out;
    size_t        n;
    xf_status_t   rc;

    if (xf_encoding_sniff(s->data, s->len) != XF_ENC_GZIP) {
        return XF_OK;
    }

    rc = xf_decode(XF_ENC_GZIP, s->data, s->len, xf_fmt_budget(ctx),
                   ctx->a, &out, &n);
    if (rc != XF_OK) {
        return rc;
    }

    rc = xf_fmt_own(ctx, out);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_produced(ctx, s, out, n);
}


xf_status_t
xf_fmt_data_upload(xf_fmt_ctx_t *ctx, const char *form, xf_str_t *s,
    int *was_base64)
{
    xf_status_t  rc;

    *was_base64 = 0;

    if (ctx->req->body_len == 0) {
        /* GET ...?data=...: an image beacon, or an old browser */
        s->data = ctx->req->query.data;
        s->len = ctx->req->query.len;

    } else {
        s->data = ctx->req->body;
        s->len = ctx->req->body_len;

        rc = xf_fmt_gunzip(ctx, s);
        if (rc != XF_OK) {
            return rc;
        }

        if (form != NULL ? !(s->len >= strlen(form)
                             && memcmp(s->data, form, strlen(form)) == 0)
                         : xf_fmt_is_json(*s))
        {
            return XF_OK;
        }
    }

    return xf_fmt_data_field(ctx, s, was_base64);
}


int
xf_fmt_sniff_data_form(const xf_request_t *req)
{
    size_t            len;
    const u_char     *form;
    xf_form_field_t   f;

    if (req->body_len == 0) {
        form = req->query.data;
        len = req->query.len;

    } else if (req->body[0] != '{' && req->body[0] != '['
               && xf_encoding_sniff(req->body, req->body_len)
                  == XF_ENC_IDENTITY)
    {
        form = req->body;
        len = req->body_len;

    } else {
        return 0;
    }

    return xf_form_get(form, len, "data", 4, &f) != XF_ERR_EMPTY
           || xf_form_get(form, len, "data_list", 9, &f) != XF_ERR_EMPTY;
}


/* A member's value as text: a string unescaped, a number as written. */
static xf_status_t
xf_fmt_value_text(xf_fmt_ctx_t *ctx, const u_char *obj,
    const xf_json_span_t *v, xf_str_t *out)
{
    u_char        *dst;
    size_t         n;
    xf_status_t    rc;
    const u_char  *p;

    p = obj + v->off;

    if (v->type == XF_JSON_NUMBER) {
        out->data = p;
        out->len = v->len;
        return XF_OK;
    }

    if (v->type != XF_JSON_STRING) {
        return XF_ERR_EMPTY;
    }

    if (memchr(p, '\\', v->len) == NULL) {
        out->data = p + 1;
        out->len = v->len - 2;
        return XF_OK;
    }

    dst = xf_fmt_alloc(ctx, v->len);
    if (dst == NULL) {
        return XF_ERR_NOMEM;
    }

    rc = xf_json_string_unescape(p, v->len, dst, v->len, &n);
    if (rc != XF_OK) {
        return XF_ERR_EMPTY;
    }

    out->data = dst;
    out->len = n;

    return XF_OK;
}


xf_status_t
xf_fmt_text(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const char *key, xf_str_t *out)
{
    xf_json_span_t  v;

    if (xf_json_object_get(obj, len, key, strlen(key), &v) != XF_OK) {
        return XF_ERR_EMPTY;
    }

    return xf_fmt_value_text(ctx, obj, &v, out);
}


xf_status_t
xf_fmt_text_any(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const char *const *keys, xf_str_t *out)
{
    size_t          i, n;
    uint32_t        found;
    xf_status_t     rc;
    xf_json_key_t   k[32] = { { NULL, 0 } };  /* -O cannot see n bound it */
    xf_json_span_t  v[32];

    for (n = 0; n < 32 && keys[n] != NULL; n++) {
        k[n].name = keys[n];
        k[n].len = strlen(keys[n]);
    }

    /* one pass over the object, whatever the number of keys */
    if (xf_json_object_fields(obj, len, k, n, v, &found) != XF_OK) {
        return XF_ERR_EMPTY;
    }

    for (i = 0; i < n; i++) {
        if (found & (1u << i)) {
            rc = xf_fmt_value_text(ctx, obj, &v[i], out);
            if (rc != XF_ERR_EMPTY) {
                return rc;
            }
        }
    }

    return XF_ERR_EMPTY;
}


xf_status_t
xf_fmt_texts(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const xf_json_key_t *keys, const uint8_t *roles, size_t nkeys,
    xf_str_t *outs)
{
    size_t                 i;
    uint32_t               found, done;
    xf_status_t            rc;
    xf_json_span_t         v[32];
    const xf_json_span_t  *vs;

    if (ctx->values != NULL && keys == ctx->keys && nkeys == ctx->nkeys) {
        /* found by the split while it validated this event */
        vs = ctx->values;
        found = ctx->found;

    } else if (nkeys > 32
               || xf_json_object_fields(obj, len, keys, nkeys, v, &found)
                  != XF_OK)
    {
        return XF_OK;

    } else {
        vs = v;
    }

    done = 0;

    /* keys come in priority order: the first usable one of a role wins */
    for (i = 0; i < nkeys; i++) {
        if ((found & (1u << i)) && !(done & (1u << roles[i]))) {
            rc = xf_fmt_value_text(ctx, obj, &vs[i], &outs[roles[i]]);

            if (rc == XF_OK) {
                done |= 1u << roles[i];

            } else if (rc != XF_ERR_EMPTY) {
                return rc;
            }
        }
    }

    return XF_OK;
}


xf_status_t
xf_fmt_found(xf_fmt_ctx_t *ctx, const xf_event_t *ev, size_t k,
    xf_json_span_t *v)
{
    const xf_json_key_t  *key;

    if (ctx->values != NULL) {
        /* found by the split while it validated this event */
        if (!(ctx->found & (1u << k))) {
            return XF_ERR_EMPTY;
        }

        *v = ctx->values[k];
        return XF_OK;
    }

    key = &ctx->keys[k];

    return xf_json_object_get(ev->p, ev->len, key->name, key->len, v)
           == XF_OK ? XF_OK : XF_ERR_EMPTY;
}


/* The fields of ctx->keys: XF_OK or XF_ERR_NOMEM. */

static xf_status_t
xf_fmt_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_status_t  rc;

    memset(ctx->outs, 0, sizeof(ctx->outs));

    rc = xf_fmt_texts(ctx, ev->p, ev->len, ctx->keys, ctx->roles,
                      ctx->nkeys, ctx->outs);
    if (rc != XF_OK) {
        return rc;
    }

    ev->name = ctx->outs[XF_FMT_NAME];
    ev->distinct_id = ctx->outs[XF_FMT_ID];
    ev->app = ctx->outs[XF_FMT_APP];

    return XF_OK;
}


xf_status_t
xf_fmt_add(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    xf_status_t error, xf_event_t **ev)
{
    size_t        cap;
    xf_event_t   *events;
    xf_upload_t  *up;

    up = ctx->up;

    if (ctx->lim->max_events != 0 && up->n >= ctx->lim->max_events) {
        return XF_ERR_TOO_MANY_EVENTS;
    }

    if (up->n == up->cap) {
        cap = up->cap ? up->cap * 2 : 8;

        events = ctx->a->alloc(ctx->a->data, cap * sizeof(xf_event_t));
        if (events == NULL) {
            return XF_ERR_NOMEM;
        }

        if (up->events != NULL) {
            memcpy(events, up->events, up->n * sizeof(xf_event_t));
            ctx->a->free(ctx->a->data, up->events);
        }

        up->events = events;
        up->cap = cap;
    }

    *ev = &up->events[up->n++];
    memset(*ev, 0, sizeof(xf_event_t));
    (*ev)->p = p;
    (*ev)->len = len;
    (*ev)->error = error;

    return XF_OK;
}


xf_status_t
xf_fmt_event(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    xf_json_type_t type)
{
    xf_status_t   rc;
    xf_event_t   *ev;

    rc = xf_fmt_add(ctx, p, len, ctx->force, &ev);
    if (rc != XF_OK) {
        return rc;
    }

    if (type != XF_JSON_OBJECT) {
        if (ev->error == XF_OK) {
            ev->error = XF_ERR_NOT_OBJECT;
        }

        ev->app = ctx->up->app;
        return XF_OK;
    }

    if (ctx->lim->max_event_size != 0 && len > ctx->lim->max_event_size
        && ev->error == XF_OK)
    {
        ev->error = XF_ERR_EVENT_TOO_LARGE;
    }

    /* Fields even for a rejected event: they key the dead letter. */

    rc = (ctx->keys != NULL) ? xf_fmt_fields(ctx, ev) : XF_OK;

    if (rc == XF_OK && ctx->fields != NULL) {
        rc = ctx->fields(ctx, ev);
    }

    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    if (rc != XF_OK && ev->error == XF_OK) {
        ev->error = rc;
    }

    if (ev->app.len == 0) {
        ev->app = ctx->up->app;
    }

    return XF_OK;
}


/*
 * A body that is one object whose first member named wrapper is an
 * array (a Segment, PostHog or Amplitude batch): its elements are the
 * events, split into sp from *base.  The array is validated once, by the
 * split that finds the events' fields; the rest of the body is validated
 * with "[]" in its place, and must name the same member.  Returns XF_OK,
 * XF_ERR_TOO_MANY_EVENTS or XF_ERR_NOMEM, as the split of the whole body
 * and then of its array would; XF_ERR_EMPTY when the body has no such
 * member (valid or not, the wrapper is not to be looked for again);
 * XF_ERR_JSON_SYNTAX when it is not decided here (an invalid body: the
 * caller splits the whole body, and its error is the one reported).
 */
static xf_status_t
xf_fmt_wrapped(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    const char *wrapper, const char *const *app_keys,
    const xf_json_split_conf_t *conf, xf_json_split_t *sp,
    const u_char **base)
{
    u_char                *rest;
    size_t                 i, a, alen, rlen, end, err, wlen;
    xf_status_t            rc, many;
    xf_json_span_t         v, obj;
    xf_json_split_conf_t   aconf;
    u_char                 buf[512];

    wlen = strlen(wrapper);
    i = xf_json_ws(p, len, 0);

    if (i == len || p[i] != '{'
        || xf_min(conf->max_depth, XF_JSON_DEPTH_MAX) < 2)
    {
        return XF_ERR_EMPTY;
    }

    /* not validated yet: a guess that the two checks below confirm */
    if (xf_json_object_get(p + i, len - i, wrapper, wlen, &v) != XF_OK
        || v.type != XF_JSON_ARRAY)
    {
        return XF_ERR_EMPTY;
    }

    a = i + v.off;
    alen = v.len;

    /* the elements at the depth they have in the body */
    aconf = *conf;
    aconf.max_depth = xf_min(conf->max_depth, XF_JSON_DEPTH_MAX) - 1;

    many = xf_json_split(p + a, alen, &aconf, ctx->a, sp);

    if (many == XF_ERR_NOMEM) {
        return many;
    }

    if ((many != XF_OK && many != XF_ERR_TOO_MANY_EVENTS)
        || p[a] != '[' || p[a + alen - 1] != ']')
    {
        return XF_ERR_JSON_SYNTAX;
    }

    rlen = len - alen + 2;
    rest = buf;

    if (rlen > sizeof(buf)) {
        rest = ctx->a->alloc(ctx->a->data, rlen);
        if (rest == NULL) {
            return XF_ERR_NOMEM;
        }
    }

    memcpy(rest, p, a);
    rest[a] = '[';
    rest[a + 1] = ']';
    memcpy(rest + a + 2, p + a + alen, len - a - alen);

    rc = xf_json_scan_value(rest, rlen, conf->max_depth, &obj, &end, &err);

    if (rc == XF_OK
        && (obj.type != XF_JSON_OBJECT || xf_json_ws(rest, rlen, end) != rlen
            || xf_json_object_get(rest + obj.off, obj.len, wrapper, wlen, &v)
               != XF_OK
            || obj.off + v.off != a || v.len != 2))
    {
        /* valid, but not one object whose first wrapper is the array */
        rc = XF_ERR_JSON_SYNTAX;
    }

    if (rest != buf) {
        ctx->a->free(ctx->a->data, rest);
    }

    if (rc != XF_OK) {
        return XF_ERR_JSON_SYNTAX;
    }

    /* the body is valid: the wrapper object as it is in the body */

    if (ctx->up->app.len == 0 && app_keys != NULL) {
        rc = xf_fmt_text_any(ctx, p + obj.off, obj.len - 2 + alen, app_keys,
                             &ctx->up->app);
        if (rc == XF_ERR_NOMEM) {
            return rc;
        }
    }

    *base = p + a;

    return many;
}


xf_status_t
xf_fmt_json(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    const char *wrapper, const char *const *app_keys)
{
    size_t                 i;
    xf_status_t            rc;
    const u_char          *base, *obj;
    xf_json_span_t         v;
    xf_json_split_t        sp;
    xf_json_split_conf_t   conf;

    conf.max_depth = ctx->lim->max_depth ? ctx->lim->max_depth
                                         : XF_JSON_DEPTH_MAX;
    conf.max_events = ctx->lim->max_events ? ctx->lim->max_events
                                           : SIZE_MAX;

    memset(&sp, 0, sizeof(xf_json_split_t));
    base = p;

    /* the final layer, whatever was peeled to reach it */
    ctx->up->final += len;

    /* the fields every event needs, found while validating it */
    sp.keys = ctx->keys;
    sp.nkeys = ctx->nkeys;

    if (wrapper != NULL) {
        /* a batch: its events validated once, not with the body first */
        rc = xf_fmt_wrapped(ctx, p, len, wrapper, app_keys, &conf, &sp,
                            &base);

        if (rc == XF_OK) {
            goto events;
        }

        if (rc == XF_ERR_EMPTY) {
            /* looked for already: not a batch */
            wrapper = NULL;

        } else if (rc != XF_ERR_JSON_SYNTAX) {
            goto done;
        }
    }

    rc = xf_json_split(p, len, &conf, ctx->a, &sp);
    if (rc != XF_OK) {
        goto done;
    }

    if (wrapper != NULL && sp.n == 1 && sp.spans[0].type == XF_JSON_OBJECT) {
        obj = p + sp.spans[0].off;

        if (xf_json_object_get(obj, sp.spans[0].len, wrapper,
                               strlen(wrapper), &v) == XF_OK
            && v.type == XF_JSON_ARRAY)
        {
            if (ctx->up->app.len == 0 && app_keys != NULL) {
                rc = xf_fmt_text_any(ctx, obj, sp.spans[0].len, app_keys,
                                     &ctx->up->app);
                if (rc == XF_ERR_NOMEM) {
                    goto done;
                }
            }

            /* Validated as part of the whole: this split cannot fail. */

            base = obj + v.off;

            rc = xf_json_split(base, v.len, &conf, ctx->a, &sp);
            if (rc != XF_OK) {
                goto done;
            }
        }
    }

events:

    rc = XF_OK;

    for (i = 0; i < sp.n; i++) {
        if (sp.nkeys > 0) {
            ctx->values = sp.values + i * sp.nkeys;
            ctx->found = sp.found[i];
        }

        rc = xf_fmt_event(ctx, base + sp.spans[i].off, sp.spans[i].len,
                          sp.spans[i].type);

        ctx->values = NULL;

        if (rc != XF_OK) {
            break;
        }
    }

done:

    if (sp.spans != NULL) {
        ctx->a->free(ctx->a->data, sp.spans);
    }

    if (sp.values != NULL) {
        ctx->a->free(ctx->a->data, sp.values);
    }

    if (sp.found != NULL) {
        ctx->a->free(ctx->a->data, sp.found);
    }

    return rc;
}


xf_status_t
xf_fmt_body_json(xf_fmt_ctx_t *ctx, const char *wrapper,
    const char *const *app_keys)
{
    xf_str_t     text;
    xf_status_t  rc;

    text.data = ctx->req->body;
    text.len = ctx->req->body_len;

    rc = xf_fmt_gunzip(ctx, &text);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_json(ctx, text.data, text.len, wrapper, app_keys);
}


int
xf_fmt_eq(xf_str_t s, const char *c)
{
    size_t  n;

    n = strlen(c);

    return s.len == n && memcmp(s.data, c, n) == 0;
}


int
xf_fmt_path_ends(xf_str_t path, const char *suffix)
{
    size_t  n, len;

    len = path.len;

    while (len > 0 && path.data[len - 1] == '/') {
        len--;
    }

    n = strlen(suffix);

    return len >= n && memcmp(path.data + len - n, suffix, n) == 0;
}


int
xf_fmt_path_ends_any(xf_str_t path, const char *const *suffixes)
{
    for ( /* void */ ; *suffixes != NULL; suffixes++) {
        if (xf_fmt_path_ends(path, *suffixes)) {
            return 1;
        }
    }

    return 0;
}
