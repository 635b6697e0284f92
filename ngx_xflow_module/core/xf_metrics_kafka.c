/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_metrics_kafka.c - reading librdkafka's statistics JSON (the
 * producer's queue, per-broker state, RTT and retries) and applying it
 * to the gauges and counters of one slot.
 */

#include "xf_metrics_impl.h"
#include "xf_json.h"


/*
 * The next member of a validated object (p, len is the object's span);
 * *pos is 0 before the first call.  Returns 1 with the key (a string
 * span with quotes) and the value, 0 at the end.
 */
static int
xf_json_next_member(const u_char *p, size_t len, size_t *pos,
    xf_json_span_t *key, xf_json_span_t *val)
{
    size_t          i, end, err;
    xf_json_span_t  s;

    i = *pos;

    if (i == 0) {
        i = xf_json_ws(p, len, 0);
        if (i >= len || p[i] != '{') {
            return 0;
        }

        i++;
    }

    i = xf_json_ws(p, len, i);

    if (i < len && p[i] == ',') {
        i = xf_json_ws(p, len, i + 1);
    }

    if (i >= len || p[i] != '"') {
        return 0;
    }

    if (xf_json_scan_value(p + i, len - i, 1, &s, &end, &err) != XF_OK) {
        return 0;
    }

    key->off = (uint32_t) (i + s.off);
    key->len = s.len;
    key->type = s.type;

    i = xf_json_ws(p, len, i + end);
    if (i >= len || p[i] != ':') {
        return 0;
    }

    i++;

    if (xf_json_scan_value(p + i, len - i, XF_JSON_DEPTH_MAX, &s, &end, &err)
        != XF_OK)
    {
        return 0;
    }

    val->off = (uint32_t) (i + s.off);
    val->len = s.len;
    val->type = s.type;

    *pos = i + end;

    return 1;
}


/* A non-negative integer member; anything else reads as 0. */
static uint64_t
xf_json_u64(const u_char *p, size_t len, const char *key)
{
    size_t          i;
    uint64_t        v;
    xf_json_span_t  s;

    if (xf_json_object_get(p, len, key, strlen(key), &s) != XF_OK
        || s.type != XF_JSON_NUMBER)
    {
        return 0;
    }

    v = 0;

    for (i = s.off; i < (size_t) s.off + s.len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            break;
        }

        if (v > (UINT64_MAX - 9) / 10) {
            return UINT64_MAX;
        }

        v = v * 10 + (p[i] - '0');
    }

    return v;
}


/* 1 if the member key is the JSON string lit (given with its quotes). */
static int
xf_json_is(const u_char *p, size_t len, const char *key, const char *lit)
{
    size_t          n;
    xf_json_span_t  s;

    n = strlen(lit);

    return xf_json_object_get(p, len, key, strlen(key), &s) == XF_OK
           && s.type == XF_JSON_STRING && s.len == n
           && memcmp(p + s.off, lit, n) == 0;
}


xf_status_t
xf_metrics_kafka_stats_parse(const u_char *p, size_t len,
    xf_kafka_stats_t *st)
{
    size_t                    end, err, pos, n;
    u_char                    name[4 * XF_METRICS_NAME_MAX];
    xf_status_t               rc;
    const u_char             *o, *b;
    xf_json_span_t            span, key, val, s, rtt;
    xf_kafka_broker_stats_t  *bs;

    memset(st, 0, sizeof(xf_kafka_stats_t));

    rc = xf_json_scan_value(p, len, 64, &span, &end, &err);
    if (rc != XF_OK) {
        return rc;
    }

    if (span.type != XF_JSON_OBJECT) {
        return XF_ERR_NOT_OBJECT;
    }

    o = p + span.off;

    st->msg_cnt = xf_json_u64(o, span.len, "msg_cnt");
    st->msg_size = xf_json_u64(o, span.len, "msg_size");

    if (xf_json_object_get(o, span.len, "brokers", 7, &s) != XF_OK
        || s.type != XF_JSON_OBJECT)
    {
        return XF_OK;
    }

    b = o + s.off;
    pos = 0;

    while (xf_json_next_member(b, s.len, &pos, &key, &val)) {
        if (val.type != XF_JSON_OBJECT) {
            continue;
        }

        if (xf_json_is(b + val.off, val.len, "source", "\"internal\"")
            || xf_json_is(b + val.off, val.len, "source", "\"logical\""))
        {
            continue;
        }

        st->txretries += xf_json_u64(b + val.off, val.len, "txretries");
        st->txbytes += xf_json_u64(b + val.off, val.len, "txbytes");

        if (st->nbrokers == XF_METRICS_BROKERS_MAX) {
            continue;
        }

        /* the member name is the broker's name ("host:port/id") */
        if (xf_json_string_unescape(b + key.off, key.len, name, sizeof(name),
                                    &n)
            != XF_OK)
        {
            continue;
        }

        bs = &st->brokers[st->nbrokers++];

        bs->name_len = xf_min(n, (size_t) XF_METRICS_NAME_MAX);
        memcpy(bs->name, name, bs->name_len);
        bs->up = xf_json_is(b + val.off, val.len, "state", "\"UP\"");
        bs->txretries = xf_json_u64(b + val.off, val.len, "txretries");

        if (xf_json_object_get(b + val.off, val.len, "rtt", 3, &rtt)
            == XF_OK
            && rtt.type == XF_JSON_OBJECT)
        {
            bs->rtt_us = xf_json_u64(b + val.off + rtt.off, rtt.len, "avg");
        }
    }

    return XF_OK;
}


/* The growth of a librdkafka counter, which restarts with each producer. */
static uint64_t
xf_metrics_kafka_growth(uint64_t now, uint64_t *last)
{
    uint64_t  d;

    d = now >= *last ? now - *last : now;
    *last = now;

    return d;
}


void
xf_metrics_kafka_stats_apply(const xf_metrics_t *m, void *mem, size_t slot,
    const xf_kafka_stats_t *st, xf_kafka_stats_last_t *last)
{
    size_t    i, k;
    u_char    seen[XF_METRICS_BROKERS_MAX];

    xf_metrics_set(m, mem, slot, XF_M_KAFKA_INFLIGHT, 0, 0, st->msg_cnt);
    xf_metrics_set(m, mem, slot, XF_M_KAFKA_QUEUE_BYTES, 0, 0, st->msg_size);

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < st->nbrokers; i++) {
        k = xf_metrics_broker_index(m, mem, st->brokers[i].name,
                                    st->brokers[i].name_len);
        if (k == XF_METRICS_BROKERS_MAX) {
            continue;
        }

        seen[k] = 1;
        xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_UP, k, 0,
                       st->brokers[i].up ? XF_BROKER_LISTED_UP
                                         : XF_BROKER_LISTED_DOWN);
        xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_RTT, k, 0,
                       st->brokers[i].rtt_us);
    }

    /* a broker this producer no longer lists is not its broker now */
    for (k = 0; k < XF_METRICS_BROKERS_MAX; k++) {
        if (!seen[k]) {
            xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_UP, k, 0, 0);
            xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_RTT, k, 0, 0);
        }
    }

    xf_metrics_add(m, mem, slot, XF_M_KAFKA_RETRIES, 0, 0,
                   xf_metrics_kafka_growth(st->txretries, &last->txretries));
    xf_metrics_add(m, mem, slot, XF_M_KAFKA_TX_BYTES, 0, 0,
                   xf_metrics_kafka_growth(st->txbytes, &last->txbytes));
}
