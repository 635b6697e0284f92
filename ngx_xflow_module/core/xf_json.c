/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_json.c - the validating JSON scanner: one value, checked against
 * RFC 8259 (xf_json_scan_value; xf_json_split runs it once per event).
 *
 * One loop over the input, no recursion, no tree.  The only state besides
 * the position is the kind of every open container, kept in a bit stack
 * (1 = object, 0 = array) of XF_JSON_DEPTH_MAX bits on the C stack:
 *
 *     {"a":[{"b":[1,
 *     depth 4, kinds  1 0 1 0      innermost is an array: expect , or ]
 *
 * String bodies hold most of an event's bytes.  They are skipped eight
 * bytes at a time while a word holds only printable ASCII without " or \;
 * the other bytes go through a class table that tells the quote, an
 * escape, a control character and the UTF-8 lead bytes apart, and every
 * multi-byte sequence is checked against the ranges of Unicode's table of
 * well-formed UTF-8 (which rules out overlong forms, surrogates and
 * anything above U+10FFFF).
 */

#include "xf_json_impl.h"


const u_char  xf_json_str_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* 00 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* 10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,     /* 50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 70 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,     /* 80 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,     /* 90 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,     /* A0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,     /* B0 */
    4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,     /* C0 */
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,     /* D0 */
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 7,     /* E0 */
    9, 10, 10, 10, 11, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4  /* F0 */
};


/*
 * Per lead class from XF_STR_U2 on: the range of the first continuation
 * byte (narrowed where overlong forms, surrogates or code points above
 * U+10FFFF would begin) and how many continuation bytes follow.
 */
static const struct {
    u_char  lo;
    u_char  hi;
    u_char  n;
} xf_json_utf8_seq[] = {
    { 0x80, 0xBF, 1 },      /* U2 */
    { 0xA0, 0xBF, 2 },      /* E0: no overlong */
    { 0x80, 0xBF, 2 },      /* U3 */
    { 0x80, 0x9F, 2 },      /* ED: no D800..DFFF */
    { 0x90, 0xBF, 3 },      /* F0: no overlong */
    { 0x80, 0xBF, 3 },      /* U4 */
    { 0x80, 0x8F, 3 }       /* F4: nothing above 10FFFF */
};


/* See xf_json_impl.h. */
size_t
xf_json_utf8(const u_char *p, size_t avail, size_t *bad)
{
    size_t   i, n;
    u_char   cls;

    cls = xf_json_str_class[p[0]];

    if (cls < XF_STR_U2) {
        *bad = 0;
        return 0;
    }

    cls -= XF_STR_U2;
    n = xf_json_utf8_seq[cls].n;

    if (avail < 2
        || p[1] < xf_json_utf8_seq[cls].lo
        || p[1] > xf_json_utf8_seq[cls].hi)
    {
        *bad = 1;
        return 0;
    }

    for (i = 2; i <= n; i++) {
        if (i == avail || (p[i] & 0xC0) != 0x80) {
            *bad = i;
            return 0;
        }
    }

    return n + 1;
}


/* A string at p[*pos] (the opening quote); *pos ends past the close. */
static xf_status_t
xf_json_string(const u_char *p, size_t len, size_t *pos)
{
    size_t       i, n, bad;
    u_char       tmp[4];
    uint64_t     m;
    xf_status_t  rc;

    i = *pos + 1;

    for ( ;; ) {

        while (len - i >= 8) {
            m = xf_json_plain8(p + i);
            if (m) {
                i += xf_json_first8(m);
                goto special;
            }

            i += 8;
        }

        while (i < len && xf_json_str_class[p[i]] == XF_STR_PLAIN) {
            i++;
        }

    special:

        if (i == len) {
            *pos = len;
            return XF_ERR_JSON_SYNTAX;
        }

        switch (xf_json_str_class[p[i]]) {

        case XF_STR_QUOTE:
            *pos = i + 1;
            return XF_OK;

        case XF_STR_ESCAPE:
            rc = xf_json_string_unescape_one(p, len, &i, tmp, &n);
            if (rc != XF_OK) {
                *pos = i;
                return rc;
            }
            break;

        case XF_STR_CTRL:
            *pos = i;
            return XF_ERR_JSON_SYNTAX;

        default:
            n = xf_json_utf8(p + i, len - i, &bad);
            if (n == 0) {
                *pos = i + bad;
                return XF_ERR_JSON_UTF8;
            }
            i += n;
        }
    }
}


/* Past the decimal digits at p[i..] (i itself when there are none). */
static inline size_t
xf_json_digits(const u_char *p, size_t len, size_t i)
{
    while (i < len && p[i] >= '0' && p[i] <= '9') {
        i++;
    }

    return i;
}


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static xf_status_t
xf_json_number(const u_char *p, size_t len, size_t *pos)
{
    size_t  i, j;

    i = *pos;

    if (p[i] == '-') {
        i++;
    }

    if (i < len && p[i] == '0') {
        i++;

    } else if (i < len && p[i] >= '1' && p[i] <= '9') {
        i = xf_json_digits(p, len, i + 1);

    } else {
        goto invalid;
    }

    if (i < len && p[i] == '.') {
        j = xf_json_digits(p, len, ++i);

        if (j == i) {
            goto invalid;
        }

        i = j;
    }

    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;

        if (i < len && (p[i] == '+' || p[i] == '-')) {
            i++;
        }

        j = xf_json_digits(p, len, i);

        if (j == i) {
            goto invalid;
        }

        i = j;
    }

    *pos = i;
    return XF_OK;

invalid:

    *pos = i;
    return XF_ERR_JSON_SYNTAX;
}


static xf_status_t
xf_json_literal(const u_char *p, size_t len, size_t *pos, const char *lit,
    size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (*pos + i == len || p[*pos + i] != (u_char) lit[i]) {
            *pos += i;
            return XF_ERR_JSON_SYNTAX;
        }
    }

    *pos += n;

    return XF_OK;
}


/*
 * A member name, the colon and the whitespace up to the value.  With cap
 * (a member at the top of an event whose members are wanted), the name
 * is looked up among the wanted ones.
 */
static xf_status_t
xf_json_member(const u_char *p, size_t len, size_t *pos,
    xf_json_capture_t *cap)
{
    size_t       i, name_end;
    xf_status_t  rc;

    i = *pos;

    if (i == len || p[i] != '"') {
        return XF_ERR_JSON_SYNTAX;
    }

    rc = xf_json_string(p, len, &i);
    if (rc != XF_OK) {
        *pos = i;
        return rc;
    }

    name_end = i;

    i = xf_json_ws(p, len, i);

    if (i == len || p[i] != ':') {
        *pos = i;
        return XF_ERR_JSON_SYNTAX;
    }

    i = xf_json_ws(p, len, i + 1);

    if (cap != NULL) {
        xf_json_split_capture_name(cap, p, *pos, name_end, i);
    }

    *pos = i;

    return XF_OK;
}


/* Is the innermost of depth (> 0) open containers an object? */
static inline int
xf_json_in_object(const uint64_t *kinds, unsigned depth)
{
    return (kinds[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1;
}


/*
 * The scanner: one value starting exactly at p[*pos], with at most
 * max_depth (<= XF_JSON_DEPTH_MAX) containers open at once.  On XF_OK
 * *pos is just past the value; on error it is the offending byte.
 */
xf_status_t
xf_json_scan(const u_char *p, size_t len, size_t *pos, unsigned max_depth,
    xf_json_capture_t *cap)
{
    int          obj;
    u_char       c;
    size_t       i;
    unsigned     depth;
    uint64_t     kinds[XF_JSON_DEPTH_MAX / 64];
    xf_status_t  rc;

    i = *pos;
    depth = 0;
    obj = 0;

    for ( ;; ) {

        /* i is at the first byte of a value */

        if (i == len) {
            rc = XF_ERR_JSON_SYNTAX;
            goto failed;
        }

        c = p[i];

        switch (c) {

        case '{':
        case '[':
            if (depth == max_depth) {
                rc = XF_ERR_JSON_DEPTH;
                goto failed;
            }

            obj = (c == '{');

            if (obj) {
                kinds[depth >> 6] |= 1ULL << (depth & 63);
            } else {
                kinds[depth >> 6] &= ~(1ULL << (depth & 63));
            }

            depth++;
            i = xf_json_ws(p, len, i + 1);

            if (i < len && p[i] == (obj ? '}' : ']')) {
                i++;
                depth--;
                obj = depth && xf_json_in_object(kinds, depth);
                break;
            }

            if (obj) {
                rc = xf_json_member(p, len, &i, depth == 1 ? cap : NULL);
                if (rc != XF_OK) {
                    goto failed;
                }
            }

            continue;

        case '"':
            rc = xf_json_string(p, len, &i);
            if (rc != XF_OK) {
                goto failed;
            }
            break;

        case 't':
            rc = xf_json_literal(p, len, &i, "true", 4);
            goto scalar;

        case 'f':
            rc = xf_json_literal(p, len, &i, "false", 5);
            goto scalar;

        case 'n':
            rc = xf_json_literal(p, len, &i, "null", 4);
            goto scalar;

        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            rc = xf_json_number(p, len, &i);

        scalar:

            if (rc != XF_OK) {
                goto failed;
            }

            /*
             * Inside a container the next byte is checked below; at the
             * top it must end the token, so "01" and "truex" are errors
             * and not a value followed by bytes nobody looks at.
             */

            if (depth == 0 && i < len
                && p[i] != ' ' && p[i] != '\n' && p[i] != '\r'
                && p[i] != '\t' && p[i] != ',' && p[i] != ']'
                && p[i] != '}')
            {
                rc = XF_ERR_JSON_SYNTAX;
                goto failed;
            }

            break;

        default:
            rc = XF_ERR_JSON_SYNTAX;
            goto failed;
        }

        /* after a value: close what ends here, then find the next value */

        for ( ;; ) {

            if (depth == 0) {
                *pos = i;
                return XF_OK;
            }

            if (depth == 1 && cap != NULL && cap->pending >= 0) {
                /* a wanted member's value ends here */
                cap->values[cap->pending].off = (uint32_t) (cap->vstart
                                                            - cap->base);
                cap->values[cap->pending].len = (uint32_t) (i - cap->vstart);
                cap->values[cap->pending].type =
                                               xf_json_type(p[cap->vstart]);
                cap->found |= 1u << cap->pending;
                cap->pending = -1;
            }

            i = xf_json_ws(p, len, i);

            if (i == len) {
                rc = XF_ERR_JSON_SYNTAX;
                goto failed;
            }

            if (p[i] == ',') {
                i = xf_json_ws(p, len, i + 1);

                if (obj) {
                    rc = xf_json_member(p, len, &i, depth == 1 ? cap : NULL);
                    if (rc != XF_OK) {
                        goto failed;
                    }
                }

                break;
            }

            if (p[i] != (obj ? '}' : ']')) {
                rc = XF_ERR_JSON_SYNTAX;
                goto failed;
            }

            i++;
            depth--;
            obj = depth && xf_json_in_object(kinds, depth);
        }
    }

failed:

    *pos = i;

    return rc;
}


xf_status_t
xf_json_scan_value(const u_char *p, size_t len, unsigned max_depth,
    xf_json_span_t *span, size_t *end, size_t *err_off)
{
    size_t       start, i;
    xf_status_t  rc;

    if (len > UINT32_MAX) {
        *err_off = 0;
        return XF_ERR_TOO_LARGE;
    }

    start = xf_json_ws(p, len, 0);

    if (start == len) {
        *err_off = len;
        return XF_ERR_EMPTY;
    }

    if (max_depth > XF_JSON_DEPTH_MAX) {
        max_depth = XF_JSON_DEPTH_MAX;
    }

    i = start;

    rc = xf_json_scan(p, len, &i, max_depth, NULL);
    if (rc != XF_OK) {
        *err_off = i;
        return rc;
    }

    span->off = (uint32_t) start;
    span->len = (uint32_t) (i - start);
    span->type = xf_json_type(p[start]);
    *end = i;

    return XF_OK;
}
