/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_form.c - form and query-string fields, percent-decoding.
 */

#include <string.h>

#include "xf_form.h"


/* Hex digit values; 0xFF for anything else. */
static const u_char  xf_form_hex[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16
};

/* The table stores value + 1 so that zero means "not a hex digit". */
#define xf_form_hexval(c)  (xf_form_hex[(u_char) (c)] - 1)
#define xf_form_ishex(c)   (xf_form_hex[(u_char) (c)] != 0)


/* Bytes a browser leaves as they are in a form value. */
static const u_char  xf_form_plain[256] = {
    ['*'] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1
};


static xf_status_t xf_form_check(const u_char *p, size_t len);


/*
 * The byte src[*i] and what follows it stand for, with *i moved past
 * them: a "%XY" escape, a '+' as a space when plus is set (form values,
 * not paths), any other byte as it is.  -1 for a '%' not followed by two
 * hex digits before len.
 */
static int
xf_form_byte(const u_char *src, size_t len, size_t *i, int plus)
{
    size_t  j;

    j = *i;

    if (src[j] == '%') {
        if (len - j < 3 || !xf_form_ishex(src[j + 1])
            || !xf_form_ishex(src[j + 2]))
        {
            return -1;
        }

        *i = j + 3;

        return xf_form_hexval(src[j + 1]) << 4 | xf_form_hexval(src[j + 2]);
    }

    *i = j + 1;

    return (plus && src[j] == '+') ? ' ' : src[j];
}


xf_status_t
xf_form_next(const u_char **pos, const u_char *end, xf_form_field_t *f)
{
    const u_char  *p, *amp, *eq;

    p = *pos;

    /* Skip empty fields. */

    while (p < end && *p == '&') {
        p++;
    }

    if (p >= end) {
        *pos = end;
        return XF_ERR_EMPTY;
    }

    amp = memchr(p, '&', end - p);
    if (amp == NULL) {
        amp = end;
    }

    eq = memchr(p, '=', amp - p);

    f->name = p;

    if (eq == NULL) {
        f->name_len = amp - p;
        f->value = amp;
        f->value_len = 0;

    } else {
        f->name_len = eq - p;
        f->value = eq + 1;
        f->value_len = amp - (eq + 1);
    }

    *pos = amp;

    return XF_OK;
}


xf_status_t
xf_form_validate(const u_char *p, size_t len)
{
    return xf_form_check(p, len);
}


static xf_status_t
xf_form_check(const u_char *p, size_t len)
{
    size_t         n;
    const u_char  *pct, *end;

    if (len == 0) {
        /* p may be NULL (no query): memchr must not see it */
        return XF_OK;
    }

    end = p + len;

    while ((pct = memchr(p, '%', end - p)) != NULL) {
        n = 0;

        if (xf_form_byte(pct, end - pct, &n, 0) < 0) {
            return XF_ERR_FORM;
        }

        p = pct + n;
    }

    return XF_OK;
}


xf_status_t
xf_form_get(const u_char *p, size_t len, const char *key, size_t key_len,
    xf_form_field_t *f)
{
    int               found;
    const u_char     *pos, *end;
    xf_form_field_t   cur;

    if (len == 0) {
        /* p may be NULL (no query) */
        return XF_ERR_EMPTY;
    }

    found = 0;
    pos = p;
    end = p + len;

    while (xf_form_next(&pos, end, &cur) == XF_OK) {

        if (xf_form_check(cur.name, cur.name_len) != XF_OK) {
            return XF_ERR_FORM;
        }

        if (!xf_form_name_is(cur.name, cur.name_len, key, key_len)) {
            continue;
        }

        if (found) {
            return XF_ERR_FORM;
        }

        *f = cur;
        found = 1;
    }

    return found ? XF_OK : XF_ERR_EMPTY;
}


int
xf_form_name_is(const u_char *name, size_t name_len, const char *key,
    size_t key_len)
{
    int     c;
    size_t  i, k;

    i = 0;

    for (k = 0; i < name_len; k++) {
        c = xf_form_byte(name, name_len, &i, 1);

        if (c < 0 || k == key_len || (u_char) key[k] != c) {
            return 0;
        }
    }

    return k == key_len;
}


int
xf_form_is_encoded(const u_char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (src[i] == '%' || src[i] == '+') {
            return 1;
        }
    }

    return 0;
}


xf_status_t
xf_form_decode(const u_char *src, size_t len, unsigned flags, u_char *dst,
    size_t *dst_len)
{
    int     c;
    size_t  i, o;

    i = 0;
    o = 0;

    while (i < len) {
        c = xf_form_byte(src, len, &i, !(flags & XF_FORM_PLUS_KEEP));
        if (c < 0) {
            return XF_ERR_FORM;
        }

        dst[o++] = (u_char) c;
    }

    *dst_len = o;

    return XF_OK;
}


size_t
xf_form_encode(u_char *dst, const u_char *src, size_t len)
{
    size_t             i, o;
    static const char  hex[] = "0123456789ABCDEF";

    o = 0;

    for (i = 0; i < len; i++) {
        if (xf_form_plain[src[i]]) {
            dst[o++] = src[i];

        } else if (src[i] == ' ') {
            dst[o++] = '+';

        } else {
            dst[o++] = '%';
            dst[o++] = hex[src[i] >> 4];
            dst[o++] = hex[src[i] & 0x0F];
        }
    }

    return o;
}
