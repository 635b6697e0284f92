/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format.c - the adapter table and what goes through it: format
 * names, automatic detection, xf_format_parse() and the per-format facts
 * the glue asks for (xf_format_retry_status() and the like).  Each
 * format's callbacks are in its own xf_format_<name>.c; the helpers they
 * share (and xf_format_free(), which returns what they allocated) in
 * xf_format_impl.c.
 *
 * Automatic detection (XF_FMT_AUTO), first match wins:
 *   by route (each adapter's route(), in xf_fmt_route_order):
 *     0. amplitude: the path ends in /2/httpapi;
 *     1. segment:  the path ends in /v1/<route> (batch, b, import, track,
 *                  t, identify, i, page, p, screen, s, group, g, alias,
 *                  a), /beacon/v1/batch included;
 *     2. snowplow: the path ends in /tp2, or a GET whose path ends in /i;
 *     3. posthog:  the path ends in /e, /i/v0/e, /batch, /capture,
 *                  /track, /engage, /s, /decide or /flags, or is
 *                  .../array/<token>/config[.js];
 *     4. sensors:  the path ends in /sa or /sa.gif;
 *   by content (each adapter's sniff(), in xf_fmt_sniff_order):
 *     5. a form (GET query, or a body that is not JSON or gzip) with a
 *        data or data_list field is posthog when the query says
 *        compression=base64, sensors otherwise; a body naming Snowplow's
 *        payload_data schema is snowplow;
 *   6. json.
 * Mixpanel (/track, /engage, /groups) shares its routes and its data=
 * form with PostHog's: it is never picked automatically.
 */

#include <string.h>

#include "xf_format_impl.h"


/*
 * The adapters, indexed by xf_format_t (every value below XF_FMT_MAX has
 * its entry); xf_format_<name>.c says what each SDK sends.
 *
 *   route, sniff   claim the request for auto (xf_fmt_claim_pt): 1 or 0
 *   parse          the request into events (xf_fmt_parse_pt): XF_OK or
 *                  the request's error; all it allocates is the upload's
 *   reply          the answer to a request with a body / without one (a
 *                  beacon), before parse refines it
 *   retry          the status of "try later": 0 is 429 when throttled,
 *                  503 when overloaded
 *   cookie         what the adapter reads from xf_request_t.cookie
 *   fields         what xflow_privacy standard treats (xf_format_fields)
 *   get            a GET may be an upload;  code: errors carry "code"
 *
 * A member a row leaves out is NULL or 0: no route, no sniff, no parse
 * (auto only), no cookie, no fields, no GET, no "code".
 */
static const xf_fmt_adapter_t  xf_fmt_adapters[] = {

    /* auto, the format not known yet (parse never runs): what every SDK
       retries, GET (beacons) and the cookie of any adapter detection
       may pick */
    [XF_FMT_AUTO] = {
        .name = "auto",
        .reply = XF_REPLY_JSON,
        .reply_empty = XF_REPLY_JSON,
        .retry_status = 503,
        .cookie = "sp",
        .takes_get = 1,
    },

    /* never claimed (what nothing claims is JSON); no GET: 405 */
    [XF_FMT_JSON] = {
        .name = "json",
        .parse = xf_format_json,
        .reply = XF_REPLY_JSON,
        .reply_empty = XF_REPLY_JSON,
        .retry_status = 0,
        .fields = xf_format_json_fields,
        .times = xf_format_json_times,
        .ids = xf_format_json_ids,
    },

    /* the SDKs drop a batch on any 4xx, 429 included; the image beacon
       gets a GIF (parse answers by method) */
    [XF_FMT_SENSORS] = {
        .name = "sensors",
        .route = xf_format_sensors_route,
        .sniff = xf_fmt_sniff_data_form,
        .parse = xf_format_sensors,
        .reply = XF_REPLY_JSON,
        .reply_empty = XF_REPLY_GIF,
        .retry_status = 503,
        .fields = xf_format_sensors_fields,
        .times = xf_format_sensors_times,
        .ids = xf_format_sensors_ids,
        .takes_get = 1,
    },

    /* exactly 200 {"status":1}, or remote config; retries only 5xx */
    [XF_FMT_POSTHOG] = {
        .name = "posthog",
        .route = xf_format_posthog_route,
        .sniff = xf_format_posthog_sniff,
        .parse = xf_format_posthog,
        .reply = XF_REPLY_POSTHOG,
        .reply_empty = XF_REPLY_POSTHOG,
        .retry_status = 503,
        .fields = xf_format_posthog_fields,
        .times = xf_format_posthog_times,
        .ids = xf_format_posthog_ids,
        .takes_get = 1,
    },

    /* retries 429 and honours x-ratelimit-reset */
    [XF_FMT_SEGMENT] = {
        .name = "segment",
        .route = xf_format_segment_route,
        .parse = xf_format_segment,
        .reply = XF_REPLY_SEGMENT,
        .reply_empty = XF_REPLY_SEGMENT,
        .retry_status = 429,
        .fields = xf_format_segment_fields,
        .times = xf_format_segment_times,
        .ids = xf_format_segment_ids,
        .takes_get = 1,
    },

    /* retries 429; the pixel gets a GIF; reads the "sp" cookie */
    [XF_FMT_SNOWPLOW] = {
        .name = "snowplow",
        .route = xf_format_snowplow_route,
        .sniff = xf_format_snowplow_sniff,
        .parse = xf_format_snowplow,
        .reply = XF_REPLY_JSON,
        .reply_empty = XF_REPLY_GIF,
        .retry_status = 429,
        .cookie = "sp",
        .fields = xf_format_snowplow_fields,
        .times = xf_format_snowplow_times,
        .ids = xf_format_snowplow_ids,
        .takes_get = 1,
    },

    /* never claimed: its routes and its data= form are PostHog's too;
       the query's img= and verbose= refine the answer */
    [XF_FMT_MIXPANEL] = {
        .name = "mixpanel",
        .parse = xf_format_mixpanel,
        .reply = XF_REPLY_MIXPANEL,
        .reply_empty = XF_REPLY_MIXPANEL,
        .retry_status = 0,
        .fields = xf_format_mixpanel_fields,
        .times = xf_format_mixpanel_times,
        .ids = xf_format_mixpanel_ids,
        .takes_get = 1,
    },

    /* the SDKs read the status from the body's "code", errors too */
    [XF_FMT_AMPLITUDE] = {
        .name = "amplitude",
        .route = xf_format_amplitude_route,
        .parse = xf_format_amplitude,
        .reply = XF_REPLY_AMPLITUDE,
        .reply_empty = XF_REPLY_AMPLITUDE,
        .retry_status = 0,
        .fields = xf_format_amplitude_fields,
        .times = xf_format_amplitude_times,
        .ids = xf_format_amplitude_ids,
        .takes_get = 1,
        .error_code = 1,
    },
};

_Static_assert(xf_fmt_nelts(xf_fmt_adapters) == XF_FMT_MAX,
               "an adapter for every xf_format_t");


/* The order in which adapters claim a request by route, then content. */
static const xf_format_t  xf_fmt_route_order[] = {
    XF_FMT_AMPLITUDE, XF_FMT_SEGMENT, XF_FMT_SNOWPLOW, XF_FMT_POSTHOG,
    XF_FMT_SENSORS
};

static const xf_format_t  xf_fmt_sniff_order[] = {
    XF_FMT_POSTHOG, XF_FMT_SENSORS, XF_FMT_SNOWPLOW
};


/* The entry of f; plain JSON's for a value out of range. */

static const xf_fmt_adapter_t *
xf_fmt_adapter(xf_format_t f)
{
    return &xf_fmt_adapters[(unsigned) f < XF_FMT_MAX ? f : XF_FMT_JSON];
}


const char *
xf_format_name(xf_format_t f)
{
    if ((unsigned) f >= XF_FMT_MAX) {
        return "unknown";
    }

    return xf_fmt_adapters[f].name;
}


xf_status_t
xf_format_parse_name(const u_char *p, size_t len, xf_format_t *f)
{
    unsigned     i;
    const char  *name;

    for (i = 0; i < XF_FMT_MAX; i++) {
        name = xf_fmt_adapters[i].name;

        if (strlen(name) == len && memcmp(name, p, len) == 0) {
            *f = (xf_format_t) i;
            return XF_OK;
        }
    }

    return XF_ERR_FORM;
}


unsigned
xf_format_retry_status(xf_format_t f, unsigned throttle)
{
    unsigned  status;

    status = xf_fmt_adapter(f)->retry_status;

    if (status == 0) {
        /* plain JSON: 429 says "you", 503 says "us" */
        status = throttle ? 429 : 503;
    }

    return status;
}


unsigned
xf_format_error_code(xf_format_t f)
{
    return xf_fmt_adapter(f)->error_code;
}


unsigned
xf_format_takes_get(xf_format_t f)
{
    return xf_fmt_adapter(f)->takes_get;
}


const char *
xf_format_cookie(xf_format_t f)
{
    return xf_fmt_adapter(f)->cookie;
}


const xf_format_field_t *
xf_format_fields(xf_format_t f)
{
    static const xf_format_field_t  none[] = { { NULL, XF_FIELD_ID, NULL } };

    if ((unsigned) f >= XF_FMT_MAX || xf_fmt_adapters[f].fields == NULL) {
        return none;
    }

    return xf_fmt_adapters[f].fields;
}


/* A format's list of paths, or an empty one for a format without. */
static const char *const *
xf_fmt_paths(const char *const *paths)
{
    static const char *const  none[] = { NULL };

    return paths ? paths : none;
}


const char *const *
xf_format_times(xf_format_t f)
{
    return xf_fmt_paths(xf_fmt_adapter(f)->times);
}


const char *const *
xf_format_ids(xf_format_t f)
{
    return xf_fmt_paths(xf_fmt_adapter(f)->ids);
}


const char *
xf_format_field_kind_name(xf_field_kind_t kind)
{
    switch (kind) {
    case XF_FIELD_ID:
        return "id";
    case XF_FIELD_UA:
        return "ua";
    case XF_FIELD_HINT:
        return "hint";
    case XF_FIELD_IP:
        return "ip";
    case XF_FIELD_KEY:
        return "key";
    }

    return "unknown";
}


static xf_format_t
xf_format_detect(const xf_request_t *req)
{
    size_t                   i;
    const xf_fmt_adapter_t  *ad;

    for (i = 0; i < xf_fmt_nelts(xf_fmt_route_order); i++) {
        ad = &xf_fmt_adapters[xf_fmt_route_order[i]];

        if (ad->route(req)) {
            return xf_fmt_route_order[i];
        }
    }

    for (i = 0; i < xf_fmt_nelts(xf_fmt_sniff_order); i++) {
        ad = &xf_fmt_adapters[xf_fmt_sniff_order[i]];

        if (ad->sniff(req)) {
            return xf_fmt_sniff_order[i];
        }
    }

    return XF_FMT_JSON;
}


xf_status_t
xf_format_parse(const xf_request_t *req, const xf_limits_t *lim,
    const xf_alloc_t *a, xf_upload_t *out)
{
    size_t                   i;
    xf_status_t              rc;
    xf_fmt_ctx_t             ctx;
    const xf_fmt_adapter_t  *ad;

    memset(&ctx, 0, sizeof(xf_fmt_ctx_t));
    ctx.req = req;
    ctx.lim = lim;
    ctx.a = a;
    ctx.up = out;

    out->format = req->format;

    if (out->format == XF_FMT_AUTO || (unsigned) out->format >= XF_FMT_MAX) {
        out->format = xf_format_detect(req);
    }

    ad = &xf_fmt_adapters[out->format];

    /*
     * The reply the adapter would choose, so that a request refused here
     * is still answered the way its SDK expects; adapters refine it.
     */
    out->reply = (req->body_len == 0) ? ad->reply_empty : ad->reply;

    if (req->body_len > lim->max_decoded) {
        return XF_ERR_TOO_LARGE;
    }

    rc = ad->parse(&ctx);

    out->rejected = 0;

    for (i = 0; i < out->n; i++) {
        if (out->events[i].error != XF_OK) {
            out->rejected++;
        }
    }

    return rc;
}
