/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_sensors.c - Sensors Data (JS, Android, iOS SDKs).
 *
 * The upload is a form: the GET query of an image beacon, or the body of
 * an ajax POST or of a sendBeacon (which arrives as text/plain: the body
 * is read as a form whatever its Content-Type).
 *
 *     data=<base64(JSON object)>        one event (JS)
 *     data_list=<base64(JSON array)>    a batch (JS batch_send, apps)
 *     gzip=1                            base64(gzip(JSON)); gzip is also
 *                                       recognised by its magic bytes
 *     gzip=9, gzip=13                   encrypted: not readable here
 *     crc=<h> or ext=crc%3D<h>          Java String.hashCode of the
 *                                       base64 text
 *     project=<name>                    in the query (or the form)
 *
 * Decisions:
 *   - data and data_list together are XF_ERR_FORM (one would be lost);
 *   - a crc that does not match (or does not parse) dead-letters every
 *     event of the request with XF_ERR_CRC: the bytes were damaged
 *     somewhere, and the events are kept for inspection, not trusted;
 *   - encrypted uploads become one dead-letter event, XF_ERR_ENCRYPTED,
 *     whose bytes are the data field's text (percent-decoded, still
 *     base64), so that nothing is dropped; any other gzip value is one
 *     dead-letter event with XF_ERR_ENCODING_UNKNOWN;
 *   - '+' in the base64 text is kept as '+' even when the sender did not
 *     percent-encode it.
 *
 * Event: name "event", else "type" (profile_set and other profile or
 * item operations have no event name); distinct id "distinct_id"; app
 * the event's "project", else the request's.  "type" is required.
 */

#include <string.h>

#include "xf_base64.h"
#include "xf_form.h"
#include "xf_format_impl.h"


static xf_status_t xf_sensors_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);
static int xf_sensors_crc(xf_str_t s, int32_t *crc);


static const char *const  xf_sensors_routes[] = { "/sa", "/sa.gif", NULL };

/* The members of an event, by role, in one pass. */
enum { XF_SA_TYPE = XF_FMT_NROLES };

static const xf_json_key_t  xf_sensors_keys[] = {
    xf_fmt_key("event"), xf_fmt_key("type"), xf_fmt_key("distinct_id"),
    xf_fmt_key("project")
};

static const uint8_t  xf_sensors_roles[] = {
    XF_FMT_NAME, XF_SA_TYPE, XF_FMT_ID, XF_FMT_APP
};


int
xf_format_sensors_route(const xf_request_t *req)
{
    return xf_fmt_path_ends_any(req->path, xf_sensors_routes);
}


/*
 * The form of the body, else of the query, as events.  Returns XF_OK,
 * XF_ERR_EMPTY (no data field), XF_ERR_FORM, or the errors of the
 * nested layers; events point into upload buffers (the base64 decoding)
 * or, for one dead letter of an unreadable payload, into the request.
 */

xf_status_t
xf_format_sensors(xf_fmt_ctx_t *ctx)
{
    int                  has_crc, crc_ok;
    size_t               len;
    int32_t              crc;
    xf_str_t             text, gz, s;
    xf_status_t          rc, rc_list;
    xf_event_t          *ev;
    const u_char        *form;
    const xf_request_t  *req;
    xf_form_field_t      f;

    req = ctx->req;

    ctx->fields = xf_sensors_fields;
    ctx->keys = xf_sensors_keys;
    ctx->roles = xf_sensors_roles;
    ctx->nkeys = xf_fmt_nelts(xf_sensors_roles);

    /* by method, not by body: a POST without a body is not a beacon */
    ctx->up->reply = (req->method == XF_METHOD_GET) ? XF_REPLY_GIF
                                                    : XF_REPLY_JSON;

    /* The body, or the query of an image beacon. */

    if (req->body_len != 0) {
        form = req->body;
        len = req->body_len;

    } else {
        form = req->query.data;
        len = req->query.len;
    }

    if (xf_form_validate(form, len) != XF_OK
        || xf_form_validate(req->query.data, req->query.len) != XF_OK)
    {
        return XF_ERR_FORM;
    }

    rc = xf_fmt_form_field(ctx, req->query.data, req->query.len, "project",
                           0, &ctx->up->app);

    if (rc == XF_ERR_EMPTY && form != req->query.data) {
        rc = xf_fmt_form_field(ctx, form, len, "project", 0, &ctx->up->app);
    }

    if (rc != XF_OK && rc != XF_ERR_EMPTY) {
        return rc;
    }

    rc_list = xf_fmt_form_field(ctx, form, len, "data_list",
                                XF_FORM_PLUS_KEEP, &text);
    if (rc_list != XF_OK && rc_list != XF_ERR_EMPTY) {
        return rc_list;
    }

    rc = xf_fmt_form_field(ctx, form, len, "data", XF_FORM_PLUS_KEEP,
                           rc_list == XF_OK ? &s : &text);

    if (rc == XF_OK && rc_list == XF_OK) {
        return XF_ERR_FORM;
    }

    if (rc == XF_ERR_EMPTY && rc_list == XF_ERR_EMPTY) {
        return XF_ERR_EMPTY;
    }

    if (rc != XF_OK && rc != XF_ERR_EMPTY) {
        return rc;
    }

    /* Encrypted or unknown payloads: one dead letter, nothing dropped. */

    rc = xf_fmt_form_field(ctx, form, len, "gzip", 0, &gz);
    if (rc != XF_OK && rc != XF_ERR_EMPTY) {
        return rc;
    }

    if (rc == XF_OK && !xf_fmt_eq(gz, "0") && !xf_fmt_eq(gz, "1")) {
        rc = xf_fmt_add(ctx, text.data, text.len,
                        (xf_fmt_eq(gz, "9") || xf_fmt_eq(gz, "13"))
                        ? XF_ERR_ENCRYPTED : XF_ERR_ENCODING_UNKNOWN, &ev);
        if (rc != XF_OK) {
            return rc;
        }

        ev->app = ctx->up->app;
        return XF_OK;
    }

    /* The checksum: the apps' crc field, or crc=N inside the JS ext. */

    has_crc = 0;
    crc_ok = 0;
    crc = 0;

    rc = xf_fmt_form_field(ctx, form, len, "crc", 0, &s);

    if (rc == XF_ERR_EMPTY) {
        rc = xf_fmt_form_field(ctx, form, len, "ext", 0, &s);

        if (rc == XF_OK) {
            rc = xf_form_get(s.data, s.len, "crc", 3, &f);

            if (rc == XF_OK) {
                s.data = f.value;
                s.len = f.value_len;

            } else if (rc == XF_ERR_FORM) {
                /* A garbled ext: a checksum that cannot match. */
                s.len = 0;
                rc = XF_OK;
            }
        }
    }

    if (rc == XF_OK) {
        has_crc = 1;
        crc_ok = xf_sensors_crc(s, &crc);

    } else if (rc != XF_ERR_EMPTY) {
        return rc;
    }

    if (has_crc
        && (!crc_ok || xf_java_string_hash(text.data, text.len) != crc))
    {
        ctx->force = XF_ERR_CRC;
    }

    rc = xf_fmt_unbase64(ctx, &text);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_json(ctx, text.data, text.len, NULL, NULL);
}


/* The fields callback (xf_fmt_fields_pt): "type" is required. */

static xf_status_t
xf_sensors_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    if (ev->name.data == NULL) {
        /* no "event" (a found one, even empty, has its data): "type" */
        ev->name = ctx->outs[XF_SA_TYPE];
    }

    return ctx->outs[XF_SA_TYPE].len != 0 ? XF_OK : XF_ERR_MISSING_FIELD;
}


/* A decimal signed 32-bit integer, as Java prints an int. */

static int
xf_sensors_crc(xf_str_t s, int32_t *crc)
{
    size_t    i;
    int64_t   v;
    unsigned  neg;

    i = 0;
    neg = 0;

    if (s.len > 0 && s.data[0] == '-') {
        neg = 1;
        i = 1;
    }

    if (i == s.len || s.len - i > 10) {
        return 0;
    }

    v = 0;

    for ( /* void */ ; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return 0;
        }

        v = v * 10 + (s.data[i] - '0');
    }

    if (neg) {
        v = -v;
    }

    if (v < INT32_MIN || v > INT32_MAX) {
        return 0;
    }

    *crc = (int32_t) v;

    return 1;
}


/*
 * sa-sdk-javascript, -android, -ios: the ids of the "identities" object
 * (cookie id, anonymous id, login id, device ids: the SDK names them
 * $identity_*, custom ones too, so the object is one reference), the
 * device id the app SDKs add, the User-Agent the mini-program and server
 * SDKs send.
 */
const xf_format_field_t  xf_format_sensors_fields[] = {
    { "distinct_id", XF_FIELD_ID, NULL },
    { "anonymous_id", XF_FIELD_ID, NULL },
    { "login_id", XF_FIELD_ID, NULL },
    { "original_id", XF_FIELD_ID, NULL },
    { "identities", XF_FIELD_ID, NULL },
    { "properties.$device_id", XF_FIELD_ID, NULL },
    { "properties.$anonymization_id", XF_FIELD_ID, NULL },
    { "properties.$user_agent", XF_FIELD_UA, NULL },
    { "lib.$ua", XF_FIELD_UA, NULL },
    { "properties.$ip", XF_FIELD_IP, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * Sensors: "time" in milliseconds, and "_flush_time" (when the SDK
 * sent it, from which Sensors' servers correct a device's clock); the
 * anonymous ids beside "distinct_id", for when it is a placeholder.
 */
const char *const  xf_format_sensors_times[] = {
    "time", "_flush_time", NULL
};

const char *const  xf_format_sensors_ids[] = {
    "distinct_id", "anonymous_id", "identities.$identity_anonymous_id",
    "identities.$identity_cookie_id", NULL
};
