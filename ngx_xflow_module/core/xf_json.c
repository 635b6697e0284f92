/*
 * xf_json.c - the validating JSON scanner.
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

#include <string.h>

#include "xf_json.h"


/* Classes of a byte inside a string body. */
#define XF_STR_PLAIN    0       /* 20..7F but " and \ */
#define XF_STR_QUOTE    1
#define XF_STR_ESCAPE   2
#define XF_STR_CTRL     3       /* 00..1F */
#define XF_STR_BAD      4       /* 80..C1, F5..FF: never a lead byte */
#define XF_STR_U2       5       /* C2..DF */
#define XF_STR_E0       6
#define XF_STR_U3       7       /* E1..EC, EE..EF */
#define XF_STR_ED       8
#define XF_STR_F0       9
#define XF_STR_U4       10      /* F1..F3 */
#define XF_STR_F4       11


static const u_char  xf_json_str_class[256] = {
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


#define XF_JSON_ONES   0x0101010101010101ULL
#define XF_JSON_HIGHS  0x8080808080808080ULL


#define XF_JSON_SPLIT_LENS  64

/*
 * Members of an event object looked for while it is validated (see
 * xf_json_split_t): the wanted names, their lengths as a bit set, where
 * the findings go, and the member whose value is being scanned.
 */
typedef struct {
    const xf_json_key_t  *keys;
    const uint32_t       *by_len;       /* [n]: the keys n bytes long */
    size_t                base;         /* the event's first byte */
    xf_json_span_t       *values;
    uint32_t              found;
    int                   pending;      /* keys[pending] is being scanned */
    size_t                vstart;
} xf_json_capture_t;


static size_t xf_json_ws(const u_char *p, size_t len, size_t pos);
static uint64_t xf_json_plain8(const u_char *p);
static uint64_t xf_json_load8(const u_char *p);
static size_t xf_json_first8(uint64_t m);
static size_t xf_json_utf8(const u_char *p, size_t avail, size_t *bad);
static xf_status_t xf_json_unescape_one(const u_char *p, size_t len,
    size_t *pos, u_char *out, size_t *out_len);
static xf_status_t xf_json_string(const u_char *p, size_t len, size_t *pos);
static xf_status_t xf_json_number(const u_char *p, size_t len, size_t *pos);
static xf_status_t xf_json_literal(const u_char *p, size_t len, size_t *pos,
    const char *lit, size_t n);
static xf_status_t xf_json_key(const u_char *p, size_t len, size_t *pos,
    size_t *name_end);
static xf_status_t xf_json_scan(const u_char *p, size_t len, size_t *pos,
    unsigned max_depth, xf_json_capture_t *cap);
static xf_json_type_t xf_json_type(u_char c);
static xf_status_t xf_json_push(xf_json_split_t *out, const xf_alloc_t *a,
    size_t off, size_t len, xf_json_type_t type,
    const xf_json_capture_t *cap);
static uint64_t xf_json_special8(const u_char *p);
static xf_json_capture_t *xf_json_capture_start(xf_json_split_t *out,
    xf_json_capture_t *cap, xf_json_span_t *values, const uint32_t *by_len,
    size_t start);
static xf_status_t xf_json_skip_string(const u_char *p, size_t len,
    size_t *pos, int *escaped);
static xf_status_t xf_json_skip_value(const u_char *p, size_t len,
    size_t *pos);
static void xf_json_capture_name(xf_json_capture_t *cap, const u_char *p,
    size_t name, size_t end, size_t value);
static int xf_json_name_eq(const u_char *name, size_t n, int escaped,
    const u_char *key, size_t key_len);


static size_t
xf_json_ws(const u_char *p, size_t len, size_t pos)
{
    while (pos < len
           && (p[pos] == ' ' || p[pos] == '\n' || p[pos] == '\r'
               || p[pos] == '\t'))
    {
        pos++;
    }

    return pos;
}


/*
 * The bytes among the 8 at p that are not printable ASCII other than "
 * and \, as the high bit of each.  A borrow can flag a byte after the
 * first special one wrongly, never the first one itself, nor a special
 * byte as plain: 0 means all 8 are plain, and the lowest flag is exact.
 */
static uint64_t
xf_json_plain8(const u_char *p)
{
    uint64_t  v, q, b, t;

    v = xf_json_load8(p);

    q = v ^ (XF_JSON_ONES * '"');
    b = v ^ (XF_JSON_ONES * '\\');

    t = ((q - XF_JSON_ONES) & ~q)
        | ((b - XF_JSON_ONES) & ~b)
        | (v - XF_JSON_ONES * 0x20)
        | v;

    return t & XF_JSON_HIGHS;
}


/* 8 bytes, p[0] the least significant, so borrows run towards p[7]. */
static uint64_t
xf_json_load8(const u_char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t  v;

    memcpy(&v, p, 8);

    return v;
#else
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
#endif
}


/* The index of the first flagged byte of a non-zero mask of 8 bytes. */
static size_t
xf_json_first8(uint64_t m)
{
#if defined(__GNUC__)
    return (size_t) __builtin_ctzll(m) >> 3;
#else
    size_t  i;

    for (i = 0; !(m & (0x80ULL << (8 * i))); i++) { /* void */ }

    return i;
#endif
}


/*
 * Check the UTF-8 sequence whose lead byte (80..FF) is p[0], with avail
 * bytes available.  Returns its length, or 0 with *bad set to the index
 * of the first byte that is not part of a well-formed prefix (0 for a
 * byte that cannot lead; avail when the input ends inside the sequence).
 */
static size_t
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


/*
 * Decode the escape at p[*pos] (a backslash) into out (4 bytes of room).
 * On XF_OK *pos is just past the escape (past both halves of a surrogate
 * pair); on error *pos is the offset of the offending byte.  A high
 * surrogate not followed by a \u low surrogate, or a low surrogate on its
 * own, is XF_ERR_JSON_UTF8: it has no UTF-8 form.
 */
static xf_status_t
xf_json_unescape_one(const u_char *p, size_t len, size_t *pos, u_char *out,
    size_t *out_len)
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
            rc = xf_json_unescape_one(p, len, &i, tmp, &n);
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


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static xf_status_t
xf_json_number(const u_char *p, size_t len, size_t *pos)
{
    size_t  i;

    i = *pos;

    if (p[i] == '-') {
        i++;
    }

    if (i < len && p[i] == '0') {
        i++;

    } else if (i < len && p[i] >= '1' && p[i] <= '9') {
        do {
            i++;
        } while (i < len && p[i] >= '0' && p[i] <= '9');

    } else {
        goto invalid;
    }

    if (i < len && p[i] == '.') {
        i++;

        if (i == len || p[i] < '0' || p[i] > '9') {
            goto invalid;
        }

        do {
            i++;
        } while (i < len && p[i] >= '0' && p[i] <= '9');
    }

    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;

        if (i < len && (p[i] == '+' || p[i] == '-')) {
            i++;
        }

        if (i == len || p[i] < '0' || p[i] > '9') {
            goto invalid;
        }

        do {
            i++;
        } while (i < len && p[i] >= '0' && p[i] <= '9');
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


/* A member name, the colon and the whitespace up to the value. */
static xf_status_t
xf_json_key(const u_char *p, size_t len, size_t *pos, size_t *name_end)
{
    size_t       i;
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

    *name_end = i;

    i = xf_json_ws(p, len, i);

    if (i == len || p[i] != ':') {
        *pos = i;
        return XF_ERR_JSON_SYNTAX;
    }

    *pos = xf_json_ws(p, len, i + 1);

    return XF_OK;
}


/*
 * The scanner: one value starting exactly at p[*pos], with at most
 * max_depth (<= XF_JSON_DEPTH_MAX) containers open at once.  On XF_OK
 * *pos is just past the value; on error it is the offending byte.
 */
static xf_status_t
xf_json_scan(const u_char *p, size_t len, size_t *pos, unsigned max_depth,
    xf_json_capture_t *cap)
{
    int          obj;
    u_char       c;
    size_t       i, name, name_end;
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
                obj = depth && (kinds[(depth - 1) >> 6]
                                >> ((depth - 1) & 63)) & 1;
                break;
            }

            if (obj) {
                name = i;

                rc = xf_json_key(p, len, &i, &name_end);
                if (rc != XF_OK) {
                    goto failed;
                }

                if (cap != NULL && depth == 1) {
                    xf_json_capture_name(cap, p, name, name_end, i);
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
                    name = i;

                    rc = xf_json_key(p, len, &i, &name_end);
                    if (rc != XF_OK) {
                        goto failed;
                    }

                    if (cap != NULL && depth == 1) {
                        xf_json_capture_name(cap, p, name, name_end, i);
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
            obj = depth && (kinds[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1;
        }
    }

failed:

    *pos = i;

    return rc;
}


static xf_json_type_t
xf_json_type(u_char c)
{
    switch (c) {
    case '{':
        return XF_JSON_OBJECT;
    case '[':
        return XF_JSON_ARRAY;
    case '"':
        return XF_JSON_STRING;
    case 't':
        return XF_JSON_TRUE;
    case 'f':
        return XF_JSON_FALSE;
    case 'n':
        return XF_JSON_NULL;
    default:
        return XF_JSON_NUMBER;
    }
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
static void
xf_json_capture_name(xf_json_capture_t *cap, const u_char *p, size_t name,
    size_t end, size_t value)
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

        if (xf_json_name_eq(p + name + 1, n, escaped,
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


/*
 * Skipping over input that has been validated already: no checks beyond
 * what it takes never to read outside p..len when it has not.
 */

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


static xf_status_t
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


/* A member name (body without quotes) against key, after unescaping. */
static int
xf_json_name_eq(const u_char *name, size_t n, int escaped, const u_char *key,
    size_t key_len)
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

        if (xf_json_unescape_one(name, n, &i, buf, &m) != XF_OK
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
                && xf_json_name_eq(p + name + 1, n, escaped,
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

        rc = xf_json_unescape_one(p, end, &i, buf, &n);
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
