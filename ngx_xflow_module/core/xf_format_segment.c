/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_segment.c - Segment (analytics.js / analytics-next, server
 * libraries, HTTP API) and RudderStack, which speaks the same API.
 *
 *     POST /v1/batch, /v1/b, /v1/import    {writeKey?, batch:[...], ...}
 *     POST /v1/track|identify|page|screen|group|alias   one call
 *     POST /v1/t|i|p|s|g|a                 the same, short (browser)
 *     POST /beacon/v1/batch?writeKey=...   RudderStack beacons
 *
 * The write key: Basic auth (base64 of "key:"), else the query's
 * writeKey, else the body's "writeKey"; an event's own "writeKey" wins
 * for that event.  A malformed Authorization header is ignored: the key
 * may still come from elsewhere.  Wherever it came from, the app is the
 * key's fingerprint, never the key (xf_segment_wk).
 *
 * Event: the bytes as sent (the type a single-call route implies is not
 * written into them); type "type", else the route's; name "event" for
 * track, else the type ("page", "identify", ...); distinct id "userId",
 * else "anonymousId"; app the write key's fingerprint.  Required: a
 * type, "event" for
 * track, and userId or anonymousId, as Segment's API requires.
 */

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "xf_base64.h"
#include "xf_form.h"
#include "xf_format_impl.h"


typedef struct {
    const char  *suffix;
    const char  *type;              /* NULL: a batch route */
} xf_segment_route_t;


static const xf_segment_route_t  xf_segment_routes[] = {
    { "/v1/batch", NULL },      { "/v1/b", NULL },
    { "/v1/import", NULL },
    { "/v1/track", "track" },   { "/v1/t", "track" },
    { "/v1/identify", "identify" }, { "/v1/i", "identify" },
    { "/v1/page", "page" },     { "/v1/p", "page" },
    { "/v1/screen", "screen" }, { "/v1/s", "screen" },
    { "/v1/group", "group" },   { "/v1/g", "group" },
    { "/v1/alias", "alias" },   { "/v1/a", "alias" },
    { NULL, NULL }
};

static const char *const  xf_segment_key_keys[] = { "writeKey", NULL };

/*
 * The members of an event's fields, found by the split that validates
 * the event (xf_fmt_texts): one pass, where a lookup per member walked
 * the event four times.  xf_segment_fields() gives them their priority.
 */
enum {
    XF_SEGMENT_TYPE = XF_FMT_NROLES, XF_SEGMENT_EVENT, XF_SEGMENT_USER,
    XF_SEGMENT_ANON
};

static const xf_json_key_t  xf_segment_keys[] = {
    xf_fmt_key("type"), xf_fmt_key("event"), xf_fmt_key("userId"),
    xf_fmt_key("anonymousId"), xf_fmt_key("writeKey")
};

static const uint8_t  xf_segment_roles[] = {
    XF_SEGMENT_TYPE, XF_SEGMENT_EVENT, XF_SEGMENT_USER, XF_SEGMENT_ANON,
    XF_FMT_APP
};


static xf_status_t xf_segment_basic(xf_fmt_ctx_t *ctx);
static xf_status_t xf_segment_body_wk(xf_fmt_ctx_t *ctx, xf_status_t rc);
static xf_status_t xf_segment_wk(xf_fmt_ctx_t *ctx, xf_str_t *app);
static xf_status_t xf_segment_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);


static const xf_segment_route_t *
xf_segment_find(const xf_request_t *req)
{
    const xf_segment_route_t  *r;

    for (r = xf_segment_routes; r->suffix != NULL; r++) {
        if (xf_fmt_path_ends(req->path, r->suffix)) {
            return r;
        }
    }

    return NULL;
}


int
xf_format_segment_route(const xf_request_t *req)
{
    return xf_segment_find(req) != NULL;
}


/*
 * The body (a batch or one call) as events.  Returns XF_OK or the errors
 * of xf_fmt_gunzip() and xf_fmt_json(); events point into the body or
 * into upload buffers, the app (a hashed key, or the query's) into
 * upload buffers or the query.
 */

xf_status_t
xf_format_segment(xf_fmt_ctx_t *ctx)
{
    xf_status_t                rc;
    const xf_segment_route_t  *r;

    ctx->fields = xf_segment_fields;
    ctx->keys = xf_segment_keys;
    ctx->roles = xf_segment_roles;
    ctx->nkeys = xf_fmt_nelts(xf_segment_roles);

    r = xf_segment_find(ctx->req);

    if (r != NULL && r->type != NULL) {
        ctx->route.data = (const u_char *) r->type;
        ctx->route.len = strlen(r->type);
    }

    rc = xf_segment_basic(ctx);
    if (rc != XF_OK) {
        return rc;
    }

    if (ctx->up->app.len == 0) {
        rc = xf_fmt_form_field(ctx, ctx->req->query.data,
                               ctx->req->query.len, "writeKey", 0,
                               &ctx->up->app);
        if (rc != XF_OK && rc != XF_ERR_EMPTY) {
            return rc;
        }

        rc = xf_segment_wk(ctx, &ctx->up->app);
        if (rc != XF_OK) {
            return rc;
        }
    }

    if (ctx->up->app.len != 0) {
        return xf_fmt_body_json(ctx, "batch", NULL);
    }

    rc = xf_fmt_body_json(ctx, "batch", xf_segment_key_keys);

    return xf_segment_body_wk(ctx, rc);
}


/*
 * The body's write key is read with its wrapper, before its events: an
 * event without a key of its own took it as it was sent.  It and they
 * get its fingerprint; rc is the body's status, returned unless the
 * fingerprint fails.
 */
static xf_status_t
xf_segment_body_wk(xf_fmt_ctx_t *ctx, xf_status_t rc)
{
    size_t        i;
    xf_str_t      raw;
    xf_event_t   *ev;

    raw = ctx->up->app;

    if (raw.len == 0) {
        return rc;
    }

    if (xf_segment_wk(ctx, &ctx->up->app) != XF_OK) {
        return XF_ERR_NOMEM;
    }

    for (i = 0; i < ctx->up->n; i++) {
        ev = &ctx->up->events[i];

        if (ev->app.data == raw.data && ev->app.len == raw.len) {
            ev->app = ctx->up->app;
        }
    }

    return rc;
}


/*
 * Authorization: Basic base64("writeKey:") names the request's source;
 * the user part is the write key, the password part, if any, is never
 * used.
 */

#define XF_SEGMENT_WK_PREFIX  "wk:"
#define XF_SEGMENT_WK_LEN     (sizeof(XF_SEGMENT_WK_PREFIX) - 1 + 22)

static xf_status_t
xf_segment_basic(xf_fmt_ctx_t *ctx)
{
    size_t         n, len;
    u_char        *dst, *colon;
    xf_status_t    rc;
    const u_char  *p;

    p = ctx->req->authorization.data;
    len = ctx->req->authorization.len;

    if (len < 6 || strncasecmp((const char *) p, "basic ", 6) != 0) {
        return XF_OK;
    }

    p += 6;
    len -= 6;

    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    dst = xf_fmt_alloc(ctx, xf_base64_decoded_bound(len));
    if (dst == NULL) {
        return XF_ERR_NOMEM;
    }

    if (xf_base64_decode(p, len, XF_BASE64_STD, dst, &n) != XF_OK) {
        return XF_OK;
    }

    colon = memchr(dst, ':', n);
    n = colon ? (size_t) (colon - dst) : n;

    if (n == 0) {
        return XF_OK;
    }

    ctx->up->app.data = dst;
    ctx->up->app.len = n;

    rc = xf_segment_wk(ctx, &ctx->up->app);

    /* the decoded credential is not kept where it could be read */
    memset(dst, 0, xf_base64_decoded_bound(len));

    return rc;
}


/*
 * A write key is a credential, wherever it came from (Basic, the query,
 * the body, an event): never the app as sent ($xflow_app, the access
 * log, the envelope, limit keys).  The app is "wk:" and the key's keyed
 * reference under xflow_hash_key: the field reference (tag 'f'), the
 * very one xflow_privacy standard puts in place of an event's "writeKey"
 * member, so the two join; without a hash key, the first 128 bits of its
 * SHA-256, stable for a key and not reversible for a random one.  22
 * characters of unpadded base64url either way.  An empty app stays so.
 */
static xf_status_t
xf_segment_wk(xf_fmt_ctx_t *ctx, xf_str_t *app)
{
    size_t         n;
    u_char        *fp;
    unsigned int   dn;
    u_char         digest[EVP_MAX_MD_SIZE];

    if (app->len == 0) {
        return XF_OK;
    }

    fp = xf_fmt_alloc(ctx, XF_SEGMENT_WK_LEN + 4);
    if (fp == NULL) {
        return XF_ERR_NOMEM;
    }

    memcpy(fp, XF_SEGMENT_WK_PREFIX, sizeof(XF_SEGMENT_WK_PREFIX) - 1);

    if (ctx->req->hash_key != NULL) {
        if (xf_hashref(ctx->req->hash_key, XF_HASHREF_FIELD, app->data,
                       app->len, fp + sizeof(XF_SEGMENT_WK_PREFIX) - 1)
            != XF_OK)
        {
            return XF_ERR_NOMEM;
        }

        n = XF_HASHREF_LEN;

    } else {
        if (EVP_Digest(app->data, app->len, digest, &dn, EVP_sha256(), NULL)
            != 1)
        {
            return XF_ERR_NOMEM;
        }

        n = xf_base64_encode(fp + sizeof(XF_SEGMENT_WK_PREFIX) - 1, digest,
                             16, XF_BASE64_URL);
    }

    app->data = fp;
    app->len = sizeof(XF_SEGMENT_WK_PREFIX) - 1 + n;

    return XF_OK;
}


/*
 * The fields callback (xf_fmt_fields_pt): a type, a name and an id from
 * the members xf_fmt_event() found (ctx->outs; a member absent, or
 * neither a string nor a number, has no data), the app from writeKey.
 */

static xf_status_t
xf_segment_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_str_t         type;
    const xf_str_t  *user, *anon;

    type = ctx->outs[XF_SEGMENT_TYPE];

    if (type.data == NULL || type.len == 0) {
        type = ctx->route;
    }

    if (!xf_fmt_eq(type, "track")) {
        ev->name = type;

    } else if (ctx->outs[XF_SEGMENT_EVENT].data != NULL) {
        ev->name = ctx->outs[XF_SEGMENT_EVENT];
    }

    user = &ctx->outs[XF_SEGMENT_USER];
    anon = &ctx->outs[XF_SEGMENT_ANON];

    /* userId, else anonymousId; "userId": "" with an anonymousId too */

    if (user->data != NULL && (user->len != 0 || anon->data == NULL)) {
        ev->distinct_id = *user;

    } else if (anon->data != NULL) {
        ev->distinct_id = *anon;
    }

    if (xf_segment_wk(ctx, &ev->app) != XF_OK) {
        return XF_ERR_NOMEM;
    }

    if (type.len == 0 || ev->name.len == 0 || ev->distinct_id.len == 0) {
        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}


/*
 * analytics.js / analytics-next, the mobile libraries and RudderStack's
 * SDKs: the ids (RudderStack copies the anonymous id into traits), the
 * device ids of the app libraries, RudderStack's session id, the
 * User-Agent, Chromium's User-Agent client hints (context.userAgentData)
 * and the address.  messageId too: analytics-next draws its UUIDs from
 * one pool of random bytes, a byte further along each time, so the
 * message ids of the page that made the anonymous id hold most of its
 * digits (the recorded uploads show 27 of 32).  Its reference is as
 * stable as the id, so downstream deduplication by it still works.
 */
const xf_format_field_t  xf_format_segment_fields[] = {
    { "anonymousId", XF_FIELD_ID, NULL },
    { "messageId", XF_FIELD_ID, NULL },
    { "userId", XF_FIELD_ID, NULL },
    { "previousId", XF_FIELD_ID, NULL },
    { "context.traits.anonymousId", XF_FIELD_ID, NULL },
    { "context.sessionId", XF_FIELD_ID, NULL },
    { "context.device.id", XF_FIELD_ID, NULL },
    { "context.device.advertisingId", XF_FIELD_ID, NULL },
    { "context.userAgent", XF_FIELD_UA, NULL },
    { "context.userAgentData", XF_FIELD_HINT, NULL },
    { "context.ip", XF_FIELD_IP, NULL },
    { "writeKey", XF_FIELD_KEY, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * Segment and RudderStack: "timestamp" (Segment; RudderStack sends
 * "originalTimestamp" instead) and "sentAt", from which both correct a
 * device's clock: a clamped time leaves no sentAt ahead of it.
 */
const char *const  xf_format_segment_times[] = {
    "timestamp", "originalTimestamp", "sentAt", NULL
};

const char *const  xf_format_segment_ids[] = {
    "userId", "anonymousId", NULL
};
