/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_receipt.c - per-event receipts rendered for their client
 * (xf_receipt.h).
 */

#include <string.h>

#include "xf_receipt.h"


/* The fixed text of one receipt at most, its numbers included. */
#define XF_RECEIPT_FIXED    160

/* The digits of an int64_t and its sign. */
#define XF_RECEIPT_NUM_LEN  20


static u_char *xf_receipt_one(u_char *p, xf_receipts_shape_t shape,
    const xf_receipt_t *r);
static u_char *xf_receipt_cpy(u_char *p, const char *s);
static u_char *xf_receipt_num(u_char *p, int64_t v);


static const char  *xf_receipt_names[] = {
    [XF_RECEIPT_OK]        = "ok",
    [XF_RECEIPT_RETRY]     = "retry",
    [XF_RECEIPT_INVALID]   = "invalid",
    [XF_RECEIPT_DUPLICATE] = "duplicate",
    [XF_RECEIPT_DROPPED]   = "dropped",
};


const char *
xf_receipt_fate_name(xf_receipt_fate_t fate)
{
    if ((unsigned) fate > XF_RECEIPT_DROPPED) {
        return "unknown";
    }

    return xf_receipt_names[fate];
}


xf_status_t
xf_receipt_id(const u_char *p, size_t len, const char *name, xf_str_t *id)
{
    xf_json_span_t  v;

    id->data = NULL;
    id->len = 0;

    if (xf_json_object_get(p, len, name, strlen(name), &v) != XF_OK
        || v.type != XF_JSON_STRING || v.len < 2)
    {
        return XF_ERR_EMPTY;
    }

    /* the span holds the quotes */
    id->data = p + v.off + 1;
    id->len = v.len - 2;

    return XF_OK;
}


size_t
xf_receipts_size(xf_receipts_shape_t shape, const xf_receipt_t *r, size_t n)
{
    size_t  i, size;

    size = sizeof("{\"accepted\":,\"rejected\":,\"receipts\":[]}")
           + 2 * XF_RECEIPT_NUM_LEN + sizeof("{\"results\":{}}");

    for (i = 0; i < n; i++) {
        size += XF_RECEIPT_FIXED + r[i].id.len
                + r[i].topic.len
                + (r[i].reason ? strlen(r[i].reason) : 0);
    }

    return size;
}


u_char *
xf_receipts_render(u_char *dst, xf_receipts_shape_t shape,
    const xf_receipt_t *r, size_t n, size_t accepted, size_t rejected)
{
    size_t   i;
    u_char  *p;
    int      first;

    p = dst;
    first = 1;

    if (shape == XF_RECEIPTS_POSTHOG) {
        p = xf_receipt_cpy(p, "{\"results\":{");

        for (i = 0; i < n; i++) {
            if (r[i].id.len == 0) {
                continue;
            }

            if (!first) {
                *p++ = ',';
            }

            first = 0;

            *p++ = '"';
            memcpy(p, r[i].id.data, r[i].id.len);
            p += r[i].id.len;
            p = xf_receipt_cpy(p, "\":");
            p = xf_receipt_one(p, shape, &r[i]);
        }

        return xf_receipt_cpy(p, "}}");
    }

    p = xf_receipt_cpy(p, "{\"accepted\":");
    p = xf_receipt_num(p, (int64_t) accepted);
    p = xf_receipt_cpy(p, ",\"rejected\":");
    p = xf_receipt_num(p, (int64_t) rejected);
    p = xf_receipt_cpy(p, ",\"receipts\":[");

    for (i = 0; i < n; i++) {
        if (i > 0) {
            *p++ = ',';
        }

        p = xf_receipt_one(p, shape, &r[i]);
    }

    return xf_receipt_cpy(p, "]}");
}


static u_char *
xf_receipt_one(u_char *p, xf_receipts_shape_t shape, const xf_receipt_t *r)
{
    const char  *result, *reason;

    reason = r->reason;

    if (shape == XF_RECEIPTS_POSTHOG) {
        /* the four results PostHog's SDKs know: ok, warning, drop, retry */
        switch (r->fate) {

        case XF_RECEIPT_INVALID:
        case XF_RECEIPT_DROPPED:
            /* PostHog drops what its event restrictions and quotas
               refuse the same way: never sent again */
            result = "drop";
            break;

        case XF_RECEIPT_RETRY:
            result = "retry";
            break;

        case XF_RECEIPT_DUPLICATE:
            result = "ok";
            reason = "duplicate";
            break;

        default:
            result = "ok";
            break;
        }

    } else {
        result = xf_receipt_fate_name(r->fate);
    }

    p = xf_receipt_cpy(p, "{\"result\":\"");
    p = xf_receipt_cpy(p, result);
    *p++ = '"';

    if (r->fate == XF_RECEIPT_OK && r->topic.len) {
        p = xf_receipt_cpy(p, ",\"topic\":\"");
        memcpy(p, r->topic.data, r->topic.len);
        p += r->topic.len;
        p = xf_receipt_cpy(p, "\",\"partition\":");
        p = xf_receipt_num(p, r->partition);
        p = xf_receipt_cpy(p, ",\"offset\":");
        p = xf_receipt_num(p, r->offset);

    } else if (r->fate == XF_RECEIPT_OK && r->spooled) {
        p = xf_receipt_cpy(p, ",\"spooled\":true");
    }

    if (reason != NULL) {
        p = xf_receipt_cpy(p, shape == XF_RECEIPTS_POSTHOG ? ",\"details\":\""
                                                          : ",\"reason\":\"");
        p = xf_receipt_cpy(p, reason);
        *p++ = '"';
    }

    *p++ = '}';

    return p;
}


static u_char *
xf_receipt_cpy(u_char *p, const char *s)
{
    size_t  len;

    len = strlen(s);
    memcpy(p, s, len);

    return p + len;
}


static u_char *
xf_receipt_num(u_char *p, int64_t v)
{
    u_char    buf[XF_RECEIPT_NUM_LEN];
    size_t    n;
    uint64_t  u;

    if (v < 0) {
        *p++ = '-';
        u = (uint64_t) 0 - (uint64_t) v;

    } else {
        u = (uint64_t) v;
    }

    n = sizeof(buf);

    do {
        buf[--n] = (u_char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    memcpy(p, buf + n, sizeof(buf) - n);

    return p + sizeof(buf) - n;
}
