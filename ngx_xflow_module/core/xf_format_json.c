/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_json.c - plain JSON: what any sender that speaks no SDK's
 * protocol posts (curl, server code, a log shipper).
 *
 *     POST, PUT   {event}          one event
 *                 [{event}, ...]   a batch
 *                 {event}\n{...}   NDJSON, one event a line
 *     ?app=<name> or ?project=<name>   the request's app (a malformed
 *                                      query is ignored: it is not part
 *                                      of the format)
 *
 * A GET is no upload here (xf_format_takes_get() says 0: the glue
 * answers 405).  Content-Encoding is the glue's layer; nothing else is
 * peeled.
 *
 * Event: name "event", else "type"; distinct id the first of
 * distinct_id, user_id, userId, anonymous_id, anonymousId, uid; app the
 * first of app, project, app_id, else the query's.  Nothing is required.
 * The answer is XF_REPLY_JSON, {"accepted":N,"rejected":M}.
 */

#include <string.h>

#include "xf_format_impl.h"


/* The fields of a plain JSON event, by role, in priority order: nothing
   is required, so that these are all the adapter needs (no callback). */
static const xf_json_key_t  xf_json_field_keys[] = {
    xf_fmt_key("event"), xf_fmt_key("type"),
    xf_fmt_key("distinct_id"), xf_fmt_key("user_id"), xf_fmt_key("userId"),
    xf_fmt_key("anonymous_id"), xf_fmt_key("anonymousId"),
    xf_fmt_key("uid"),
    xf_fmt_key("app"), xf_fmt_key("project"), xf_fmt_key("app_id")
};

static const uint8_t  xf_json_field_roles[] = {
    XF_FMT_NAME, XF_FMT_NAME,
    XF_FMT_ID, XF_FMT_ID, XF_FMT_ID,
    XF_FMT_ID, XF_FMT_ID,
    XF_FMT_ID,
    XF_FMT_APP, XF_FMT_APP, XF_FMT_APP
};

static const char *const  xf_json_query_app_keys[] = {
    "app", "project", NULL
};


/*
 * The body as events.  Returns XF_OK or the errors of xf_fmt_json(); the
 * events point into the body, their fields into it or into the upload's
 * buffers.
 */

xf_status_t
xf_format_json(xf_fmt_ctx_t *ctx)
{
    xf_status_t  rc;

    ctx->keys = xf_json_field_keys;
    ctx->roles = xf_json_field_roles;
    ctx->nkeys = xf_fmt_nelts(xf_json_field_roles);

    rc = xf_fmt_query_app(ctx, xf_json_query_app_keys);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_fmt_json(ctx, ctx->req->body, ctx->req->body_len, NULL, NULL);
}


/*
 * The members the adapter reads the distinct id from, and the usual
 * names of a User-Agent and an address in hand-written events.
 */
const xf_format_field_t  xf_format_json_fields[] = {
    { "distinct_id", XF_FIELD_ID, NULL },
    { "user_id", XF_FIELD_ID, NULL },
    { "userId", XF_FIELD_ID, NULL },
    { "anonymous_id", XF_FIELD_ID, NULL },
    { "anonymousId", XF_FIELD_ID, NULL },
    { "uid", XF_FIELD_ID, NULL },
    { "device_id", XF_FIELD_ID, NULL },
    { "session_id", XF_FIELD_ID, NULL },
    { "user_agent", XF_FIELD_UA, NULL },
    { "userAgent", XF_FIELD_UA, NULL },
    { "ua", XF_FIELD_UA, NULL },
    { "ip", XF_FIELD_IP, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * plain JSON: the usual names of an event's time and ids, as the
 * adapter reads the ids.
 */
const char *const  xf_format_json_times[] = {
    "timestamp", "time", NULL
};

const char *const  xf_format_json_ids[] = {
    "distinct_id", "user_id", "userId", "anonymous_id", "anonymousId", "uid",
    NULL
};
