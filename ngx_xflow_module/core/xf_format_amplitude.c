/*
 * xf_format_amplitude.c - Amplitude (@amplitude/analytics-browser, the
 * mobile SDKs, HTTP API v2 and the Batch Event Upload API).
 *
 *     POST /2/httpapi, /batch    {"api_key":..., "events":[...],
 *                                 "options":{...}, "client_upload_time":...}
 *
 * Any prefix before the routes.  The body is JSON, gzip inside it
 * sniffed by its magic bytes (Content-Encoding: gzip, which the browser
 * SDK sets with enableRequestBodyCompression, is the glue's layer).
 * sendBeacon sends the same JSON as text/plain.  A body that is an event
 * or an array of events, without the wrapper, is taken too.
 *
 * Event: name "event_type"; distinct id "user_id", else "device_id"; app
 * the body's "api_key" (an event's own "api_key" wins).  Required, as
 * Amplitude's API requires them: event_type, user_id or device_id, and an
 * api key.
 *
 * The answer (XF_REPLY_AMPLITUDE) is Amplitude's {"code":200,...}: the SDK
 * reads the status from the body's "code", not from the HTTP status.
 */

#include <string.h>

#include "xf_format.h"


static xf_status_t xf_amplitude_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);


static const char *const  xf_amplitude_body_keys[] = { "api_key", NULL };


int
xf_format_amplitude_route(const xf_request_t *req)
{
    return xf_fmt_path_ends(req->path, "/2/httpapi");
}


xf_status_t
xf_format_amplitude(xf_fmt_ctx_t *ctx)
{
    xf_str_t     text;
    xf_status_t  rc;

    ctx->fields = xf_amplitude_fields;
    ctx->up->reply = XF_REPLY_AMPLITUDE;

    text.data = ctx->req->body;
    text.len = ctx->req->body_len;

    rc = xf_fmt_gunzip(ctx, &text);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_json(ctx, text.data, text.len, "events",
                       xf_amplitude_body_keys);
}


enum {
    XF_AMP_NAME = 0, XF_AMP_ID, XF_AMP_KEY, XF_AMP_NROLES
};

#define xf_key(s)  { s, sizeof(s) - 1 }

static const xf_json_key_t  xf_amplitude_keys[] = {
    xf_key("event_type"), xf_key("user_id"), xf_key("device_id"),
    xf_key("api_key")
};

static const uint8_t  xf_amplitude_roles[] = {
    XF_AMP_NAME, XF_AMP_ID, XF_AMP_ID, XF_AMP_KEY
};


static xf_status_t
xf_amplitude_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_str_t     f[XF_AMP_NROLES];
    xf_status_t  rc;

    memset(f, 0, sizeof(f));

    rc = xf_fmt_texts(ctx, ev->p, ev->len, xf_amplitude_keys,
                      xf_amplitude_roles, sizeof(xf_amplitude_roles), f);
    if (rc != XF_OK) {
        return rc;
    }

    if (f[XF_AMP_ID].len == 0) {
        /* "user_id": "" beside a device_id */
        rc = xf_fmt_text(ctx, ev->p, ev->len, "device_id", &f[XF_AMP_ID]);
        if (rc == XF_ERR_NOMEM) {
            return rc;
        }
    }

    ev->name = f[XF_AMP_NAME];
    ev->distinct_id = f[XF_AMP_ID];
    ev->app = f[XF_AMP_KEY];

    if (ev->name.len == 0 || ev->distinct_id.len == 0
        || (ev->app.len == 0 && ctx->up->app.len == 0))
    {
        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}
