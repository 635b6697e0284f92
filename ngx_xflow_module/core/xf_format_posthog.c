/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_posthog.c - PostHog (posthog-js and the capture API).
 *
 * Events: POST /e/, /i/v0/e/, /batch/, /capture/, /track/, /engage/, /s/
 * (any prefix before them).  The body, after the glue's Content-Encoding
 * layer, is one of
 *
 *     gzip(...)                      sniffed by its magic bytes, whatever
 *                                    the query or Content-Type says
 *                                    (compression=gzip-js, text/plain)
 *     data=<base64(...)>             compression=base64, sendBeacon; a
 *                                    form, also in a GET query
 *     [event, ...]  event  {"api_key":..., "batch":[...], "sent_at":...}
 *
 * compression=lz64 (LZ-string, very old SDKs) is XF_ERR_ENCODING_UNKNOWN.
 *
 * PostHog's v1 capture, POST .../i/v1/analytics/events (and the AI
 * lane's .../i/v1/ai/events): the project token in "Authorization:
 * Bearer <token>", the body {"created_at":...,"batch":[{"event",
 * "uuid", "distinct_id", "timestamp", "properties", ...}]}; its SDKs
 * read a result per event uuid (XF_REPLY_POSTHOG_V1).
 *
 * Remote config, not uploads: GET .../array/<token>/config.js and
 * .../array/<token>/config give the token from the path; POST /decide/
 * and /flags/ (feature flags) give it from the body ("token",
 * "api_key") when it can be read.  Both reply XF_REPLY_POSTHOG_CONFIG
 * with no event; a config request never fails for its body.
 *
 * Event: name "event"; distinct id properties.distinct_id, else
 * "distinct_id", else "$distinct_id"; app (the project token) the
 * event's "api_key", "token" or "$token", else properties.token or
 * properties.$token, else the body's "api_key" or "token".  "event" and a
 * distinct id are required, as PostHog's capture requires them.
 */

#include <string.h>

#include "xf_form.h"
#include "xf_format_impl.h"


static int xf_posthog_config_path(xf_str_t path, xf_str_t *token);
static xf_status_t xf_posthog_config(xf_fmt_ctx_t *ctx);
static xf_status_t xf_posthog_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);
static void xf_posthog_bearer(xf_str_t auth, xf_str_t *token);


static const char *const  xf_posthog_event_routes[] = {
    "/e", "/i/v0/e", "/batch", "/capture", "/track", "/engage", "/s",
    "/i/v1/analytics/events", "/i/v1/ai/events", NULL
};

static const char *const  xf_posthog_v1_routes[] = {
    "/i/v1/analytics/events", "/i/v1/ai/events", NULL
};

static const char *const  xf_posthog_config_routes[] = {
    "/decide", "/flags", NULL
};

static const char *const  xf_posthog_body_keys[] = {
    "api_key", "token", NULL
};

/*
 * An event's members, found by the split that validates it: the name,
 * the top-level ids and keys in priority order, and properties (first:
 * xf_posthog_fields() reads its span).  Inside properties, the id and
 * the key it may hold, found in one walk.
 */
static const xf_json_key_t  xf_posthog_keys[] = {
    xf_fmt_key("properties"), xf_fmt_key("event"),
    xf_fmt_key("distinct_id"), xf_fmt_key("$distinct_id"),
    xf_fmt_key("api_key"), xf_fmt_key("token"), xf_fmt_key("$token")
};

static const uint8_t  xf_posthog_roles[] = {
    XF_FMT_NROLES, XF_FMT_NAME, XF_FMT_ID, XF_FMT_ID, XF_FMT_APP,
    XF_FMT_APP, XF_FMT_APP
};

static const xf_json_key_t  xf_posthog_prop_keys[] = {
    xf_fmt_key("distinct_id"), xf_fmt_key("token"), xf_fmt_key("$token")
};

static const uint8_t  xf_posthog_prop_roles[] = {
    XF_FMT_ID, XF_FMT_APP, XF_FMT_APP
};


int
xf_format_posthog_route(const xf_request_t *req)
{
    xf_str_t  token;

    return xf_fmt_path_ends_any(req->path, xf_posthog_event_routes)
           || xf_fmt_path_ends_any(req->path, xf_posthog_config_routes)
           || xf_posthog_config_path(req->path, &token);
}


int
xf_format_posthog_sniff(const xf_request_t *req)
{
    xf_form_field_t  f;

    return xf_fmt_sniff_data_form(req)
           && xf_form_get(req->query.data, req->query.len, "compression",
                          11, &f) == XF_OK
           && f.value_len == 6 && memcmp(f.value, "base64", 6) == 0;
}


/*
 * An upload, or a remote config request (no event, the token in
 * ctx->up->token).  Returns XF_OK, XF_ERR_ENCODING_UNKNOWN (lz64), or
 * the errors of the nested layers and of xf_fmt_json(); events point
 * into the body or into upload buffers, the token into the path, the
 * query, the body or an upload buffer.
 */

xf_status_t
xf_format_posthog(xf_fmt_ctx_t *ctx)
{
    int                  b64;
    u_char              *dst;
    xf_str_t             text, token, c;
    xf_status_t          rc;
    const xf_request_t  *req;

    req = ctx->req;

    ctx->fields = xf_posthog_fields;
    ctx->keys = xf_posthog_keys;
    ctx->roles = xf_posthog_roles;
    ctx->nkeys = xf_fmt_nelts(xf_posthog_roles);

    if (xf_posthog_config_path(req->path, &token)) {
        ctx->up->reply = XF_REPLY_POSTHOG_CONFIG;

        if (memchr(token.data, '%', token.len) != NULL) {
            dst = xf_fmt_alloc(ctx, token.len);
            if (dst == NULL) {
                return XF_ERR_NOMEM;
            }

            if (xf_form_decode(token.data, token.len, XF_FORM_PLUS_KEEP,
                               dst, &token.len)
                != XF_OK)
            {
                /* A bad path: a config answer without a token. */
                return XF_OK;
            }

            token.data = dst;
        }

        ctx->up->token = token;
        ctx->up->app = token;
        return XF_OK;
    }

    if (xf_fmt_path_ends_any(req->path, xf_posthog_config_routes)) {
        ctx->up->reply = XF_REPLY_POSTHOG_CONFIG;
        return xf_posthog_config(ctx);
    }

    if (xf_fmt_path_ends_any(req->path, xf_posthog_v1_routes)) {
        ctx->up->reply = XF_REPLY_POSTHOG_V1;
        xf_posthog_bearer(req->authorization, &ctx->up->app);
    }

    rc = xf_fmt_form_field(ctx, req->query.data, req->query.len,
                           "compression", 0, &c);

    if (rc == XF_OK && xf_fmt_eq(c, "lz64")) {
        return XF_ERR_ENCODING_UNKNOWN;
    }

    if (rc != XF_OK && rc != XF_ERR_EMPTY) {
        return rc;
    }

    /* gzip, then the base64 form: GET /e/?data=..., or a body data=... */
    rc = xf_fmt_data_upload(ctx, "data=", &text, &b64);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_json(ctx, text.data, text.len, "batch",
                       xf_posthog_body_keys);
}


/* /decide/, /flags/: the token if the body gives it, never an error. */

static xf_status_t
xf_posthog_config(xf_fmt_ctx_t *ctx)
{
    int              b64;
    size_t           end, err;
    xf_str_t         text;
    xf_status_t      rc;
    xf_json_span_t   v;

    rc = xf_fmt_form_field(ctx, ctx->req->query.data, ctx->req->query.len,
                           "token", 0, &ctx->up->token);

    if (rc == XF_OK || rc == XF_ERR_NOMEM) {
        ctx->up->app = ctx->up->token;
        return rc;
    }

    ctx->up->token.len = 0;

    rc = xf_fmt_data_upload(ctx, "data=", &text, &b64);
    if (rc != XF_OK) {
        return rc == XF_ERR_NOMEM ? rc : XF_OK;
    }

    rc = xf_json_scan_value(text.data, text.len,
                            ctx->lim->max_depth ? ctx->lim->max_depth
                                                : XF_JSON_DEPTH_MAX,
                            &v, &end, &err);

    if (rc != XF_OK || v.type != XF_JSON_OBJECT) {
        return XF_OK;
    }

    rc = xf_fmt_text_any(ctx, text.data + v.off, v.len,
                         xf_posthog_body_keys, &ctx->up->token);

    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    if (rc != XF_OK) {
        ctx->up->token.len = 0;
    }

    ctx->up->app = ctx->up->token;

    return XF_OK;
}


/*
 * v1's "Authorization: Bearer <token>" (the scheme in any case, blanks
 * around the token): the project token, public as the body's api_key
 * is, so it names the app as sent.  Anything else leaves *token alone.
 */

static void
xf_posthog_bearer(xf_str_t auth, xf_str_t *token)
{
    size_t         i, len;
    const u_char  *p;

    static const char  scheme[] = "bearer ";

    if (auth.len <= sizeof(scheme) - 1) {
        return;
    }

    for (i = 0; i < sizeof(scheme) - 1; i++) {
        if ((auth.data[i] | 0x20) != (u_char) scheme[i]) {
            return;
        }
    }

    p = auth.data + i;
    len = auth.len - i;

    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    if (len > 0) {
        token->data = p;
        token->len = len;
    }
}


/* .../array/<token>/config or .../config.js: *token points into path. */

static int
xf_posthog_config_path(xf_str_t path, xf_str_t *token)
{
    size_t         len, i;
    const u_char  *p, *slash;

    len = path.len;

    while (len > 0 && path.data[len - 1] == '/') {
        len--;
    }

    if (len >= 10 && memcmp(path.data + len - 10, "/config.js", 10) == 0) {
        len -= 10;

    } else if (len >= 7 && memcmp(path.data + len - 7, "/config", 7) == 0) {
        len -= 7;

    } else {
        return 0;
    }

    /* path.data[0 .. len) ends in "/array/<token>". */

    p = path.data;
    slash = NULL;

    for (i = len; i > 0; i--) {
        if (p[i - 1] == '/') {
            slash = p + i - 1;
            break;
        }
    }

    if (slash == NULL || slash == p + len - 1 || slash - p < 6
        || memcmp(slash - 6, "/array", 6) != 0)
    {
        return 0;
    }

    token->data = slash + 1;
    token->len = p + len - (slash + 1);

    return 1;
}


/*
 * The fields callback (xf_fmt_fields_pt): "event" and an id required.
 * xf_fmt_event() set the name, the top-level id and the top-level key;
 * properties' distinct_id comes before the top-level ids, its token
 * after the top-level keys.
 */

static xf_status_t
xf_posthog_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_str_t         outs[XF_FMT_NROLES];
    xf_status_t      rc;
    xf_json_span_t   v;

    if (xf_fmt_found(ctx, ev, 0, &v) == XF_OK && v.type == XF_JSON_OBJECT) {
        memset(outs, 0, sizeof(outs));

        rc = xf_fmt_texts(ctx, ev->p + v.off, v.len, xf_posthog_prop_keys,
                          xf_posthog_prop_roles,
                          xf_fmt_nelts(xf_posthog_prop_roles), outs);
        if (rc != XF_OK) {
            return rc;
        }

        if (outs[XF_FMT_ID].data != NULL) {
            ev->distinct_id = outs[XF_FMT_ID];
        }

        if (ev->app.data == NULL && outs[XF_FMT_APP].data != NULL) {
            ev->app = outs[XF_FMT_APP];
        }
    }

    if (ev->name.len == 0 || ev->distinct_id.len == 0) {
        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}


/*
 * posthog-js, posthog-android, posthog-ios: the distinct id at the top
 * and in properties, the device id, the anonymous id an $identify
 * carries, the session and window ids (kept in sessionStorage and in the
 * ph_<token>_posthog cookie), the raw User-Agent posthog-js copies into
 * every event.
 */
const xf_format_field_t  xf_format_posthog_fields[] = {
    { "distinct_id", XF_FIELD_ID, NULL },
    { "$distinct_id", XF_FIELD_ID, NULL },
    { "properties.distinct_id", XF_FIELD_ID, NULL },
    { "properties.$device_id", XF_FIELD_ID, NULL },
    { "properties.$anon_distinct_id", XF_FIELD_ID, NULL },
    { "properties.$user_id", XF_FIELD_ID, NULL },
    { "properties.$session_id", XF_FIELD_ID, NULL },
    { "properties.$window_id", XF_FIELD_ID, NULL },
    { "$set.$device_id", XF_FIELD_ID, NULL },
    { "properties.$raw_user_agent", XF_FIELD_UA, NULL },
    { "properties.$user_agent", XF_FIELD_UA, NULL },
    { "properties.$ip", XF_FIELD_IP, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * PostHog: "timestamp" (ISO 8601) and properties.$time (seconds,
 * with a fraction); the ids in the adapter's order, then the device id.
 */
const char *const  xf_format_posthog_times[] = {
    "timestamp", "properties.$time", NULL
};

const char *const  xf_format_posthog_ids[] = {
    "properties.distinct_id", "distinct_id", "$distinct_id",
    "properties.$device_id", NULL
};
