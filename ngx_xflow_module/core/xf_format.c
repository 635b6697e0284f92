/*
 * xf_format.c - format names, automatic detection, the helpers every
 * adapter shares (owned buffers, the decoded budget, nested layers,
 * events), and the plain JSON adapter.
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
 *
 * Automatic detection (XF_FMT_AUTO), first match wins:
 *   0. amplitude: the path ends in /2/httpapi;
 *   1. segment:  the path ends in /v1/<route> (batch, b, import, track,
 *                t, identify, i, page, p, screen, s, group, g, alias, a),
 *                /beacon/v1/batch included;
 *   2. snowplow: the path ends in /tp2, or a GET whose path ends in /i;
 *   3. posthog:  the path ends in /e, /i/v0/e, /batch, /capture, /track,
 *                /engage, /s, /decide or /flags, or is
 *                .../array/<token>/config[.js];
 *   4. sensors:  the path ends in /sa or /sa.gif;
 *   5. by content: a form (GET query, or a body that is not JSON or
 *                gzip) with a data or data_list field is posthog when
 *                the query says compression=base64, sensors otherwise; a
 *                body naming Snowplow's payload_data schema is snowplow;
 *   6. json.
 * Mixpanel (/track, /engage, /groups) shares its routes and its data=
 * form with PostHog's: it is never picked automatically.
 */

#include <string.h>

#include "xf_base64.h"
#include "xf_decode.h"
#include "xf_form.h"
#include "xf_format.h"


typedef struct xf_fmt_block_s  xf_fmt_block_t;

struct xf_fmt_block_s {
    xf_fmt_block_t  *next;
    void            *p;             /* NULL: the bytes follow the node */
};


static const char  *xf_format_names[XF_FMT_MAX] = {
    [XF_FMT_AUTO]     = "auto",
    [XF_FMT_JSON]     = "json",
    [XF_FMT_SENSORS]  = "sensors",
    [XF_FMT_POSTHOG]  = "posthog",
    [XF_FMT_SEGMENT]  = "segment",
    [XF_FMT_SNOWPLOW] = "snowplow",
    [XF_FMT_MIXPANEL] = "mixpanel",
    [XF_FMT_AMPLITUDE] = "amplitude",
};


static xf_format_t xf_format_detect(const xf_request_t *req);
static xf_status_t xf_format_json_fields(xf_fmt_ctx_t *ctx,
    xf_event_t *ev);


const char *
xf_format_name(xf_format_t f)
{
    if ((unsigned) f >= XF_FMT_MAX) {
        return "unknown";
    }

    return xf_format_names[f];
}


xf_status_t
xf_format_parse_name(const u_char *p, size_t len, xf_format_t *f)
{
    unsigned  i;

    for (i = 0; i < XF_FMT_MAX; i++) {
        if (strlen(xf_format_names[i]) == len
            && memcmp(xf_format_names[i], p, len) == 0)
        {
            *f = (xf_format_t) i;
            return XF_OK;
        }
    }

    return XF_ERR_FORM;
}


xf_status_t
xf_format_parse(const xf_request_t *req, const xf_limits_t *lim,
    const xf_alloc_t *a, xf_upload_t *out)
{
    size_t        i;
    xf_status_t   rc;
    xf_fmt_ctx_t  ctx;

    memset(&ctx, 0, sizeof(xf_fmt_ctx_t));
    ctx.req = req;
    ctx.lim = lim;
    ctx.a = a;
    ctx.up = out;

    out->format = req->format;

    if (out->format == XF_FMT_AUTO || (unsigned) out->format >= XF_FMT_MAX) {
        out->format = xf_format_detect(req);
    }

    /*
     * The reply an adapter would choose, so that a request refused here
     * is still answered the way its SDK expects; adapters refine it.
     */

    switch (out->format) {

    case XF_FMT_SENSORS:
    case XF_FMT_SNOWPLOW:
        out->reply = (req->body_len == 0) ? XF_REPLY_GIF : XF_REPLY_JSON;
        break;

    case XF_FMT_POSTHOG:
        out->reply = XF_REPLY_POSTHOG;
        break;

    case XF_FMT_SEGMENT:
        out->reply = XF_REPLY_SEGMENT;
        break;

    case XF_FMT_MIXPANEL:
        out->reply = XF_REPLY_MIXPANEL;
        break;

    case XF_FMT_AMPLITUDE:
        out->reply = XF_REPLY_AMPLITUDE;
        break;

    default:
        out->reply = XF_REPLY_JSON;
        break;
    }

    if (req->body_len > lim->max_decoded) {
        return XF_ERR_TOO_LARGE;
    }

    switch (out->format) {

    case XF_FMT_SENSORS:
        rc = xf_format_sensors(&ctx);
        break;

    case XF_FMT_POSTHOG:
        rc = xf_format_posthog(&ctx);
        break;

    case XF_FMT_SEGMENT:
        rc = xf_format_segment(&ctx);
        break;

    case XF_FMT_SNOWPLOW:
        rc = xf_format_snowplow(&ctx);
        break;

    case XF_FMT_MIXPANEL:
        rc = xf_format_mixpanel(&ctx);
        break;

    case XF_FMT_AMPLITUDE:
        rc = xf_format_amplitude(&ctx);
        break;

    default: /* XF_FMT_JSON */
        rc = xf_format_json(&ctx);
        break;
    }

    out->rejected = 0;

    for (i = 0; i < out->n; i++) {
        if (out->events[i].error != XF_OK) {
            out->rejected++;
        }
    }

    return rc;
}


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


static xf_format_t
xf_format_detect(const xf_request_t *req)
{
    const u_char     *form;
    size_t            len;
    xf_form_field_t   f;

    if (xf_format_amplitude_route(req)) {
        return XF_FMT_AMPLITUDE;
    }

    if (xf_format_segment_route(req)) {
        return XF_FMT_SEGMENT;
    }

    if (xf_format_snowplow_route(req)) {
        return XF_FMT_SNOWPLOW;
    }

    if (xf_format_posthog_route(req)) {
        return XF_FMT_POSTHOG;
    }

    if (xf_format_sensors_route(req)) {
        return XF_FMT_SENSORS;
    }

    /* Content: a form with an SDK's base64 field. */

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
        form = NULL;
        len = 0;
    }

    if (form != NULL
        && (xf_form_get(form, len, "data", 4, &f) != XF_ERR_EMPTY
            || xf_form_get(form, len, "data_list", 9, &f) != XF_ERR_EMPTY))
    {
        if (xf_form_get(req->query.data, req->query.len, "compression", 11,
                        &f) == XF_OK
            && f.value_len == 6 && memcmp(f.value, "base64", 6) == 0)
        {
            return XF_FMT_POSTHOG;
        }

        return XF_FMT_SENSORS;
    }

    if (req->body_len != 0
        && memmem(req->body, xf_min(req->body_len, 1024),
                  "\"iglu:com.snowplowanalytics.snowplow/payload_data", 49)
           != NULL)
    {
        return XF_FMT_SNOWPLOW;
    }

    return XF_FMT_JSON;
}


/* -------------------------------------------------------------- helpers */

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

    rc = xf_fmt_charge(ctx, n);
    if (rc != XF_OK) {
        return rc;
    }

    out->data = dst;
    out->len = n;

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

    rc = xf_fmt_charge(ctx, n);
    if (rc != XF_OK) {
        return rc;
    }

    s->data = dst;
    s->len = n;

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
    if (s->len > 0 && (s->data[0] == '{' || s->data[0] == '[')) {
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

    rc = xf_fmt_charge(ctx, n);
    if (rc != XF_OK) {
        return rc;
    }

    s->data = out;
    s->len = n;

    return XF_OK;
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

    for (n = 0; keys[n] != NULL && n < 32; n++) {
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

    rc = ctx->fields(ctx, ev);

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

    /* the fields every event needs, found while validating it */
    sp.keys = ctx->keys;
    sp.nkeys = ctx->nkeys;

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


/* ----------------------------------------------------------------- json */

/*
 * Plain JSON: one object, an array of objects, or NDJSON.  Name: "event",
 * else "type".  Distinct id: the first of distinct_id, user_id, userId,
 * anonymous_id, anonymousId, uid.  App: the first of app, project,
 * app_id; else the query's app or project parameter.  Nothing is
 * required.
 */

/* The fields of a plain JSON event, by role, in priority order. */
enum { XF_JSON_ROLE_NAME = 0, XF_JSON_ROLE_ID, XF_JSON_ROLE_APP };

#define xf_key(s)  { s, sizeof(s) - 1 }

static const xf_json_key_t  xf_json_field_keys[] = {
    xf_key("event"), xf_key("type"),
    xf_key("distinct_id"), xf_key("user_id"), xf_key("userId"),
    xf_key("anonymous_id"), xf_key("anonymousId"), xf_key("uid"),
    xf_key("app"), xf_key("project"), xf_key("app_id")
};

static const uint8_t  xf_json_field_roles[] = {
    XF_JSON_ROLE_NAME, XF_JSON_ROLE_NAME,
    XF_JSON_ROLE_ID, XF_JSON_ROLE_ID, XF_JSON_ROLE_ID,
    XF_JSON_ROLE_ID, XF_JSON_ROLE_ID, XF_JSON_ROLE_ID,
    XF_JSON_ROLE_APP, XF_JSON_ROLE_APP, XF_JSON_ROLE_APP
};


xf_status_t
xf_format_json(xf_fmt_ctx_t *ctx)
{
    xf_status_t  rc;

    ctx->up->reply = XF_REPLY_JSON;
    ctx->fields = xf_format_json_fields;
    ctx->keys = xf_json_field_keys;
    ctx->nkeys = sizeof(xf_json_field_keys) / sizeof(xf_json_key_t);

    /* The query is not part of the format: a bad one is ignored. */

    rc = xf_fmt_form_field(ctx, ctx->req->query.data, ctx->req->query.len,
                           "app", 0, &ctx->up->app);
    if (rc == XF_ERR_EMPTY) {
        rc = xf_fmt_form_field(ctx, ctx->req->query.data,
                               ctx->req->query.len, "project", 0,
                               &ctx->up->app);
    }

    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    if (rc != XF_OK) {
        ctx->up->app.data = NULL;
        ctx->up->app.len = 0;
    }

    return xf_fmt_json(ctx, ctx->req->body, ctx->req->body_len, NULL, NULL);
}


static xf_status_t
xf_format_json_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_status_t  rc;
    xf_str_t     f[3];

    memset(f, 0, sizeof(f));

    /* one pass over the event for all three: this runs for every event */
    rc = xf_fmt_texts(ctx, ev->p, ev->len, xf_json_field_keys,
                      xf_json_field_roles,
                      sizeof(xf_json_field_roles) / sizeof(uint8_t), f);
    if (rc != XF_OK) {
        return rc;
    }

    ev->name = f[XF_JSON_ROLE_NAME];
    ev->distinct_id = f[XF_JSON_ROLE_ID];
    ev->app = f[XF_JSON_ROLE_APP];

    return XF_OK;
}
