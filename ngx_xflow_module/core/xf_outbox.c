/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_outbox.c - planning, rendering and grouping the messages of one
 * request (xf_outbox.h): what goes to which topic with which key, the
 * dead-letter JSON of what is not a usable event, and the envelopes.
 */

#include "xf_outbox.h"
#include "xf_base64.h"
#include "xf_json.h"

#include <stdio.h>
#include <string.h>


static u_char *
xf_cpymem(u_char *dst, const void *src, size_t n)
{
    return (u_char *) memcpy(dst, src, n) + n;
}


/* The longest suffix a member gets after it was rendered. */
#define XF_OUTBOX_SUFFIX_MAX                                                 \
    (sizeof(",\"raw\":\"withheld\",\"raw_len\":") - 1 + 20)


xf_status_t
xf_outbox_init(xf_outbox_t *ob, size_t n, const xf_alloc_t *a)
{
    ob->a = a;
    ob->n = 0;
    ob->nalloc = n ? n : 1;

    ob->out = a->alloc(a->data, ob->nalloc * sizeof(xf_out_t));

    return ob->out ? XF_OK : XF_ERR_NOMEM;
}


void
xf_outbox_free(xf_outbox_t *ob)
{
    ob->a->free(ob->a->data, ob->out);
    ob->out = NULL;
    ob->n = 0;
    ob->nalloc = 0;
}


/* A zeroed message at the end, the outbox grown when full. */
static xf_out_t *
xf_outbox_add(xf_outbox_t *ob)
{
    xf_out_t  *out, *o;

    if (ob->n == ob->nalloc) {
        if (ob->nalloc > SIZE_MAX / 2 / sizeof(xf_out_t)) {
            return NULL;
        }

        out = ob->a->alloc(ob->a->data, 2 * ob->nalloc * sizeof(xf_out_t));
        if (out == NULL) {
            return NULL;
        }

        memcpy(out, ob->out, ob->n * sizeof(xf_out_t));
        ob->a->free(ob->a->data, ob->out);
        ob->out = out;
        ob->nalloc *= 2;
    }

    o = &ob->out[ob->n++];
    memset(o, 0, sizeof(xf_out_t));
    o->copy_of = -1;

    return o;
}


/*
 * ,"app":"...",["error":"...",][request], with room after it for the
 * longest suffix a dead letter adds.
 */
static xf_status_t
xf_outbox_member(xf_outbox_t *ob, xf_str_t *member, const xf_str_t *app,
    const char *error, const xf_str_t *request)
{
    size_t   len, elen;
    u_char  *p, *start;

    if (app->len == 0 && error == NULL) {
        member->data = NULL;
        member->len = 0;
        return XF_OK;
    }

    elen = error ? strlen(error) : 0;

    len = sizeof(",\"app\":\"\"") - 1 + xf_json_escape_bound(app->len)
          + sizeof(",\"error\":\"\"") - 1 + elen
          + (request ? request->len : 0) + XF_OUTBOX_SUFFIX_MAX;

    start = ob->a->alloc(ob->a->data, len);
    if (start == NULL) {
        return XF_ERR_NOMEM;
    }

    p = start;

    if (app->len) {
        p = xf_cpymem(p, ",\"app\":\"", sizeof(",\"app\":\"") - 1);
        p += xf_json_escape(p, app->data, app->len);
        *p++ = '"';
    }

    if (error) {
        p = xf_cpymem(p, ",\"error\":\"", sizeof(",\"error\":\"") - 1);
        p = xf_cpymem(p, error, elen);
        *p++ = '"';
    }

    if (request) {
        p = xf_cpymem(p, request->data, request->len);
    }

    member->data = start;
    member->len = p - start;

    return XF_OK;
}


/* Append a suffix into the room xf_outbox_member() left. */
static void
xf_outbox_suffix(xf_str_t *member, const char *s, size_t len)
{
    memcpy((u_char *) (uintptr_t) member->data + member->len, s, len);
    member->len += len;
}


xf_status_t
xf_outbox_event(xf_outbox_t *ob, const xf_route_target_t *t, size_t n,
    const xf_str_t *id, const xf_str_t *app, const u_char *event,
    size_t event_len)
{
    size_t     i, first;
    xf_out_t  *o;

    first = ob->n;

    for (i = 0; i < n; i++) {
        o = xf_outbox_add(ob);
        if (o == NULL) {
            return XF_ERR_NOMEM;
        }

        o->topic = t[i].topic;
        o->counted = 1;

        if (t[i].key == XF_ROUTE_KEY_DISTINCT) {
            o->key = *id;

        } else if (t[i].key == XF_ROUTE_KEY_APP) {
            o->key = *app;
        }

        if (i > 0) {
            o->copy_of = first;
            continue;
        }

        o->event = event;
        o->event_len = event_len;

        if (xf_outbox_member(ob, &o->member, app, NULL, NULL) != XF_OK) {
            return XF_ERR_NOMEM;
        }
    }

    return XF_OK;
}


xf_status_t
xf_outbox_dead_letter(xf_outbox_t *ob, uint32_t topic, const u_char *bytes,
    size_t len, const xf_str_t *app, const char *reason,
    const xf_str_t *request, const xf_outbox_strip_t *strip)
{
    char            num[24];
    size_t          end, err, n;
    u_char         *p;
    xf_str_t        a;
    xf_out_t       *o;
    xf_status_t     st;
    unsigned        walk, object;
    xf_json_span_t  span;

    o = xf_outbox_add(ob);
    if (o == NULL) {
        return XF_ERR_NOMEM;
    }

    o->topic = topic;

    walk = len
           && xf_json_scan_value(bytes, len, 1024, &span, &end, &err) == XF_OK
           && span.off == 0 && end == len;
    object = walk && span.type == XF_JSON_OBJECT;

    a = *app;

    if (object) {
        st = strip->strip_value(strip->data, bytes, len, &a);
        if (st != XF_OK) {
            return st;
        }
    }

    if (object && (request == NULL || !strip->strips)) {
        /* a dead letter that can be walked is stripped like any event */
        o->event = bytes;
        o->event_len = len;

        st = strip->strip_event(strip->data, &o->event, &o->event_len);
        if (st != XF_OK) {
            return st;
        }

        return xf_outbox_member(ob, &o->member, &a, reason, request);
    }

    if (len && strip->strips) {
        /*
         * Fields are stripped, and these bytes are not one event object
         * the rules can walk (an array, a string, undecodable bytes, or
         * a whole request body, whose events may sit in a wrapper the
         * rules do not name): they are withheld; the dead letter says
         * why and how many there were.
         */
        o->event = (const u_char *) "null";
        o->event_len = 4;

        if (xf_outbox_member(ob, &o->member, &a, reason, request) != XF_OK) {
            return XF_ERR_NOMEM;
        }

        xf_outbox_suffix(&o->member, ",\"raw\":\"withheld\",\"raw_len\":",
                         sizeof(",\"raw\":\"withheld\",\"raw_len\":") - 1);
        n = (size_t) snprintf(num, sizeof(num), "%zu", len);
        xf_outbox_suffix(&o->member, num, n);

        return XF_OK;
    }

    if (walk) {
        o->event = bytes;
        o->event_len = len;

        return xf_outbox_member(ob, &o->member, &a, reason, request);
    }

    p = ob->a->alloc(ob->a->data, xf_base64_encoded_len(len) + 2);
    if (p == NULL) {
        return XF_ERR_NOMEM;
    }

    n = xf_base64_encode(p + 1, bytes, len, XF_BASE64_STD);
    p[0] = '"';
    p[n + 1] = '"';

    o->event = p;
    o->event_len = n + 2;

    if (xf_outbox_member(ob, &o->member, &a, reason, request) != XF_OK) {
        return XF_ERR_NOMEM;
    }

    xf_outbox_suffix(&o->member, ",\"raw\":\"base64\"",
                     sizeof(",\"raw\":\"base64\"") - 1);

    return XF_OK;
}


xf_status_t
xf_outbox_raw(xf_outbox_t *ob, uint32_t topic, const xf_str_t *key,
    const u_char *value, size_t len)
{
    xf_out_t  *o;

    o = xf_outbox_add(ob);
    if (o == NULL) {
        return XF_ERR_NOMEM;
    }

    o->raw = 1;
    o->topic = topic;
    o->key = *key;
    o->event = value;
    o->event_len = len;

    return XF_OK;
}


xf_status_t
xf_outbox_request_member(const xf_outbox_request_t *req, const xf_alloc_t *a,
    xf_str_t *member)
{
    u_char  *p, *start;

    static const char  m1[] = ",\"request\":{\"method\":\"";
    static const char  m2[] = "\",\"uri\":\"";
    static const char  m3[] = "\",\"content_type\":\"";
    static const char  m4[] = "\",\"content_encoding\":\"";

    start = a->alloc(a->data,
                     sizeof(m1) + sizeof(m2) + sizeof(m3) + sizeof(m4) + 2
                     + xf_json_escape_bound(req->method.len + req->uri.len
                                            + req->content_type.len
                                            + req->content_encoding.len));
    if (start == NULL) {
        return XF_ERR_NOMEM;
    }

    p = xf_cpymem(start, m1, sizeof(m1) - 1);
    p += xf_json_escape(p, req->method.data, req->method.len);
    p = xf_cpymem(p, m2, sizeof(m2) - 1);
    p += xf_json_escape(p, req->uri.data, req->uri.len);
    p = xf_cpymem(p, m3, sizeof(m3) - 1);
    p += xf_json_escape(p, req->content_type.data, req->content_type.len);
    p = xf_cpymem(p, m4, sizeof(m4) - 1);
    p += xf_json_escape(p, req->content_encoding.data,
                        req->content_encoding.len);
    p = xf_cpymem(p, "\"}", 2);

    member->data = start;
    member->len = p - start;

    return XF_OK;
}


size_t
xf_outbox_size(const xf_outbox_t *ob, size_t head_len)
{
    size_t           i, total;
    const xf_out_t  *o;

    total = 0;

    for (i = 0; i < ob->n; i++) {
        o = &ob->out[i];

        if (o->raw) {
            total += o->event_len;

        } else if (o->copy_of < 0) {
            total += xf_envelope_size(head_len, o->member.len, o->event_len);
        }
    }

    return total;
}


u_char *
xf_outbox_render(xf_outbox_t *ob, u_char *buf, const u_char *head,
    size_t head_len, xf_id_gen_t *ids)
{
    size_t     i;
    u_char     id[XF_ID_HEX_LEN];
    xf_out_t  *o;

    /* a copy names an earlier message, rendered by the time it is seen */

    for (i = 0; i < ob->n; i++) {
        o = &ob->out[i];

        if (o->copy_of >= 0) {
            o->payload = ob->out[o->copy_of].payload;
            o->payload_len = ob->out[o->copy_of].payload_len;
            continue;
        }

        o->payload = buf;

        if (o->raw) {
            buf = xf_cpymem(buf, o->event, o->event_len);

        } else {
            xf_id_next(ids, id);
            buf = xf_envelope_write(buf, id, head, head_len, o->member.data,
                                    o->member.len, o->event, o->event_len);
        }

        o->payload_len = buf - o->payload;
    }

    return buf;
}


xf_status_t
xf_outbox_group(const xf_outbox_t *ob, size_t ntopics, size_t *count,
    size_t *order)
{
    size_t  i, t, next;

    memset(count, 0, ntopics * sizeof(size_t));

    for (i = 0; i < ob->n; i++) {
        if (ob->out[i].topic >= ntopics) {
            return XF_ERR_BUFFER;
        }

        count[ob->out[i].topic]++;
    }

    /* a counting sort: where each topic's run starts, then fill in */

    next = 0;

    for (t = 0; t < ntopics; t++) {
        i = count[t];
        count[t] = next;
        next += i;
    }

    for (i = 0; i < ob->n; i++) {
        order[count[ob->out[i].topic]++] = i;
    }

    /* count[t] is where the run after t starts: back to counts */

    for (t = ntopics; t-- > 1; ) {
        count[t] -= count[t - 1];
    }

    return XF_OK;
}


xf_status_t
xf_outbox_envelope_id(const u_char *value, size_t len, xf_str_t *id)
{
    static const char  prefix[] = "{\"v\":1,\"id\":\"";

    if (len < sizeof(prefix) - 1 + XF_ID_HEX_LEN + 1
        || memcmp(value, prefix, sizeof(prefix) - 1) != 0
        || value[sizeof(prefix) - 1 + XF_ID_HEX_LEN] != '"')
    {
        return XF_ERR_MISSING_FIELD;
    }

    id->data = value + sizeof(prefix) - 1;
    id->len = XF_ID_HEX_LEN;

    return XF_OK;
}


size_t
xf_outbox_refused(u_char *dst, size_t size, const u_char *value,
    size_t value_len, uint64_t ts_ms, const char *error, const char *topic)
{
    int       n;
    xf_str_t  id;

    if (xf_outbox_envelope_id(value, value_len, &id) != XF_OK) {
        id.data = (const u_char *) "";
        id.len = 0;
    }

    n = snprintf((char *) dst, size,
                 "{\"v\":1,\"id\":\"%.*s\",\"ts\":%llu,\"error\":\"%s\","
                 "\"topic\":\"%s\",\"size\":%zu}", (int) id.len,
                 (const char *) id.data, (unsigned long long) ts_ms, error,
                 topic, value_len);

    if (n < 0) {
        return 0;
    }

    return (size_t) n < size ? (size_t) n : size - 1;
}
