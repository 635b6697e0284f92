/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_time.c - an event's times, read from the fields its format keeps
 * them in and rewritten in the kind they came in, and placeholder
 * distinct ids (xf_hygiene.h).
 */

#include <stdio.h>
#include <string.h>

#include "xf_hygiene.h"
#include "xf_json.h"


const char *const  xf_placeholder_ids[] = {
    "anonymous", "guest", "distinctid", "distinct_id", "id",
    "not_authenticated", "email", "undefined", "true", "false", "null",
    "none", "nil", "nan", "[object object]", "0", "-1", "user", "visitor",
    "unknown", NULL
};


/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Hinnant's). */
static int64_t
xf_time_days(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


static int
xf_time_digits(const u_char *p, size_t n, unsigned *v)
{
    size_t  i;

    *v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        *v = *v * 10 + (p[i] - '0');
    }

    return 1;
}


/* "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)" */
static xf_status_t
xf_time_iso(const u_char *p, size_t len, int64_t *ms)
{
    size_t    i, nf;
    int64_t   off;
    unsigned  y, mo, d, h, mi, s, oh, om, frac;

    if (len < 20
        || !xf_time_digits(p, 4, &y) || p[4] != '-'
        || !xf_time_digits(p + 5, 2, &mo) || p[7] != '-'
        || !xf_time_digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != ' ')
        || !xf_time_digits(p + 11, 2, &h) || p[13] != ':'
        || !xf_time_digits(p + 14, 2, &mi) || p[16] != ':'
        || !xf_time_digits(p + 17, 2, &s)
        || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || s > 60)
    {
        return XF_ERR_EMPTY;
    }

    i = 19;
    frac = 0;
    nf = 0;

    if (i < len && p[i] == '.') {
        for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++, nf++) {
            if (nf < 3) {
                frac = frac * 10 + (p[i] - '0');
            }
        }

        if (nf == 0) {
            return XF_ERR_EMPTY;
        }

        for ( ; nf < 3; nf++) {
            frac *= 10;
        }
    }

    off = 0;

    if (i + 1 == len && (p[i] == 'Z' || p[i] == 'z')) {
        /* UTC */

    } else if (i + 6 == len && (p[i] == '+' || p[i] == '-')
               && xf_time_digits(p + i + 1, 2, &oh) && p[i + 3] == ':'
               && xf_time_digits(p + i + 4, 2, &om) && oh < 24 && om < 60)
    {
        off = ((int64_t) oh * 60 + om) * 60000;
        off = p[i] == '+' ? -off : off;

    } else {
        return XF_ERR_EMPTY;
    }

    *ms = ((xf_time_days(y, mo, d) * 24 + h) * 60 + mi) * 60000
          + (int64_t) s * 1000 + frac + off;

    return XF_OK;
}


/* A JSON number's integer part (a fraction is dropped); 0 on junk. */
static int
xf_time_number(const u_char *p, size_t len, int64_t *v)
{
    size_t   i;
    int      neg;

    neg = len && p[0] == '-';
    *v = 0;

    for (i = neg; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        if (*v > 100000000000000000LL) {
            return 0;
        }

        *v = *v * 10 + (p[i] - '0');
    }

    if (i == (size_t) neg || (i < len && p[i] != '.')) {
        return 0;
    }

    *v = neg ? -*v : *v;

    return 1;
}


/*
 * The member at a dotted path ("properties.time") of the validated object
 * p..len: its span relative to p.  XF_ERR_EMPTY for none, or a path
 * through a value that is no object.
 */
static xf_status_t
xf_time_path(const u_char *p, size_t len, const char *path,
    xf_json_span_t *v)
{
    size_t       base, klen;
    const char  *dot;

    base = 0;

    for ( ;; ) {
        dot = strchr(path, '.');
        klen = dot ? (size_t) (dot - path) : strlen(path);

        if (xf_json_object_get(p + base, len, path, klen, v) != XF_OK) {
            return XF_ERR_EMPTY;
        }

        v->off += base;

        if (dot == NULL) {
            return XF_OK;
        }

        if (v->type != XF_JSON_OBJECT) {
            return XF_ERR_EMPTY;
        }

        base = v->off;
        len = v->len;
        path = dot + 1;
    }
}


/* One time value, a span of the event, as milliseconds. */
static xf_status_t
xf_time_value(const u_char *s, const xf_json_span_t *v, int64_t *ms)
{
    int64_t  n;

    if (v->type == XF_JSON_NUMBER) {
        if (!xf_time_number(s, v->len, &n)) {
            return XF_ERR_EMPTY;
        }

        *ms = (n < 100000000000LL && n > -100000000000LL) ? n * 1000 : n;
        return XF_OK;
    }

    if (v->type != XF_JSON_STRING || v->len < 3) {
        return XF_ERR_EMPTY;
    }

    if (xf_time_number(s + 1, v->len - 2, &n)
        && memchr(s + 1, '.', v->len - 2) == NULL)
    {
        *ms = n;
        return XF_OK;
    }

    return xf_time_iso(s + 1, v->len - 2, ms);
}


size_t
xf_time_fields(xf_format_t f, const u_char *p, size_t len,
    xf_time_field_t *t)
{
    size_t              n;
    xf_json_span_t      v;
    const char *const  *path;

    n = 0;

    for (path = xf_format_times(f); *path && n < XF_TIME_FIELDS; path++) {
        if (xf_time_path(p, len, *path, &v) == XF_OK
            && xf_time_value(p + v.off, &v, &t[n].ms) == XF_OK)
        {
            t[n].off = v.off;
            t[n].len = v.len;
            n++;
        }
    }

    return n;
}


size_t
xf_time_clamp(const u_char *p, size_t len, const xf_time_field_t *t,
    size_t n, int64_t limit, int64_t now, u_char *dst)
{
    size_t                  i, j, pos;
    u_char                 *d;
    const xf_time_field_t  *by[XF_TIME_FIELDS], *x;

    /* the fields in the order of their bytes */
    n = n < XF_TIME_FIELDS ? n : XF_TIME_FIELDS;

    for (i = 0; i < n; i++) {
        x = &t[i];

        for (j = i; j > 0 && by[j - 1]->off > x->off; j--) {
            by[j] = by[j - 1];
        }

        by[j] = x;
    }

    d = dst;
    pos = 0;

    for (i = 0; i < n; i++) {
        x = by[i];

        if (x->ms <= limit || x->off < pos) {
            continue;
        }

        memcpy(d, p + pos, x->off - pos);
        d += x->off - pos;
        d += xf_time_render(p + x->off, x->len, now, d);
        pos = x->off + x->len;
    }

    memcpy(d, p + pos, len - pos);

    return (size_t) (d - dst) + len - pos;
}


size_t
xf_time_render(const u_char *orig, size_t orig_len, int64_t ms, u_char *dst)
{
    int64_t   days, rem, z, era, y;
    unsigned  doe, yoe, doy, mp, d, m;
    int64_t   v;

    if (orig[0] != '"') {
        /* a number: seconds stay seconds */
        if (xf_time_number(orig, orig_len, &v)
            && v < 100000000000LL && v > -100000000000LL)
        {
            return (size_t) sprintf((char *) dst, "%lld",
                                    (long long) (ms / 1000));
        }

        return (size_t) sprintf((char *) dst, "%lld", (long long) ms);
    }

    if (orig_len > 2 && xf_time_number(orig + 1, orig_len - 2, &v)) {
        return (size_t) sprintf((char *) dst, "\"%lld\"", (long long) ms);
    }

    /* ISO 8601 in UTC (Hinnant's civil_from_days) */
    days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    rem = ms - days * 86400000;

    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned) (z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t) yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;

    return (size_t) sprintf((char *) dst,
                            "\"%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ\"",
                            (long long) y, m, d,
                            (unsigned) (rem / 3600000),
                            (unsigned) (rem / 60000 % 60),
                            (unsigned) (rem / 1000 % 60),
                            (unsigned) (rem % 1000));
}


int
xf_placeholder_id(const xf_str_t *id, const xf_str_t *list, size_t n)
{
    size_t         i, j, len;
    const u_char  *p;

    p = id->data;
    len = id->len;

    while (len && (*p == ' ' || *p == '"' || *p == '\'' || *p == '\t')) {
        p++;
        len--;
    }

    while (len && (p[len - 1] == ' ' || p[len - 1] == '"'
                   || p[len - 1] == '\'' || p[len - 1] == '\t'))
    {
        len--;
    }

    if (len == 0) {
        return 1;
    }

    for (i = 0; i < n; i++) {
        if (list[i].len != len) {
            continue;
        }

        for (j = 0; j < len; j++) {
            u_char  a = p[j], b = list[i].data[j];

            a = (a >= 'A' && a <= 'Z') ? a + 32 : a;
            b = (b >= 'A' && b <= 'Z') ? b + 32 : b;

            if (a != b) {
                break;
            }
        }

        if (j == len) {
            return 1;
        }
    }

    return 0;
}


int
xf_placeholder_other(xf_format_t f, const u_char *p, size_t len,
    const xf_str_t *list, size_t n, u_char *buf, xf_str_t *id)
{
    size_t              k;
    xf_json_span_t      v;
    const char *const  *path;

    for (path = xf_format_ids(f); *path; path++) {
        if (xf_time_path(p, len, *path, &v) != XF_OK
            || v.type != XF_JSON_STRING
            || xf_json_string_unescape(p + v.off, v.len, buf, len, &k)
               != XF_OK)
        {
            continue;
        }

        id->data = buf;
        id->len = k;

        if (!xf_placeholder_id(id, list, n)) {
            return 1;
        }
    }

    id->len = 0;

    return 0;
}
