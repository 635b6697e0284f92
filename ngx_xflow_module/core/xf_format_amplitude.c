/* SPDX-License-Identifier: BSD-2-Clause */
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

#include "xf_format_impl.h"


static xf_status_t xf_amplitude_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);


static const char *const  xf_amplitude_body_keys[] = { "api_key", NULL };

static const xf_json_key_t  xf_amplitude_keys[] = {
    xf_fmt_key("event_type"), xf_fmt_key("user_id"),
    xf_fmt_key("device_id"), xf_fmt_key("api_key")
};

static const uint8_t  xf_amplitude_roles[] = {
    XF_FMT_NAME, XF_FMT_ID, XF_FMT_ID, XF_FMT_APP
};


int
xf_format_amplitude_route(const xf_request_t *req)
{
    return xf_fmt_path_ends(req->path, "/2/httpapi");
}


/*
 * The body ({"api_key", "events":[...]}, or bare events) as events.
 * Returns XF_OK or the errors of xf_fmt_body_json(); events point into
 * the body or into upload buffers.
 */

xf_status_t
xf_format_amplitude(xf_fmt_ctx_t *ctx)
{
    ctx->fields = xf_amplitude_fields;
    ctx->keys = xf_amplitude_keys;
    ctx->roles = xf_amplitude_roles;
    ctx->nkeys = xf_fmt_nelts(xf_amplitude_roles);

    return xf_fmt_body_json(ctx, "events", xf_amplitude_body_keys);
}


/* The fields callback (xf_fmt_fields_pt): a name, an id and a key. */

static xf_status_t
xf_amplitude_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_status_t  rc;

    if (ev->distinct_id.len == 0) {
        /* "user_id": "" beside a device_id */
        rc = xf_fmt_text(ctx, ev->p, ev->len, "device_id", &ev->distinct_id);
        if (rc == XF_ERR_NOMEM) {
            return rc;
        }
    }

    if (ev->name.len == 0 || ev->distinct_id.len == 0
        || (ev->app.len == 0 && ctx->up->app.len == 0))
    {
        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}


/*
 * HTTP API v2 and Batch, as the browser and app SDKs fill them: the ids
 * (the device id is kept in the AMP_<key> cookie, base64 JSON, so no
 * cookie reference can equal it), the session id (a number), the
 * advertising and vendor ids, the User-Agent the browser SDK copies
 * into every event, the address.
 */
const xf_format_field_t  xf_format_amplitude_fields[] = {
    { "user_id", XF_FIELD_ID, NULL },
    { "device_id", XF_FIELD_ID, NULL },
    { "session_id", XF_FIELD_ID, NULL },
    { "idfa", XF_FIELD_ID, NULL },
    { "idfv", XF_FIELD_ID, NULL },
    { "adid", XF_FIELD_ID, NULL },
    { "android_id", XF_FIELD_ID, NULL },
    { "android_app_set_id", XF_FIELD_ID, NULL },
    { "user_agent", XF_FIELD_UA, NULL },
    { "ip", XF_FIELD_IP, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * Amplitude: "time" in milliseconds; user_id, else device_id.
 */
const char *const  xf_format_amplitude_times[] = {
    "time", NULL
};

const char *const  xf_format_amplitude_ids[] = {
    "user_id", "device_id", NULL
};
