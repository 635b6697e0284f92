/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_json_string.c - JSON string bodies: decoding their escapes
 * (xf_json_string_unescape, and one escape at a time for the scanner and
 * the lookups) and writing escaped bodies (xf_json_escape).
 */

#include "xf_json_impl.h"


static int
xf_json_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * Four hex digits at p[pos..]: the value, or -1 with *pos moved to the
 * offending byte (len when the input ends).
 */
static long
xf_json_hex4(const u_char *p, size_t len, size_t *pos)
{
    long    v;
    int     d;
    size_t  i;

    v = 0;

    for (i = *pos; i < *pos + 4; i++) {
        if (i >= len) {
            *pos = len;
            return -1;
        }

        d = xf_json_hex(p[i]);

        if (d < 0) {
            *pos = i;
            return -1;
        }

        v = (v << 4) | d;
    }

    *pos = i;

    return v;
}


/* See xf_json_impl.h. */
xf_status_t
xf_json_string_unescape_one(const u_char *p, size_t len, size_t *pos,
    u_char *out, size_t *out_len)
{
    long    cp, lo;
    size_t  i, at;

    i = *pos + 1;

    if (i >= len) {
        *pos = len;
        return XF_ERR_JSON_SYNTAX;
    }

    switch (p[i]) {
    case '"':  out[0] = '"'; break;
    case '\\': out[0] = '\\'; break;
    case '/':  out[0] = '/'; break;
    case 'b':  out[0] = '\b'; break;
    case 'f':  out[0] = '\f'; break;
    case 'n':  out[0] = '\n'; break;
    case 'r':  out[0] = '\r'; break;
    case 't':  out[0] = '\t'; break;

    case 'u':
        at = *pos;
        i++;
        cp = xf_json_hex4(p, len, &i);

        if (cp < 0) {
            *pos = i;
            return XF_ERR_JSON_SYNTAX;
        }

        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            *pos = at;
            return XF_ERR_JSON_UTF8;
        }

        if (cp >= 0xD800 && cp <= 0xDBFF) {

            if (len - i < 2 || p[i] != '\\' || p[i + 1] != 'u') {
                *pos = i;
                return XF_ERR_JSON_UTF8;
            }

            at = i;
            i += 2;
            lo = xf_json_hex4(p, len, &i);

            if (lo < 0) {
                *pos = i;
                return XF_ERR_JSON_SYNTAX;
            }

            if (lo < 0xDC00 || lo > 0xDFFF) {
                *pos = at;
                return XF_ERR_JSON_UTF8;
            }

            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }

        if (cp < 0x80) {
            out[0] = (u_char) cp;
            *out_len = 1;

        } else if (cp < 0x800) {
            out[0] = (u_char) (0xC0 | (cp >> 6));
            out[1] = (u_char) (0x80 | (cp & 0x3F));
            *out_len = 2;

        } else if (cp < 0x10000) {
            out[0] = (u_char) (0xE0 | (cp >> 12));
            out[1] = (u_char) (0x80 | ((cp >> 6) & 0x3F));
            out[2] = (u_char) (0x80 | (cp & 0x3F));
            *out_len = 3;

        } else {
            out[0] = (u_char) (0xF0 | (cp >> 18));
            out[1] = (u_char) (0x80 | ((cp >> 12) & 0x3F));
            out[2] = (u_char) (0x80 | ((cp >> 6) & 0x3F));
            out[3] = (u_char) (0x80 | (cp & 0x3F));
            *out_len = 4;
        }

        *pos = i;
        return XF_OK;

    default:
        *pos = i;
        return XF_ERR_JSON_SYNTAX;
    }

    /* a one-character escape */

    *out_len = 1;
    *pos = i + 1;

    return XF_OK;
}


xf_status_t
xf_json_string_unescape(const u_char *p, size_t len, u_char *dst,
    size_t dst_cap, size_t *dst_len)
{
    size_t        i, end, o, run, n;
    u_char        buf[4];
    const u_char  *q;
    xf_status_t   rc;

    if (len < 2 || p[0] != '"' || p[len - 1] != '"') {
        return XF_ERR_JSON_SYNTAX;
    }

    i = 1;
    end = len - 1;
    o = 0;

    while (i < end) {
        q = memchr(p + i, '\\', end - i);
        run = (q != NULL) ? (size_t) (q - p) - i : end - i;

        if (dst_cap - o < run) {
            return XF_ERR_BUFFER;
        }

        memcpy(dst + o, p + i, run);
        o += run;
        i += run;

        if (q == NULL) {
            break;
        }

        /* bounded by end: an escape cannot take the closing quote */

        rc = xf_json_string_unescape_one(p, end, &i, buf, &n);
        if (rc != XF_OK) {
            return rc;
        }

        if (dst_cap - o < n) {
            return XF_ERR_BUFFER;
        }

        memcpy(dst + o, buf, n);
        o += n;
    }

    *dst_len = o;

    return XF_OK;
}


size_t
xf_json_escape(u_char *dst, const u_char *src, size_t len)
{
    u_char   c, *d;
    size_t   i, n, bad;

    static const u_char  hex[] = "0123456789abcdef";

    d = dst;
    i = 0;

    while (i < len) {

        while (len - i >= 8 && !xf_json_plain8(src + i)) {
            memcpy(d, src + i, 8);
            d += 8;
            i += 8;
        }

        if (i == len) {
            break;
        }

        c = src[i];

        switch (xf_json_str_class[c]) {

        case XF_STR_PLAIN:
            *d++ = c;
            i++;
            break;

        case XF_STR_QUOTE:
        case XF_STR_ESCAPE:
            *d++ = '\\';
            *d++ = c;
            i++;
            break;

        case XF_STR_CTRL:
            *d++ = '\\';

            switch (c) {
            case '\b': *d++ = 'b'; break;
            case '\f': *d++ = 'f'; break;
            case '\n': *d++ = 'n'; break;
            case '\r': *d++ = 'r'; break;
            case '\t': *d++ = 't'; break;
            default:
                *d++ = 'u';
                *d++ = '0';
                *d++ = '0';
                *d++ = hex[c >> 4];
                *d++ = hex[c & 0xF];
            }

            i++;
            break;

        default:
            n = xf_json_utf8(src + i, len - i, &bad);

            if (n) {
                memcpy(d, src + i, n);
                d += n;
                i += n;
                break;
            }

            /*
             * One U+FFFD per maximal ill-formed subpart (a lead byte and
             * the continuation bytes that fit it), as Unicode recommends.
             */

            *d++ = 0xEF;
            *d++ = 0xBF;
            *d++ = 0xBD;
            i += bad ? bad : 1;
        }
    }

    return d - dst;
}
