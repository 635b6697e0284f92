/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_mixpanel.c - Mixpanel (mixpanel-browser, the mobile SDKs and
 * the ingestion API).
 *
 *     POST /track, /engage, /groups   data=<base64(JSON)> or data=<JSON>
 *                                     (application/x-www-form-urlencoded;
 *                                     sendBeacon sends the same form)
 *     GET  /track?data=...&ip=1&_=... img=1: the image transport
 *     POST with a JSON body            [event, ...] or one event
 *
 * Any prefix before the routes.  The data value is base64 (gzip inside
 * it is peeled too) unless it starts with '{' or '[' (api_payload_format
 * "json").  Content-Encoding: gzip (mixpanel-iphone) is the glue's layer.
 *
 * mixpanel-browser's base64 encoder turns each UTF-16 unit into UTF-8 on
 * its own: a character beyond U+FFFF (an emoji) arrives as two 3-byte
 * surrogates (CESU-8), and its 255-unit truncation of long strings can
 * leave half a pair.  Inside a base64 value both are mended before the
 * JSON is read: a pair becomes the 4-byte UTF-8 character, a lone half
 * U+FFFD (Mixpanel's own servers accept both).
 *
 * The query's flags shape the answer, not the events: verbose=1 asks
 * for {"status":1,"error":null} instead of the bare 1 (mixpanel-browser's
 * batch sender always asks for it), img=1 for a 1x1 GIF.  ip=0 (do not
 * geolocate from the address) is left to the privacy directives, see
 * docs/formats.md.
 *
 * What an event is, by its members, whatever the route (a proxy may send
 * everything to one location):
 *
 *     track   {"event":..., "properties":{"token", "distinct_id", ...}}
 *             name "event"; distinct id properties.distinct_id; app
 *             properties.token.  Required: "event" and the token.
 *     engage  {"$token", "$distinct_id", "$set"|"$set_once"|...}
 *             name the operation ("$set", ...); distinct id
 *             $distinct_id; app $token.  Required: $token, $distinct_id.
 *     groups  {"$token", "$group_key", "$group_id", "$set"|...}
 *             name the operation; distinct id $group_id; app $token.
 *             Required: $token, $group_key, $group_id.
 *
 * A request-level app (the query's "token", else "project") stands in for
 * an event that names none.
 */

#include <string.h>

#include "xf_format_impl.h"


static xf_status_t xf_mixpanel_surrogates(xf_fmt_ctx_t *ctx, xf_str_t *s);
static xf_status_t xf_mixpanel_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);


/* The members an event may have, by role, in one pass. */
enum {
    XF_MP_EVENT = 0, XF_MP_TOKEN, XF_MP_DISTINCT, XF_MP_GROUP_KEY,
    XF_MP_GROUP_ID, XF_MP_NROLES
};

/*
 * The same members, the adapter's keys: found by the split that
 * validates the event, with properties (its span: xf_fmt_found()), into
 * ctx->outs, from where xf_mixpanel_fields() takes them by role.
 */
static const xf_json_key_t  xf_mixpanel_keys[] = {
    xf_fmt_key("event"), xf_fmt_key("$token"), xf_fmt_key("$distinct_id"),
    xf_fmt_key("$group_key"), xf_fmt_key("$group_id"),
    xf_fmt_key("properties")
};

static const uint8_t  xf_mixpanel_roles[] = {
    XF_FMT_NAME, XF_FMT_APP, XF_FMT_ID, XF_FMT_NROLES, XF_FMT_NROLES + 1,
    XF_FMT_NROLES + 2
};

#define XF_MP_KEY_EVENT  0
#define XF_MP_KEY_PROPS  5

static const xf_json_key_t  xf_mixpanel_prop_keys[] = {
    xf_fmt_key("token"), xf_fmt_key("distinct_id")
};

static const uint8_t  xf_mixpanel_prop_roles[] = {
    XF_MP_TOKEN, XF_MP_DISTINCT
};


/* The operations of a profile or group update, in Mixpanel's order. */
static const char *const  xf_mixpanel_ops[] = {
    "$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset",
    "$delete", NULL
};

static const char *const  xf_mixpanel_query_app_keys[] = {
    "token", "project", NULL
};


/*
 * The body, or the query's data=, as events.  Returns XF_OK or the
 * errors of the nested layers and of xf_fmt_json(); events point into
 * the request or into upload buffers.
 */

xf_status_t
xf_format_mixpanel(xf_fmt_ctx_t *ctx)
{
    int                  b64;
    xf_str_t             text, flag;
    xf_status_t          rc;
    const xf_request_t  *req;

    req = ctx->req;

    ctx->fields = xf_mixpanel_fields;
    ctx->keys = xf_mixpanel_keys;
    ctx->roles = xf_mixpanel_roles;
    ctx->nkeys = xf_fmt_nelts(xf_mixpanel_roles);

    /* The flags are the SDK's own: a malformed one is no flag. */

    if (xf_fmt_form_field(ctx, req->query.data, req->query.len, "img", 0,
                          &flag) == XF_OK
        && xf_fmt_eq(flag, "1"))
    {
        ctx->up->reply = XF_REPLY_GIF;

    } else if (xf_fmt_form_field(ctx, req->query.data, req->query.len,
                                 "verbose", 0, &flag) == XF_OK
               && xf_fmt_eq(flag, "1"))
    {
        ctx->up->reply = XF_REPLY_MIXPANEL_VERBOSE;
    }

    rc = xf_fmt_query_app(ctx, xf_mixpanel_query_app_keys);
    if (rc != XF_OK) {
        return rc;
    }

    /* the body, or its (or the query's) data= unless it is JSON */
    rc = xf_fmt_data_upload(ctx, NULL, &text, &b64);
    if (rc != XF_OK) {
        return rc;
    }

    if (b64) {
        /* the SDK's own base64 encoder writes CESU-8 surrogates */
        rc = xf_mixpanel_surrogates(ctx, &text);
        if (rc != XF_OK) {
            return rc;
        }
    }

    return xf_fmt_json(ctx, text.data, text.len, NULL, NULL);
}


/* ED A0..AF xx: a high surrogate; ED B0..BF xx: a low one. */
#define xf_mp_high(p)  ((p)[0] == 0xED && ((p)[1] & 0xF0) == 0xA0            \
                        && ((p)[2] & 0xC0) == 0x80)
#define xf_mp_low(p)   ((p)[0] == 0xED && ((p)[1] & 0xF0) == 0xB0            \
                        && ((p)[2] & 0xC0) == 0x80)

/* Mend CESU-8 surrogates in place of *s (never longer than it was). */

static xf_status_t
xf_mixpanel_surrogates(xf_fmt_ctx_t *ctx, xf_str_t *s)
{
    u_char         *dst, *d;
    uint32_t        hi, lo, c;
    const u_char   *p, *end;

    p = s->data;
    end = s->data + s->len;

    while (p + 3 <= end && !xf_mp_high(p) && !xf_mp_low(p)) {
        p = memchr(p + 1, 0xED, end - p - 1);
        if (p == NULL) {
            return XF_OK;
        }
    }

    if (p + 3 > end) {
        return XF_OK;
    }

    dst = xf_fmt_alloc(ctx, s->len);
    if (dst == NULL) {
        return XF_ERR_NOMEM;
    }

    memcpy(dst, s->data, p - s->data);
    d = dst + (p - s->data);

    while (p < end) {
        if (end - p >= 6 && xf_mp_high(p) && xf_mp_low(p + 3)) {
            hi = ((p[1] & 0x0F) << 6) | (p[2] & 0x3F);
            lo = ((p[4] & 0x0F) << 6) | (p[5] & 0x3F);
            c = 0x10000 + (hi << 10) + lo;

            *d++ = 0xF0 | (c >> 18);
            *d++ = 0x80 | ((c >> 12) & 0x3F);
            *d++ = 0x80 | ((c >> 6) & 0x3F);
            *d++ = 0x80 | (c & 0x3F);
            p += 6;

        } else if (end - p >= 3 && (xf_mp_high(p) || xf_mp_low(p))) {
            *d++ = 0xEF;                        /* U+FFFD */
            *d++ = 0xBF;
            *d++ = 0xBD;
            p += 3;

        } else {
            *d++ = *p++;
        }
    }

    return xf_fmt_produced(ctx, s, dst, d - dst);
}


/* The first operation member of a profile or group update. */

static xf_status_t
xf_mixpanel_op(const u_char *obj, size_t len, xf_str_t *name)
{
    const char *const  *op;
    xf_json_span_t      v;

    for (op = xf_mixpanel_ops; *op != NULL; op++) {
        if (xf_json_object_get(obj, len, *op, strlen(*op), &v) == XF_OK) {
            name->data = (const u_char *) *op;
            name->len = strlen(*op);
            return XF_OK;
        }
    }

    return XF_ERR_EMPTY;
}


/* The fields callback (xf_fmt_fields_pt): by the kind of update. */

static xf_status_t
xf_mixpanel_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    int              has_event;
    xf_str_t         f[XF_MP_NROLES];
    xf_status_t      rc;
    xf_json_span_t   v;

    f[XF_MP_EVENT] = ctx->outs[XF_FMT_NAME];
    f[XF_MP_TOKEN] = ctx->outs[XF_FMT_APP];
    f[XF_MP_DISTINCT] = ctx->outs[XF_FMT_ID];
    f[XF_MP_GROUP_KEY] = ctx->outs[XF_FMT_NROLES];
    f[XF_MP_GROUP_ID] = ctx->outs[XF_FMT_NROLES + 1];

    has_event = xf_fmt_found(ctx, ev, XF_MP_KEY_EVENT, &v) == XF_OK;

    if (has_event) {
        /* track: the token and the distinct id are in properties */
        ev->name = f[XF_MP_EVENT];

        if (xf_fmt_found(ctx, ev, XF_MP_KEY_PROPS, &v) == XF_OK
            && v.type == XF_JSON_OBJECT)
        {
            f[XF_MP_TOKEN].len = 0;
            f[XF_MP_DISTINCT].len = 0;

            rc = xf_fmt_texts(ctx, ev->p + v.off, v.len,
                              xf_mixpanel_prop_keys, xf_mixpanel_prop_roles,
                              sizeof(xf_mixpanel_prop_roles), f);
            if (rc != XF_OK) {
                return rc;
            }
        }

        ev->distinct_id = f[XF_MP_DISTINCT];
        ev->app = f[XF_MP_TOKEN];

        if (ev->name.len == 0
            || (ev->app.len == 0 && ctx->up->app.len == 0))
        {
            return XF_ERR_MISSING_FIELD;
        }

        return XF_OK;
    }

    /* engage or groups */

    ev->app = f[XF_MP_TOKEN];

    if (xf_mixpanel_op(ev->p, ev->len, &ev->name) != XF_OK) {
        ev->name.len = 0;
    }

    if (f[XF_MP_GROUP_KEY].len != 0 || f[XF_MP_GROUP_ID].len != 0) {
        ev->distinct_id = f[XF_MP_GROUP_ID];

        if (f[XF_MP_GROUP_KEY].len == 0 || ev->distinct_id.len == 0) {
            return XF_ERR_MISSING_FIELD;
        }

    } else {
        ev->distinct_id = f[XF_MP_DISTINCT];

        if (ev->distinct_id.len == 0) {
            return XF_ERR_MISSING_FIELD;
        }
    }

    if (ev->name.len == 0 || (ev->app.len == 0 && ctx->up->app.len == 0)) {
        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}


/*
 * mixpanel-js and the app SDKs: track events keep the ids in properties
 * (distinct id, device id, user id, the anonymous id of an identify, the
 * session replay id), engage updates at the top; the address they may
 * carry.
 */
const xf_format_field_t  xf_format_mixpanel_fields[] = {
    { "properties.distinct_id", XF_FIELD_ID, NULL },
    { "properties.$device_id", XF_FIELD_ID, NULL },
    { "properties.$user_id", XF_FIELD_ID, NULL },
    { "properties.$anon_distinct_id", XF_FIELD_ID, NULL },
    { "properties.$mp_replay_id", XF_FIELD_ID, NULL },
    { "$distinct_id", XF_FIELD_ID, NULL },
    { "$device_id", XF_FIELD_ID, NULL },
    { "$user_id", XF_FIELD_ID, NULL },
    { "properties.$user_agent", XF_FIELD_UA, NULL },
    { "properties.ip", XF_FIELD_IP, NULL },
    { "$ip", XF_FIELD_IP, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * Mixpanel: properties.time, seconds (mixpanel-browser, with a
 * fraction) or milliseconds (the import API, some SDKs); the distinct id
 * of a track event or a profile update, then the device id.
 */
const char *const  xf_format_mixpanel_times[] = {
    "properties.time", NULL
};

const char *const  xf_format_mixpanel_ids[] = {
    "properties.distinct_id", "$distinct_id", "properties.$device_id", NULL
};
