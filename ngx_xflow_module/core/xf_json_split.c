/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_json_split.c - splitting an upload into events: one object, the
 * elements of a top-level array, or NDJSON / concatenated values, each
 * validated by the scanner; optionally, the wanted top-level members of
 * each event are captured while it is scanned, with no second pass.
 */

#include "xf_json_impl.h"


static xf_status_t
xf_json_push(xf_json_split_t *out, const xf_alloc_t *a, size_t off,
    size_t len, xf_json_type_t type, const xf_json_capture_t *cap)
{
    size_t           ncap, nk;
    uint32_t        *found;
    xf_json_span_t  *spans, *values;

    nk = out->nkeys;

    if (out->n == out->cap) {
        ncap = out->cap ? out->cap * 2 : 16;

        if (ncap > SIZE_MAX / sizeof(xf_json_span_t) / (nk + 1)) {
            return XF_ERR_NOMEM;
        }

        spans = a->alloc(a->data, ncap * sizeof(xf_json_span_t));
        if (spans == NULL) {
            return XF_ERR_NOMEM;
        }

        values = NULL;
        found = NULL;

        if (nk > 0) {
            values = a->alloc(a->data, ncap * nk * sizeof(xf_json_span_t));
            found = a->alloc(a->data, ncap * sizeof(uint32_t));

            if (values == NULL || found == NULL) {
                if (values != NULL) {
                    a->free(a->data, values);
                }

                if (found != NULL) {
                    a->free(a->data, found);
                }

                a->free(a->data, spans);
                return XF_ERR_NOMEM;
            }
        }

        if (out->spans != NULL) {
            memcpy(spans, out->spans, out->n * sizeof(xf_json_span_t));
            a->free(a->data, out->spans);
        }

        if (out->values != NULL) {
            memcpy(values, out->values,
                   out->n * nk * sizeof(xf_json_span_t));
            a->free(a->data, out->values);
        }

        if (out->found != NULL) {
            memcpy(found, out->found, out->n * sizeof(uint32_t));
            a->free(a->data, out->found);
        }

        out->spans = spans;
        out->values = values;
        out->found = found;
        out->cap = ncap;
    }

    out->spans[out->n].off = (uint32_t) off;
    out->spans[out->n].len = (uint32_t) len;
    out->spans[out->n].type = type;

    if (nk > 0) {
        out->found[out->n] = cap != NULL ? cap->found : 0;

        if (cap != NULL && cap->found) {
            memcpy(out->values + out->n * nk, cap->values,
                   nk * sizeof(xf_json_span_t));
        }
    }

    out->n++;

    return XF_OK;
}


/* Looking for out->keys in the event that starts at p[start]. */
static xf_json_capture_t *
xf_json_capture_start(xf_json_split_t *out, xf_json_capture_t *cap,
    xf_json_span_t *values, const uint32_t *by_len, size_t start)
{
    if (out->nkeys == 0) {
        return NULL;
    }

    cap->keys = out->keys;
    cap->by_len = by_len;
    cap->base = start;
    cap->values = values;
    cap->found = 0;
    cap->pending = -1;

    return cap;
}


/* A member name at the event's top level: is it one looked for? */
void
xf_json_split_capture_name(xf_json_capture_t *cap, const u_char *p,
    size_t name, size_t end, size_t value)
{
    int       escaped;
    size_t    j, k, n;
    uint32_t  want;

    n = end - name - 2;
    escaped = 0;

    for (j = name + 1; j < end - 1; j++) {
        if (p[j] == '\\') {
            escaped = 1;
            break;
        }
    }

    /* an escaped name may be any key; else only keys of its length, and
     * most names have a length no key has */
    want = (escaped ? cap->by_len[XF_JSON_SPLIT_LENS] : cap->by_len[
                xf_min(n, XF_JSON_SPLIT_LENS - 1)]) & ~cap->found;

    while (want) {
        k = __builtin_ctz(want);
        want &= want - 1;

        if (xf_json_lookup_name_eq(p + name + 1, n, escaped,
                            (const u_char *) cap->keys[k].name,
                            cap->keys[k].len))
        {
            cap->pending = (int) k;
            cap->vstart = value;
            return;
        }
    }
}


xf_status_t
xf_json_split(const u_char *p, size_t len, const xf_json_split_conf_t *conf,
    const xf_alloc_t *a, xf_json_split_t *out)
{
    size_t              i, k, start, count, over;
    uint32_t            by_len[XF_JSON_SPLIT_LENS + 1];
    unsigned            max_depth;
    xf_status_t         rc;
    xf_json_span_t      values[XF_JSON_SPLIT_KEYS];
    xf_json_capture_t   capture, *cap;

    out->n = 0;
    out->err_off = 0;

    if (len > UINT32_MAX) {
        return XF_ERR_TOO_LARGE;
    }

    if (out->nkeys > XF_JSON_SPLIT_KEYS) {
        return XF_ERR_TOO_LARGE;
    }

    /* keys by length (the longest share the last slot, the last of all
     * is every key) */
    if (out->nkeys > 0) {
        memset(by_len, 0, sizeof(by_len));

        for (k = 0; k < out->nkeys; k++) {
            by_len[xf_min(out->keys[k].len, XF_JSON_SPLIT_LENS - 1)]
                |= 1u << k;
            by_len[XF_JSON_SPLIT_LENS] |= 1u << k;
        }
    }

    max_depth = xf_min(conf->max_depth, XF_JSON_DEPTH_MAX);

    i = xf_json_ws(p, len, 0);

    if (i == len) {
        out->err_off = len;
        return XF_ERR_EMPTY;
    }

    if (p[i] != '[') {
        goto values;
    }

    /*
     * A top-level array: its elements are the events, unless another
     * value follows it, in which case it is one event among several.
     * Elements over max_events are still validated but not recorded
     * until that is known.
     */

    if (max_depth == 0) {
        out->err_off = i;
        return XF_ERR_JSON_DEPTH;
    }

    start = i;
    count = 0;
    over = 0;
    i = xf_json_ws(p, len, i + 1);

    if (i < len && p[i] == ']') {
        i++;

    } else {
        for ( ;; ) {
            size_t  el = i;

            cap = count < conf->max_events
                  ? xf_json_capture_start(out, &capture, values, by_len, el)
                  : NULL;

            rc = xf_json_scan(p, len, &i, max_depth - 1, cap);
            if (rc != XF_OK) {
                out->err_off = i;
                return rc;
            }

            if (count < conf->max_events) {
                rc = xf_json_push(out, a, el, i - el, xf_json_type(p[el]),
                                  cap);
                if (rc != XF_OK) {
                    out->err_off = el;
                    return rc;
                }

            } else if (count == conf->max_events) {
                over = el;
            }

            count++;
            i = xf_json_ws(p, len, i);

            if (i < len && p[i] == ',') {
                i = xf_json_ws(p, len, i + 1);
                continue;
            }

            if (i < len && p[i] == ']') {
                i++;
                break;
            }

            out->err_off = i;
            return XF_ERR_JSON_SYNTAX;
        }
    }

    if (xf_json_ws(p, len, i) == len) {

        if (count > conf->max_events) {
            out->err_off = over;
            return XF_ERR_TOO_MANY_EVENTS;
        }

        return XF_OK;
    }

    /* more values follow: the array is one event */

    out->n = 0;

    if (conf->max_events == 0) {
        out->err_off = start;
        return XF_ERR_TOO_MANY_EVENTS;
    }

    rc = xf_json_push(out, a, start, i - start, XF_JSON_ARRAY, NULL);
    if (rc != XF_OK) {
        out->err_off = start;
        return rc;
    }

values:

    /* NDJSON or concatenated values, separated by whitespace */

    for ( ;; ) {

        if (out->n > 0) {
            start = i;
            i = xf_json_ws(p, len, i);

            if (i == len) {
                return XF_OK;
            }

            if (i == start) {
                out->err_off = i;
                return XF_ERR_JSON_SYNTAX;
            }
        }

        if (out->n == conf->max_events) {
            out->err_off = i;
            return XF_ERR_TOO_MANY_EVENTS;
        }

        start = i;
        cap = xf_json_capture_start(out, &capture, values, by_len, start);

        rc = xf_json_scan(p, len, &i, max_depth, cap);
        if (rc != XF_OK) {
            out->err_off = i;
            return rc;
        }

        rc = xf_json_push(out, a, start, i - start, xf_json_type(p[start]),
                          cap);
        if (rc != XF_OK) {
            out->err_off = start;
            return rc;
        }
    }
}
