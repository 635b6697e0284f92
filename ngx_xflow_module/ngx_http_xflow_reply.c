/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_reply.c - answers in the shape each SDK expects, CORS,
 * and error-log lines that stay readable when a broken SDK release sends
 * thousands of bad requests a second.
 *
 * What makes an SDK retry differs (docs/formats.md): PostHog and Sensors
 * retry 5xx and drop 4xx, 429 included; Segment, RudderStack and
 * Snowplow retry 429 and honour Retry-After / x-ratelimit-reset.  So
 * "try again later" is 503 for the former and 429 for the rest, unless
 * xflow_retry_status says otherwise.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_reply.h"
#include "ngx_http_xflow_limit_module.h"


static ngx_int_t ngx_http_xflow_reply_retry(ngx_http_request_t *r,
    ngx_uint_t throttle, const char *code, const char *detail);


/* A 1x1 transparent GIF, for image beacons and pixels. */
static u_char  ngx_http_xflow_gif[] = {
    'G', 'I', 'F', '8', '9', 'a', 0x01, 0x00, 0x01, 0x00, 0x80, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x02, 0x01, 0x44, 0x00, 0x3b
};


ngx_int_t
ngx_http_xflow_reply_accepted(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx)
{
    u_char      *body, *last;
    ngx_time_t  *tp;

    if (ctx->receipts != NULL) {
        return ngx_http_xflow_reply_receipts(r, ctx);
    }

    switch (ctx->reply) {

    case XF_REPLY_GIF:
        /* beacons are fired again and again: never from a cache */
        if (ngx_http_xflow_header_lit(r, "Cache-Control",
                                      "no-cache, no-store, must-revalidate")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_xflow_send_lit(r, NGX_HTTP_OK, "image/gif",
                                       ngx_http_xflow_gif,
                                       sizeof(ngx_http_xflow_gif));

    case XF_REPLY_POSTHOG:
        /* exactly 200: posthog-js retries anything else, 204 included */
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK,
                                        (u_char *) "{\"status\":1}",
                                        sizeof("{\"status\":1}") - 1);

    case XF_REPLY_POSTHOG_V1:
        /* an upload without events: nothing to report on */
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK,
                                        (u_char *) "{\"results\":{}}",
                                        sizeof("{\"results\":{}}") - 1);

    case XF_REPLY_SEGMENT:
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK,
                                        (u_char *) "{\"success\":true}",
                                        sizeof("{\"success\":true}") - 1);

    case XF_REPLY_MIXPANEL:
        /* mixpanel-browser reads Number(responseText): 1 is success */
        return ngx_http_xflow_send_lit(r, NGX_HTTP_OK, "text/plain",
                                       (u_char *) "1", 1);

    case XF_REPLY_MIXPANEL_VERBOSE:
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK,
                   (u_char *) "{\"status\":1,\"error\":null}",
                   sizeof("{\"status\":1,\"error\":null}") - 1);

    case XF_REPLY_AMPLITUDE:
        /* the SDK takes the status from "code", not from the HTTP line */
        tp = ngx_timeofday();

        body = ngx_pnalloc(r->pool,
                           sizeof("{\"code\":200,\"events_ingested\":,"
                                  "\"payload_size_bytes\":,"
                                  "\"server_upload_time\":}")
                           + NGX_INT_T_LEN + NGX_OFF_T_LEN + NGX_INT64_LEN);
        if (body == NULL) {
            return NGX_ERROR;
        }

        last = ngx_sprintf(body, "{\"code\":200,\"events_ingested\":%ui,"
                           "\"payload_size_bytes\":%O,"
                           "\"server_upload_time\":%uL}",
                           ctx->accepted + ctx->dropped, ctx->received,
                           (uint64_t) tp->sec * 1000 + tp->msec);

        return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, last - body);

    default: /* XF_REPLY_JSON */
        break;
    }

    body = ngx_pnalloc(r->pool, sizeof("{\"accepted\":,\"rejected\":}")
                                + 2 * NGX_INT_T_LEN);
    if (body == NULL) {
        return NGX_ERROR;
    }

    /* a kill switch's drops are answered as accepted: nothing to retry */
    last = ngx_sprintf(body, "{\"accepted\":%ui,\"rejected\":%ui}",
                       ctx->accepted + ctx->dropped, ctx->rejected);

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, last - body);
}


/*
 * A receipt per event, from what the batch saw of each event's first
 * message: delivered (its partition and offset), spooled, refused by
 * Kafka for good (dead-lettered: invalid), or neither (the request's
 * outcome failed it: retry).  Without positions (ack=local) ok says the
 * producer took it.  200 even with retries in it, as PostHog's v1
 * capture answers, with Retry-After then.
 */
ngx_int_t
ngx_http_xflow_reply_receipts(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx)
{
    u_char                     *body, *last;
    ngx_uint_t                  i, retry;
    xf_receipt_t               *rc;
    ngx_http_xflow_position_t  *pos;

    retry = 0;

    for (i = 0; i < ctx->nreceipts; i++) {
        rc = &ctx->receipts[i];

        if (rc->fate != XF_RECEIPT_OK || ctx->wait.pos == NULL) {
            continue;
        }

        pos = &ctx->wait.pos[ctx->receipt_msg[i]];

        switch (pos->state) {

        case NGX_HTTP_XFLOW_POS_DELIVERED:
            rc->partition = pos->partition;
            rc->offset = pos->offset;
            continue;

        case NGX_HTTP_XFLOW_POS_SPOOLED:
            rc->spooled = 1;
            break;

        case NGX_HTTP_XFLOW_POS_REFUSED:
            rc->fate = XF_RECEIPT_INVALID;
            rc->reason = "refused_by_kafka";
            break;

        default: /* lost, or the deadline came first */
            rc->fate = XF_RECEIPT_RETRY;
            rc->reason = xf_outcome_name(ctx->outcome);
            retry = 1;
            break;
        }

        rc->topic.len = 0;
    }

    if (ctx->wait.pos == NULL) {
        /* ack=local: handed to the producer, no position to tell */
        for (i = 0; i < ctx->nreceipts; i++) {
            ctx->receipts[i].topic.len = 0;
        }
    }

    body = ngx_pnalloc(r->pool,
                       xf_receipts_size(ctx->reply == XF_REPLY_POSTHOG_V1
                                        ? XF_RECEIPTS_POSTHOG
                                        : XF_RECEIPTS_JSON,
                                        ctx->receipts, ctx->nreceipts));
    if (body == NULL) {
        return NGX_ERROR;
    }

    last = xf_receipts_render(body, ctx->reply == XF_REPLY_POSTHOG_V1
                                    ? XF_RECEIPTS_POSTHOG : XF_RECEIPTS_JSON,
                              ctx->receipts, ctx->nreceipts,
                              ctx->accepted + ctx->dropped, ctx->rejected);

    if (retry) {
        if (ngx_http_xflow_header_lit(r, "Retry-After", "1") != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, last - body);
}


/*
 * posthog-js asks for its remote config before it sends anything and
 * compresses only when the answer lists gzip: a minimal config that
 * turns everything else off.  config.js is a script that sets
 * window._POSTHOG_REMOTE_CONFIG[token]; /config and /flags are JSON.
 */
ngx_int_t
ngx_http_xflow_reply_posthog_config(ngx_http_request_t *r, xf_str_t *token,
    ngx_uint_t javascript)
{
    size_t       i;
    u_char      *body, *p;

    static const char  config[] =
        "{\"supportedCompression\":[\"gzip\",\"gzip-js\"],"
        "\"hasFeatureFlags\":false,\"autocapture_opt_out\":false,"
        "\"capturePerformance\":false,\"sessionRecording\":false,"
        "\"surveys\":false,\"heatmaps\":false,\"siteApps\":[]";

    /* the token goes into a script: only the characters tokens use */
    for (i = 0; i < token->len; i++) {
        if (!(isalnum(token->data[i]) || token->data[i] == '_'
              || token->data[i] == '-'))
        {
            return ngx_http_xflow_reply_error(r, NGX_HTTP_BAD_REQUEST,
                                              "bad_token",
                                              "unexpected project token");
        }
    }

    body = ngx_pnalloc(r->pool, 256 + sizeof(config) + 2 * token->len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    if (!javascript) {
        p = ngx_sprintf(body, "%s,\"featureFlags\":{},"
                        "\"featureFlagPayloads\":{},\"flags\":{},"
                        "\"errorsWhileComputingFlags\":false}", config);

        return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, p - body);
    }

    p = ngx_sprintf(body,
                    "(function(){var w=window;"
                    "w._POSTHOG_REMOTE_CONFIG=w._POSTHOG_REMOTE_CONFIG||{};"
                    "w._POSTHOG_REMOTE_CONFIG[\"%*s\"]="
                    "{config:%s,\"token\":\"%*s\"},siteApps:[]};})();\n",
                    token->len, token->data, config, token->len, token->data);

    if (ngx_http_xflow_header_lit(r, "Cache-Control", "no-store")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_xflow_send_lit(r, NGX_HTTP_OK, "application/javascript",
                                   body, p - body);
}


/*
 * "Try again later", in the status the request's SDK retries.  throttle:
 * a rate limit said no (the client sends too much), rather than the
 * gateway being overloaded (queue or spool full, Kafka failing).
 */
static ngx_int_t
ngx_http_xflow_reply_retry(ngx_http_request_t *r, ngx_uint_t throttle,
    const char *code, const char *detail)
{
    u_char                     *p;
    size_t                      len;
    uint64_t                    wait;
    ngx_uint_t                  status;
    ngx_http_xflow_ctx_t       *ctx;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    status = lcf->retry_status;

    if (status == 0) {
        /* what the request's SDK retries (a format not known yet: what
           every SDK retries) */
        status = xf_format_retry_status(ctx ? ctx->format
                                            : (xf_format_t) lcf->format,
                                        throttle);
    }

    /* what the refusing limit computed, else "soon" */
    wait = ngx_http_xflow_limit_retry_after(r);
    if (wait == 0) {
        wait = 1;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sprintf(p, "%uL", wait) - p;

    if (ngx_http_xflow_add_header(r, "Retry-After",
                                  sizeof("Retry-After") - 1, p, len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (status == NGX_HTTP_TOO_MANY_REQUESTS
        && ngx_http_xflow_add_header(r, "x-ratelimit-reset",
                                     sizeof("x-ratelimit-reset") - 1, p, len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_xflow_reply_error(r, status, code, detail);
}


/*
 * The answer to what the request's code decided (ctx->outcome: a
 * refusal, or a body the core could not use), from the outcome table:
 * its code in the body (and so in $xflow_error and the metrics, which
 * read the same outcome); "try again later" in the status the SDK
 * retries; 405 with the methods the location's format takes; an
 * unusable body's status, logged at info level.  detail NULL: the
 * outcome's own.
 */
ngx_int_t
ngx_http_xflow_reply_outcome(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, const char *detail)
{
    ngx_int_t                   rc;
    ngx_log_t                   log;
    const char                 *code;
    const xf_outcome_info_t    *info;
    ngx_http_xflow_loc_conf_t  *lcf;

    info = xf_outcome_info(ctx->outcome);
    code = xf_outcome_name(ctx->outcome);

    if (detail == NULL) {
        detail = info->detail;
    }

    if (info->retry) {
        return ngx_http_xflow_reply_retry(r, info->throttle, code, detail);
    }

    if (ctx->outcome == XF_OUTCOME_METHOD_NOT_ALLOWED) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

        rc = xf_format_takes_get(lcf->format)
             ? ngx_http_xflow_header_lit(r, "Allow",
                                         "GET, POST, PUT, OPTIONS")
             : ngx_http_xflow_header_lit(r, "Allow", "POST, PUT, OPTIONS");

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_xflow_reply_error(r, info->http, code, detail);
    }

    /*
     * A body the core could not use.  Logged without the connection's
     * log handler: it would append the request line, whose query is a
     * GET beacon's whole payload.
     */
    log = *r->connection->log;
    log.handler = NULL;
    log.data = NULL;

    ngx_http_xflow_log_throttled(&log, NGX_LOG_INFO, info->http, code,
                                 detail);

    return ngx_http_xflow_reply_error(r, info->http, code, detail);
}


/*
 * CORS for every answer of an xflow location: echo the exact Origin when
 * it is allowed (never "*").  Credentials are allowed only to origins the
 * configuration lists: "any" echoes every origin, and doing that with
 * Access-Control-Allow-Credentials would let every site on the web make
 * credentialed uploads in the user's name and read the answers.
 */
ngx_int_t
ngx_http_xflow_reply_cors(ngx_http_request_t *r)
{
    ngx_str_t                  *origin, *o;
    ngx_uint_t                  i;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (!lcf->cors) {
        return NGX_DECLINED;
    }

    origin = ngx_http_xflow_header_in(r, "Origin", sizeof("Origin") - 1);

    if (origin == NULL || origin->len == 0) {
        return NGX_DECLINED;
    }

    if (lcf->cors_origins) {
        o = lcf->cors_origins->elts;

        for (i = 0; i < lcf->cors_origins->nelts; i++) {
            if (o[i].len == origin->len
                && ngx_strncasecmp(o[i].data, origin->data, origin->len) == 0)
            {
                break;
            }
        }

        if (i == lcf->cors_origins->nelts) {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_xflow_add_header(r, "Access-Control-Allow-Origin",
                                  sizeof("Access-Control-Allow-Origin") - 1,
                                  origin->data, origin->len)
           != NGX_OK
        || (lcf->cors_origins
            && ngx_http_xflow_header_lit(r,
                   "Access-Control-Allow-Credentials", "true") != NGX_OK)
        || ngx_http_xflow_header_lit(r, "Vary", "Origin") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A preflight: allow what the browser asks for, and for long, so that an
 * unload batch is not lost to a preflight the page had no time for.
 */
ngx_int_t
ngx_http_xflow_reply_preflight(ngx_http_request_t *r)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_str_t                  *req_headers;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_xflow_reply_cors(r);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {
        req_headers = ngx_http_xflow_header_in(r,
                          "Access-Control-Request-Headers",
                          sizeof("Access-Control-Request-Headers") - 1);

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_xflow_header_lit(r, "Access-Control-Allow-Methods",
                                      "GET, POST, PUT, OPTIONS") != NGX_OK
            || ngx_http_xflow_add_header(r, "Access-Control-Max-Age",
                   sizeof("Access-Control-Max-Age") - 1, p,
                   ngx_sprintf(p, "%T", lcf->cors_max_age) - p) != NGX_OK
            || (req_headers
                && ngx_http_xflow_add_header(r,
                       "Access-Control-Allow-Headers",
                       sizeof("Access-Control-Allow-Headers") - 1,
                       req_headers->data, req_headers->len) != NGX_OK))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;
    r->headers_out.content_length_n = 0;

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_xflow_reply_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail)
{
    size_t                 dlen;
    u_char                *body, *p;
    ngx_http_xflow_ctx_t  *ctx;

    dlen = ngx_strlen(detail);

    body = ngx_pnalloc(r->pool, sizeof("{\"code\":,\"error\":\"\","
                                       "\"detail\":\"\"}")
                                + NGX_INT_T_LEN + ngx_strlen(code)
                                + xf_json_escape_bound(dlen));
    if (body == NULL) {
        return NGX_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (ctx != NULL && xf_format_error_code(ctx->format)) {
        /*
         * Amplitude's SDKs read the status from the body's "code" and
         * retry a JSON answer without it as an unknown failure.
         */
        p = ngx_sprintf(body,
                        "{\"code\":%ui,\"error\":\"%s\",\"detail\":\"",
                        status, code);

    } else {
        p = ngx_sprintf(body, "{\"error\":\"%s\",\"detail\":\"", code);
    }
    p += xf_json_escape(p, (const u_char *) detail, dlen);
    p = ngx_cpymem(p, "\"}", 2);

    return ngx_http_xflow_send_json(r, status, body, p - body);
}




/* A header's value as the core takes it: data NULL when absent. */
static void
ngx_http_xflow_reply_v1_header(ngx_http_request_t *r, const char *name,
    xf_str_t *v)
{
    ngx_str_t  *h;

    h = ngx_http_xflow_header_in(r, name, ngx_strlen(name));

    v->data = h ? h->data : NULL;
    v->len = h ? h->len : 0;
}


ngx_int_t
ngx_http_xflow_reply_posthog_v1_headers(ngx_http_request_t *r)
{
    u_char                   *body;
    size_t                    len;
    xf_posthog_v1_error_t     e;
    xf_posthog_v1_headers_t   h;

    ngx_http_xflow_reply_v1_header(r, "Authorization", &h.authorization);
    ngx_http_xflow_reply_v1_header(r, "Content-Type", &h.content_type);
    ngx_http_xflow_reply_v1_header(r, "Content-Encoding",
                                   &h.content_encoding);
    ngx_http_xflow_reply_v1_header(r, "User-Agent", &h.user_agent);
    ngx_http_xflow_reply_v1_header(r, "PostHog-Sdk-Info", &h.sdk_info);
    ngx_http_xflow_reply_v1_header(r, "PostHog-Attempt", &h.attempt);
    ngx_http_xflow_reply_v1_header(r, "PostHog-Request-Id", &h.request_id);
    ngx_http_xflow_reply_v1_header(r, "PostHog-Request-Timestamp",
                                   &h.request_timestamp);

    if (xf_posthog_v1_check(&h, &e)) {
        return NGX_DECLINED;
    }

    body = ngx_pnalloc(r->pool, 2048);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = xf_posthog_v1_error_body(&e, body, 2048);

    /* refused before its body is read: nothing of it is kept */
    if (ngx_http_discard_request_body(r) != NGX_OK
        || ngx_http_xflow_header_lit(r, "Accept", "application/json")
           != NGX_OK
        || ngx_http_xflow_header_lit(r, "Accept-Encoding",
                                     "gzip, deflate, br, zstd")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_xflow_send_json(r, e.status, body, len);
}
