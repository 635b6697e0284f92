/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_json_lookup.c - finding members of an object that has already been
 * validated (xf_json_object_get, xf_json_object_fields): skipping over
 * values with no checks beyond what it takes never to read outside the
 * input, and comparing member names after unescaping.
 */

#include "xf_json_impl.h"


/* The " and \ among the 8 bytes at p: as xf_json_plain8(). */
static uint64_t
xf_json_special8(const u_char *p)
{
    uint64_t  v, q, b;

    v = xf_json_load8(p);

    q = v ^ (XF_JSON_ONES * '"');
    b = v ^ (XF_JSON_ONES * '\\');

    return (((q - XF_JSON_ONES) & ~q) | ((b - XF_JSON_ONES) & ~b))
           & XF_JSON_HIGHS;
}


static xf_status_t
xf_json_skip_string(const u_char *p, size_t len, size_t *pos, int *escaped)
{
    size_t    i;
    uint64_t  m;

    *escaped = 0;
    i = *pos + 1;

    for ( ;; ) {

        for ( ;; ) {
            if (i >= len) {
                return XF_ERR_JSON_SYNTAX;
            }

            if (len - i < 8) {
                while (i < len && p[i] != '"' && p[i] != '\\') {
                    i++;
                }

                break;
            }

            m = xf_json_special8(p + i);
            if (m) {
                i += xf_json_first8(m);
                break;
            }

            i += 8;
        }

        if (i == len) {
            return XF_ERR_JSON_SYNTAX;
        }

        if (p[i] == '"') {
            *pos = i + 1;
            return XF_OK;
        }

        /* a backslash and the byte it escapes */
        *escaped = 1;
        i += 2;
    }
}


/* See xf_json.h. */
xf_status_t
xf_json_skip_value(const u_char *p, size_t len, size_t *pos)
{
    int          escaped;
    size_t       i, depth;
    xf_status_t  rc;

    i = *pos;

    if (i == len) {
        return XF_ERR_JSON_SYNTAX;
    }

    if (p[i] == '"') {
        return xf_json_skip_string(p, len, pos, &escaped);
    }

    if (p[i] != '{' && p[i] != '[') {

        while (i < len && p[i] != ',' && p[i] != '}' && p[i] != ']'
               && p[i] != ' ' && p[i] != '\n' && p[i] != '\r'
               && p[i] != '\t')
        {
            i++;
        }

        if (i == *pos) {
            return XF_ERR_JSON_SYNTAX;
        }

        *pos = i;
        return XF_OK;
    }

    depth = 0;

    while (i < len) {

        switch (p[i]) {

        case '"':
            rc = xf_json_skip_string(p, len, &i, &escaped);
            if (rc != XF_OK) {
                return rc;
            }
            continue;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (--depth == 0) {
                *pos = i + 1;
                return XF_OK;
            }
            break;
        }

        i++;
    }

    return XF_ERR_JSON_SYNTAX;
}


/* See xf_json_impl.h. */
int
xf_json_lookup_name_eq(const u_char *name, size_t n, int escaped,
    const u_char *key, size_t key_len)
{
    size_t  i, k, m;
    u_char  buf[4];

    if (!escaped) {
        return n == key_len && memcmp(name, key, n) == 0;
    }

    i = 0;
    k = 0;

    while (i < n) {

        if (name[i] != '\\') {
            if (k == key_len || key[k] != name[i]) {
                return 0;
            }

            i++;
            k++;
            continue;
        }

        if (xf_json_string_unescape_one(name, n, &i, buf, &m) != XF_OK
            || key_len - k < m
            || memcmp(key + k, buf, m) != 0)
        {
            return 0;
        }

        k += m;
    }

    return k == key_len;
}


xf_status_t
xf_json_object_get(const u_char *p, size_t len, const char *key,
    size_t key_len, xf_json_span_t *value)
{
    uint32_t       found;
    xf_status_t    rc;
    xf_json_key_t  k;

    k.name = key;
    k.len = key_len;

    rc = xf_json_object_fields(p, len, &k, 1, value, &found);

    if (rc != XF_OK) {
        return rc;
    }

    return found ? XF_OK : XF_ERR_EMPTY;
}


xf_status_t
xf_json_object_fields(const u_char *p, size_t len, const xf_json_key_t *keys,
    size_t nkeys, xf_json_span_t *values, uint32_t *found)
{
    int          escaped;
    size_t       i, k, n, name, vstart;
    uint32_t     all;
    uint64_t     lens;
    xf_status_t  rc;

    *found = 0;

    if (nkeys > 32 || len < 2 || p[0] != '{') {
        return XF_ERR_JSON_SYNTAX;
    }

    all = nkeys == 32 ? 0xffffffffu : (1u << nkeys) - 1;

    /* the lengths of the keys: most names are compared with none */
    lens = 0;
    for (k = 0; k < nkeys; k++) {
        lens |= 1ULL << xf_min(keys[k].len, 63);
    }

    i = xf_json_ws(p, len, 1);

    if (i < len && p[i] == '}') {
        return XF_OK;
    }

    for ( ;; ) {

        if (i == len || p[i] != '"') {
            return XF_ERR_JSON_SYNTAX;
        }

        name = i;

        rc = xf_json_skip_string(p, len, &i, &escaped);
        if (rc != XF_OK) {
            return rc;
        }

        /* which wanted key, not found yet, this member is */
        n = i - name - 2;
        k = (escaped || (lens >> xf_min(n, 63)) & 1) ? 0 : nkeys;

        for ( /* void */ ; k < nkeys; k++) {
            if (!(*found & (1u << k))
                && xf_json_lookup_name_eq(p + name + 1, n, escaped,
                                   (const u_char *) keys[k].name,
                                   keys[k].len))
            {
                break;
            }
        }

        i = xf_json_ws(p, len, i);

        if (i == len || p[i] != ':') {
            return XF_ERR_JSON_SYNTAX;
        }

        i = xf_json_ws(p, len, i + 1);
        vstart = i;

        rc = xf_json_skip_value(p, len, &i);
        if (rc != XF_OK) {
            return rc;
        }

        if (k < nkeys) {
            values[k].off = (uint32_t) vstart;
            values[k].len = (uint32_t) (i - vstart);
            values[k].type = xf_json_type(p[vstart]);
            *found |= 1u << k;

            if (*found == all) {
                return XF_OK;
            }
        }

        i = xf_json_ws(p, len, i);

        if (i == len || p[i] != ',') {
            /* the closing brace, on validated input */
            return XF_OK;
        }

        i = xf_json_ws(p, len, i + 1);
    }
}


