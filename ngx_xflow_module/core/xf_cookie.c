/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_cookie.c - Cookie header parsing and the "cookies" member.
 *
 * One pass over the header; the only state kept across pairs is the list
 * of names already written, for "first one wins", bounded by
 * XF_COOKIE_REFS_MAX.
 */

#include <string.h>

#include "xf_cookie.h"
#include "xf_json.h"


#define xf_cookie_ws(c)  ((c) == ' ' || (c) == '\t')


const char *
xf_cookie_pattern(xf_cookie_pattern_t *pat, const u_char *p, size_t len)
{
    size_t  i;
    u_char  c;

    pat->name = p;
    pat->prefix = 0;

    if (len && p[len - 1] == '*') {
        pat->prefix = 1;
        len--;
    }

    pat->len = len;

    if (len == 0) {
        return "cookie name is empty";
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c <= 0x20 || c == 0x7f || c == '"' || c == ',' || c == ';'
            || c == '=' || c == '\\')
        {
            return "cookie name holds a byte a cookie name cannot";
        }

        if (c == '*') {
            return "'*' may only end a cookie name";
        }
    }

    return NULL;
}


int
xf_cookie_next(const u_char **pos, const u_char *end, xf_cookie_t *c)
{
    const u_char  *p, *s, *e, *eq;

    p = *pos;

    while (p < end) {

        /* one pair: s..e, without the spaces around it */

        s = p;
        e = memchr(p, ';', end - p);

        if (e == NULL) {
            e = end;
            p = end;

        } else {
            p = e + 1;
        }

        while (s < e && xf_cookie_ws(*s)) {
            s++;
        }

        while (e > s && xf_cookie_ws(e[-1])) {
            e--;
        }

        if (s == e) {
            continue;
        }

        eq = memchr(s, '=', e - s);

        if (eq == NULL) {
            c->name = s;
            c->name_len = 0;
            c->value = s;
            c->value_len = e - s;

        } else {
            c->name = s;
            c->name_len = eq - s;
            c->value = eq + 1;
            c->value_len = e - (eq + 1);

            while (c->name_len && xf_cookie_ws(s[c->name_len - 1])) {
                c->name_len--;
            }

            while (c->value_len && xf_cookie_ws(*c->value)) {
                c->value++;
                c->value_len--;
            }
        }

        *pos = p;
        return 1;
    }

    *pos = end;
    return 0;
}


int
xf_cookie_match(const xf_cookie_pattern_t *pats, size_t npats,
    const u_char *name, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < npats; i++) {
        if (pats[i].prefix) {
            if (len >= pats[i].len
                && memcmp(name, pats[i].name, pats[i].len) == 0)
            {
                return 1;
            }

        } else if (len == pats[i].len
                   && memcmp(name, pats[i].name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
xf_cookie_keep(const xf_cookie_pattern_t *pats, size_t npats,
    size_t max_refs, const xf_cookie_t *c, xf_cookie_t *kept, size_t *n)
{
    size_t  i;

    if (max_refs > XF_COOKIE_REFS_MAX) {
        max_refs = XF_COOKIE_REFS_MAX;
    }

    if (*n >= max_refs || !xf_cookie_match(pats, npats, c->name, c->name_len))
    {
        return 0;
    }

    for (i = 0; i < *n; i++) {
        if (kept[i].name_len == c->name_len
            && memcmp(kept[i].name, c->name, c->name_len) == 0)
        {
            /* the first cookie of a name wins */
            return 0;
        }
    }

    kept[(*n)++] = *c;

    return 1;
}


xf_status_t
xf_cookie_render(xf_hashref_t *h, const xf_cookie_t *kept, size_t n,
    u_char *dst, size_t cap, size_t *out_len)
{
    size_t          i, o, need;
    xf_status_t     rc;

    static const char  head[] = ",\"cookies\":{";

    *out_len = 0;

    if (n == 0) {
        return XF_OK;
    }

    o = sizeof(head) - 1;

    for (i = 0; i < n; i++) {

        /* "NAME":"REF" plus the comma or brace after it */

        need = 2 + xf_json_escape_bound(kept[i].name_len) + 3
               + XF_HASHREF_LEN + 2;

        if (cap < o + need) {
            return XF_ERR_BUFFER;
        }

        if (i > 0) {
            dst[o++] = ',';
        }

        dst[o++] = '"';
        o += xf_json_escape(dst + o, kept[i].name, kept[i].name_len);
        dst[o++] = '"';
        dst[o++] = ':';
        dst[o++] = '"';

        rc = xf_hashref_cookie(h, kept[i].name, kept[i].name_len,
                               kept[i].value, kept[i].value_len, dst + o);
        if (rc != XF_OK) {
            return rc;
        }

        o += XF_HASHREF_LEN;
        dst[o++] = '"';
    }

    /* room for the brace was checked with the last reference */

    memcpy(dst, head, sizeof(head) - 1);
    dst[o++] = '}';
    *out_len = o;

    return XF_OK;
}


xf_status_t
xf_cookie_member(xf_hashref_t *h, const xf_cookie_pattern_t *pats,
    size_t npats, size_t max_refs, const u_char *p, size_t len, u_char *dst,
    size_t cap, size_t *out_len)
{
    size_t          n;
    xf_cookie_t     c;
    const u_char   *pos, *end;
    xf_cookie_t     kept[XF_COOKIE_REFS_MAX];

    if (max_refs > XF_COOKIE_REFS_MAX) {
        max_refs = XF_COOKIE_REFS_MAX;
    }

    n = 0;
    pos = p;
    end = p + len;

    while (n < max_refs && xf_cookie_next(&pos, end, &c)) {
        (void) xf_cookie_keep(pats, npats, max_refs, &c, kept, &n);
    }

    return xf_cookie_render(h, kept, n, dst, cap, out_len);
}
