/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_json_impl.h - private to the JSON files: the byte classes of string
 * bodies, the word-at-a-time helpers, the scanner and what the splitter
 * captures while it runs.
 */

#ifndef XF_JSON_IMPL_H
#define XF_JSON_IMPL_H

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


/* xf_json.c: the class of every byte inside a string body */
extern const u_char  xf_json_str_class[256];


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


/* 8 bytes, p[0] the least significant, so borrows run towards p[7]. */
static inline uint64_t
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


/*
 * The bytes among the 8 at p that are not printable ASCII other than "
 * and \, as the high bit of each.  A borrow can flag a byte after the
 * first special one wrongly, never the first one itself, nor a special
 * byte as plain: 0 means all 8 are plain, and the lowest flag is exact.
 */
static inline uint64_t
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


/* The index of the first flagged byte of a non-zero mask of 8 bytes. */
static inline size_t
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



/* xf_json.c */

/*
 * Check the UTF-8 sequence whose lead byte (80..FF) is p[0], with avail
 * bytes available.  Returns its length, or 0 with *bad set to the index
 * of the first byte that is not part of a well-formed prefix (0 for a
 * byte that cannot lead; avail when the input ends inside the sequence).
 */
size_t xf_json_utf8(const u_char *p, size_t avail, size_t *bad);

/*
 * The scanner: one value starting exactly at p[*pos], with at most
 * max_depth (<= XF_JSON_DEPTH_MAX) containers open at once.  On XF_OK
 * *pos is just past the value; on error it is the offending byte.  With
 * cap, the wanted members of a top-level object are recorded in it.
 */
xf_status_t xf_json_scan(const u_char *p, size_t len, size_t *pos,
    unsigned max_depth, xf_json_capture_t *cap);


/* xf_json_split.c: a member name at the event's top level */
void xf_json_split_capture_name(xf_json_capture_t *cap, const u_char *p,
    size_t name, size_t end, size_t value);


/* xf_json_string.c */

/*
 * Decode the escape at p[*pos] (a backslash) into out (4 bytes of room).
 * On XF_OK *pos is just past the escape (past both halves of a surrogate
 * pair); on error *pos is the offset of the offending byte.  A high
 * surrogate not followed by a \u low surrogate, or a low surrogate on its
 * own, is XF_ERR_JSON_UTF8: it has no UTF-8 form.
 */
xf_status_t xf_json_string_unescape_one(const u_char *p, size_t len,
    size_t *pos, u_char *out, size_t *out_len);


/* xf_json_lookup.c: a member name (body without quotes) against key,
 * after unescaping */
int xf_json_lookup_name_eq(const u_char *name, size_t n, int escaped,
    const u_char *key, size_t key_len);

#endif /* XF_JSON_IMPL_H */
