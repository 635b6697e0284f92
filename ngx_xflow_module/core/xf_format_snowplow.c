/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_snowplow.c - Snowplow trackers (browser tracker v4 and the
 * tracker protocol in general).
 *
 *     POST .../tp2   {"schema":"iglu:...payload_data/...","data":[{...}]}
 *                    each element of data is an event, bytes as sent
 *     GET  .../i?e=pv&aid=...&...      the pixel: the event is built here
 *                    as a JSON object of the decoded query parameters, in
 *                    query order, every value a string (ue_px and cx stay
 *                    base64url text, as Snowplow's own collector keeps
 *                    them); a parameter given twice is XF_ERR_FORM
 *
 * Event: name "e" (pv, ue, se, pp, tr, ...); app "aid"; distinct id
 * "duid" (the domain user id), else "nuid" or "tnuid" in the event, else
 * the network user id of the request: ?nuid= or the "sp" cookie (the glue
 * hands over its keyed reference, never the raw value).  "e" is
 * required.  Replies: the pixel gets a GIF, a POST the JSON answer.
 */

#include <string.h>

#include "xf_form.h"
#include "xf_format_impl.h"


/* The pixel's parameters at most: a duplicate check is quadratic. */
#define XF_SNOWPLOW_MAX_PARAMS  512


static xf_status_t xf_snowplow_pixel(xf_fmt_ctx_t *ctx);
static void xf_snowplow_cookie(xf_str_t cookie, xf_str_t *sp);
static xf_status_t xf_snowplow_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev);


static const char *const  xf_snowplow_id_keys[] = {
    "duid", "nuid", "tnuid", NULL
};


int
xf_format_snowplow_route(const xf_request_t *req)
{
    return xf_fmt_path_ends(req->path, "/tp2")
           || (req->method == XF_METHOD_GET
               && xf_fmt_path_ends(req->path, "/i"));
}


int
xf_format_snowplow_sniff(const xf_request_t *req)
{
    return req->body_len != 0
           && memmem(req->body, xf_min(req->body_len, 1024),
                     "\"iglu:com.snowplowanalytics.snowplow/payload_data",
                     49)
              != NULL;
}


/*
 * The pixel's query, or the body's payload_data, as events.  Returns
 * XF_OK, XF_ERR_FORM, XF_ERR_EMPTY, or the errors of the nested layers
 * and of xf_fmt_json(); events point into the body or into upload
 * buffers (the pixel's JSON), the network user id into the query, the
 * cookie or an upload buffer.
 */

xf_status_t
xf_format_snowplow(xf_fmt_ctx_t *ctx)
{
    xf_status_t  rc;

    ctx->fields = xf_snowplow_fields;

    rc = xf_fmt_form_field(ctx, ctx->req->query.data, ctx->req->query.len,
                           "nuid", 0, &ctx->nuid);

    if (rc == XF_ERR_EMPTY) {
        xf_snowplow_cookie(ctx->req->cookie, &ctx->nuid);

    } else if (rc != XF_OK) {
        return rc;
    }

    if (ctx->req->body_len == 0) {
        return xf_snowplow_pixel(ctx);
    }

    return xf_fmt_body_json(ctx, "data", NULL);
}


/* GET /i?...: one event, {"name":"value",...} from the query. */

static xf_status_t
xf_snowplow_pixel(xf_fmt_ctx_t *ctx)
{
    size_t            len, bound, max, n, o, nfields;
    u_char           *out, *tmp;
    xf_status_t       rc;
    const u_char     *q, *pos, *end;
    xf_form_field_t   f, dup;

    q = ctx->req->query.data;
    len = ctx->req->query.len;

    if (xf_form_validate(q, len) != XF_OK) {
        return XF_ERR_FORM;
    }

    /* Sizes: every byte may take 6 once escaped, plus "":"", per field. */

    bound = 2;
    max = 0;
    nfields = 0;
    pos = q;
    end = q + len;

    while (xf_form_next(&pos, end, &f) == XF_OK) {
        if (++nfields > XF_SNOWPLOW_MAX_PARAMS) {
            return XF_ERR_FORM;
        }

        bound += xf_json_escape_bound(f.name_len + f.value_len) + 6;
        max = f.name_len > max ? f.name_len : max;
        max = f.value_len > max ? f.value_len : max;
    }

    if (nfields == 0) {
        return XF_ERR_EMPTY;
    }

    out = xf_fmt_alloc(ctx, bound);
    tmp = xf_fmt_alloc(ctx, max);

    if (out == NULL || tmp == NULL) {
        return XF_ERR_NOMEM;
    }

    o = 0;
    out[o++] = '{';
    pos = q;

    while (xf_form_next(&pos, end, &f) == XF_OK) {
        (void) xf_form_decode(f.name, f.name_len, 0, tmp, &n);

        if (xf_form_get(q, len, (const char *) tmp, n, &dup) != XF_OK) {
            return XF_ERR_FORM;
        }

        if (o > 1) {
            out[o++] = ',';
        }

        out[o++] = '"';
        o += xf_json_escape(out + o, tmp, n);
        out[o++] = '"';
        out[o++] = ':';

        (void) xf_form_decode(f.value, f.value_len, 0, tmp, &n);

        out[o++] = '"';
        o += xf_json_escape(out + o, tmp, n);
        out[o++] = '"';
    }

    out[o++] = '}';

    rc = xf_fmt_charge(ctx, o);
    if (rc != XF_OK) {
        return rc;
    }

    ctx->up->final += o;

    return xf_fmt_event(ctx, out, o, XF_JSON_OBJECT);
}


/* The value of the "sp" cookie, Snowplow's network user id. */

static void
xf_snowplow_cookie(xf_str_t cookie, xf_str_t *sp)
{
    const u_char  *p, *end, *semi, *eq, *v;
    size_t         vlen;

    p = cookie.data;
    end = p + cookie.len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';')) {
            p++;
        }

        semi = memchr(p, ';', end - p);
        if (semi == NULL) {
            semi = end;
        }

        eq = memchr(p, '=', semi - p);

        if (eq != NULL && eq - p == 2 && p[0] == 's' && p[1] == 'p') {
            v = eq + 1;
            vlen = semi - v;

            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
                vlen--;
            }

            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }

            sp->data = v;
            sp->len = vlen;
            return;
        }

        p = semi;
    }
}


/* The fields callback (xf_fmt_fields_pt): "e" is required. */

static xf_status_t
xf_snowplow_fields(xf_fmt_ctx_t *ctx, xf_event_t *ev)
{
    xf_status_t  rc;

    rc = xf_fmt_text(ctx, ev->p, ev->len, "e", &ev->name);
    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    rc = xf_fmt_text_any(ctx, ev->p, ev->len, xf_snowplow_id_keys,
                         &ev->distinct_id);
    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    if (ev->distinct_id.len == 0) {
        ev->distinct_id = ctx->nuid;
    }

    rc = xf_fmt_text(ctx, ev->p, ev->len, "aid", &ev->app);
    if (rc == XF_ERR_NOMEM) {
        return rc;
    }

    return ev->name.len != 0 ? XF_OK : XF_ERR_MISSING_FIELD;
}


/*
 * The tracker protocol: the domain user id and session id (the _sp_id
 * cookie), the network user id (the collector's "sp" cookie: the same
 * reference as xflow_cookie_ref sp), the user id, the User-Agent, the
 * legacy fingerprint and the address.
 */
const xf_format_field_t  xf_format_snowplow_fields[] = {
    { "duid", XF_FIELD_ID, NULL },
    { "sid", XF_FIELD_ID, NULL },
    { "nuid", XF_FIELD_ID, "sp" },
    { "tnuid", XF_FIELD_ID, "sp" },
    { "uid", XF_FIELD_ID, NULL },
    { "ua", XF_FIELD_UA, NULL },
    { "fp", XF_FIELD_HINT, NULL },
    { "ip", XF_FIELD_IP, NULL },
    { NULL, XF_FIELD_ID, NULL }
};


/*
 * Snowplow: the true, device-created and device-sent timestamps
 * (milliseconds, as strings); the ids the adapter reads from the event.
 */
const char *const  xf_format_snowplow_times[] = {
    "ttm", "dtm", "stm", NULL
};

const char *const  xf_format_snowplow_ids[] = {
    "duid", "nuid", "tnuid", NULL
};
