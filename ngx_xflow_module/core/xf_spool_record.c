/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_record.c - encoding and decoding of spool records (their
 * checksum is xf_crc32c.c).
 *
 * Decoding reads the buffer through a cursor that checks every length
 * against what is left before it moves: a length field is a claim to be
 * checked, never an offset to be used.
 */

#include <string.h>

#include "xf_spool_record.h"


typedef struct {
    const u_char  *p;
    const u_char  *end;
} xf_spool_cur_t;


static uint32_t xf_spool_get32(const u_char *p);
static void xf_spool_put16(u_char *p, uint32_t v);
static void xf_spool_put32(u_char *p, uint32_t v);
static void xf_spool_put64(u_char *p, uint64_t v);
static int xf_spool_cur_int(xf_spool_cur_t *c, size_t n, uint64_t *v);
static int xf_spool_cur_bytes(xf_spool_cur_t *c, size_t n,
    const u_char **p);
static int xf_spool_cur_opt(xf_spool_cur_t *c, const u_char **p,
    size_t *len);
static xf_spool_rc_t xf_spool_record_measure(const xf_spool_record_t *r,
    size_t *n);
static xf_spool_rc_t xf_spool_record_body(const u_char *p, size_t len,
    xf_spool_record_t *r);


static const char *xf_spool_rc_names[XF_SPOOL_RC_MAX] = {
    [XF_SPOOL_OK]        = "ok",
    [XF_SPOOL_NEED_MORE] = "need_more",
    [XF_SPOOL_CORRUPT]   = "corrupt",
    [XF_SPOOL_TOO_LARGE] = "too_large",
    [XF_SPOOL_INVALID]   = "invalid",
    [XF_SPOOL_BUFFER]    = "buffer_too_small",
    [XF_SPOOL_EMPTY]     = "empty",
    [XF_SPOOL_AGAIN]     = "again",
    [XF_SPOOL_IO]        = "io_error",
    [XF_SPOOL_NOMEM]     = "out_of_memory",
};


const char *
xf_spool_strerror(xf_spool_rc_t rc)
{
    if ((unsigned) rc >= XF_SPOOL_RC_MAX || xf_spool_rc_names[rc] == NULL) {
        return "unknown";
    }

    return xf_spool_rc_names[rc];
}


/* ------------------------------------------------------------ bytes */

static uint32_t
xf_spool_get32(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static void
xf_spool_put16(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
}


static void
xf_spool_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
    p[2] = (u_char) (v >> 16);
    p[3] = (u_char) (v >> 24);
}


static void
xf_spool_put64(u_char *p, uint64_t v)
{
    xf_spool_put32(p, (uint32_t) v);
    xf_spool_put32(p + 4, (uint32_t) (v >> 32));
}


/*
 * A key, header value or value: its 32-bit length, XF_SPOOL_NULL_LEN for
 * none at all (NULL, unlike an empty one), then its bytes.  Returns the
 * byte after them.
 */
static u_char *
xf_spool_put_bytes(u_char *p, const void *v, size_t len)
{
    xf_spool_put32(p, v ? (uint32_t) len : XF_SPOOL_NULL_LEN);
    p += 4;

    if (len) {
        memcpy(p, v, len);
        p += len;
    }

    return p;
}


/* ----------------------------------------------------------- encode */

/*
 * The encoded size of r in *n, or why r cannot be encoded: INVALID for a
 * malformed record, TOO_LARGE for one over XF_SPOOL_RECORD_MAX.
 */

static xf_spool_rc_t
xf_spool_record_measure(const xf_spool_record_t *r, size_t *n)
{
    size_t                    i;
    uint64_t                  total;
    const xf_spool_header_t  *h;

    if (r->topic == NULL || r->topic_len == 0
        || r->topic_len > XF_SPOOL_TOPIC_MAX
        || r->nheaders > XF_SPOOL_MAX_HEADERS
        || (r->key == NULL && r->key_len != 0)
        || (r->value == NULL && r->value_len != 0))
    {
        return XF_SPOOL_INVALID;
    }

    for (i = 0; i < r->nheaders; i++) {
        h = &r->headers[i];

        if (h->name_len > 0xffff
            || (h->name == NULL && h->name_len != 0)
            || (h->value == NULL && h->value_len != 0))
        {
            return XF_SPOOL_INVALID;
        }
    }

    /*
     * Sum in 64 bits after capping each term at XF_SPOOL_RECORD_MAX: at
     * most 70 terms, no overflow even where size_t is 32 bits wide.
     */

    if (r->key_len > XF_SPOOL_RECORD_MAX
        || r->value_len > XF_SPOOL_RECORD_MAX)
    {
        return XF_SPOOL_TOO_LARGE;
    }

    total = XF_SPOOL_RECORD_HEADER + 8 + 4 + 2 + (uint64_t) r->topic_len
            + 4 + (uint64_t) r->key_len + 2 + 4 + (uint64_t) r->value_len;

    for (i = 0; i < r->nheaders; i++) {
        h = &r->headers[i];

        if (h->value_len > XF_SPOOL_RECORD_MAX) {
            return XF_SPOOL_TOO_LARGE;
        }

        total += 2 + (uint64_t) h->name_len + 4 + (uint64_t) h->value_len;
    }

    if (total > XF_SPOOL_RECORD_MAX) {
        return XF_SPOOL_TOO_LARGE;
    }

    *n = (size_t) total;

    return XF_SPOOL_OK;
}


size_t
xf_spool_record_size(const xf_spool_record_t *r)
{
    size_t  n;

    if (xf_spool_record_measure(r, &n) != XF_SPOOL_OK) {
        return 0;
    }

    return n;
}


xf_spool_rc_t
xf_spool_record_encode(const xf_spool_record_t *r, u_char *buf, size_t size,
    size_t *len)
{
    size_t                    n, i;
    u_char                   *p;
    xf_spool_rc_t             rc;
    const xf_spool_header_t  *h;

    rc = xf_spool_record_measure(r, &n);
    if (rc != XF_SPOOL_OK) {
        return rc;
    }

    if (size < n) {
        return XF_SPOOL_BUFFER;
    }

    p = buf + XF_SPOOL_RECORD_HEADER;

    xf_spool_put64(p, r->timestamp);
    xf_spool_put32(p + 8, r->attempt);
    xf_spool_put16(p + 12, (uint32_t) r->topic_len);
    p += 14;
    memcpy(p, r->topic, r->topic_len);
    p += r->topic_len;

    p = xf_spool_put_bytes(p, r->key, r->key_len);

    xf_spool_put16(p, (uint32_t) r->nheaders);
    p += 2;

    for (i = 0; i < r->nheaders; i++) {
        h = &r->headers[i];

        xf_spool_put16(p, (uint32_t) h->name_len);
        p += 2;

        if (h->name_len) {
            memcpy(p, h->name, h->name_len);
            p += h->name_len;
        }

        p = xf_spool_put_bytes(p, h->value, h->value_len);
    }

    (void) xf_spool_put_bytes(p, r->value, r->value_len);

    memcpy(buf, XF_SPOOL_RECORD_MAGIC, 4);
    buf[4] = XF_SPOOL_RECORD_VERSION;
    buf[5] = 0;
    buf[6] = 0;
    buf[7] = 0;
    xf_spool_put32(buf + 8, (uint32_t) n);
    xf_spool_put32(buf + 12, xf_crc32c(0, buf + XF_SPOOL_RECORD_HEADER,
                                       n - XF_SPOOL_RECORD_HEADER));
    xf_spool_put32(buf + 16, xf_crc32c(0, buf, 16));

    *len = n;

    return XF_SPOOL_OK;
}


/* ----------------------------------------------------------- decode */

/* Read an n-byte little-endian integer (n <= 8) if n bytes are left. */

static int
xf_spool_cur_int(xf_spool_cur_t *c, size_t n, uint64_t *v)
{
    size_t  i;

    if ((size_t) (c->end - c->p) < n) {
        return 0;
    }

    *v = 0;

    for (i = 0; i < n; i++) {
        *v |= (uint64_t) c->p[i] << (8 * i);
    }

    c->p += n;

    return 1;
}


static int
xf_spool_cur_bytes(xf_spool_cur_t *c, size_t n, const u_char **p)
{
    if ((size_t) (c->end - c->p) < n) {
        return 0;
    }

    *p = c->p;
    c->p += n;

    return 1;
}


/* A 32-bit length and that many bytes, or the NULL marker. */

static int
xf_spool_cur_opt(xf_spool_cur_t *c, const u_char **p, size_t *len)
{
    uint64_t  n;

    if (!xf_spool_cur_int(c, 4, &n)) {
        return 0;
    }

    if (n == XF_SPOOL_NULL_LEN) {
        *p = NULL;
        *len = 0;
        return 1;
    }

    *len = (size_t) n;

    return xf_spool_cur_bytes(c, *len, p);
}


static xf_spool_rc_t
xf_spool_record_body(const u_char *p, size_t len, xf_spool_record_t *r)
{
    size_t              i;
    uint64_t            v;
    xf_spool_cur_t      c;
    xf_spool_header_t  *h;

    c.p = p;
    c.end = p + len;

    if (!xf_spool_cur_int(&c, 8, &v)) {
        return XF_SPOOL_CORRUPT;
    }

    r->timestamp = v;

    if (!xf_spool_cur_int(&c, 4, &v)) {
        return XF_SPOOL_CORRUPT;
    }

    r->attempt = (uint32_t) v;

    if (!xf_spool_cur_int(&c, 2, &v)
        || v == 0 || v > XF_SPOOL_TOPIC_MAX
        || !xf_spool_cur_bytes(&c, (size_t) v, &r->topic))
    {
        return XF_SPOOL_CORRUPT;
    }

    r->topic_len = (size_t) v;

    if (!xf_spool_cur_opt(&c, &r->key, &r->key_len)) {
        return XF_SPOOL_CORRUPT;
    }

    if (!xf_spool_cur_int(&c, 2, &v) || v > XF_SPOOL_MAX_HEADERS) {
        return XF_SPOOL_CORRUPT;
    }

    r->nheaders = (size_t) v;

    for (i = 0; i < r->nheaders; i++) {
        h = &r->headers[i];

        if (!xf_spool_cur_int(&c, 2, &v)
            || !xf_spool_cur_bytes(&c, (size_t) v, &h->name))
        {
            return XF_SPOOL_CORRUPT;
        }

        h->name_len = (size_t) v;

        if (!xf_spool_cur_opt(&c, &h->value, &h->value_len)) {
            return XF_SPOOL_CORRUPT;
        }
    }

    if (!xf_spool_cur_opt(&c, &r->value, &r->value_len)) {
        return XF_SPOOL_CORRUPT;
    }

    /* one record, one encoding: nothing may follow the value */

    if (c.p != c.end) {
        return XF_SPOOL_CORRUPT;
    }

    return XF_SPOOL_OK;
}


xf_spool_rc_t
xf_spool_record_decode(const u_char *p, size_t len, size_t max,
    xf_spool_record_t *r, size_t *size)
{
    size_t    i, n;
    uint32_t  total;

    static const u_char  head[8] = { 'X', 'F', 'S', 'R',
                                     XF_SPOOL_RECORD_VERSION, 0, 0, 0 };

    *size = 0;

    if (max == 0 || max > XF_SPOOL_RECORD_MAX) {
        max = XF_SPOOL_RECORD_MAX;
    }

    /*
     * A short buffer is a torn tail only if what it holds can begin a
     * record: the fixed bytes must match as far as they go.
     */

    n = xf_min(len, sizeof(head));

    for (i = 0; i < n; i++) {
        if (p[i] != head[i]) {
            return XF_SPOOL_CORRUPT;
        }
    }

    if (len < XF_SPOOL_RECORD_HEADER) {
        *size = XF_SPOOL_RECORD_HEADER;
        return XF_SPOOL_NEED_MORE;
    }

    if (xf_crc32c(0, p, 16) != xf_spool_get32(p + 16)) {
        return XF_SPOOL_CORRUPT;
    }

    total = xf_spool_get32(p + 8);

    if (total < XF_SPOOL_RECORD_MIN || total > max) {
        return XF_SPOOL_CORRUPT;
    }

    if (len < total) {
        *size = total;
        return XF_SPOOL_NEED_MORE;
    }

    /* the whole record is here */

    if (xf_crc32c(0, p + XF_SPOOL_RECORD_HEADER,
                  total - XF_SPOOL_RECORD_HEADER)
        != xf_spool_get32(p + 12))
    {
        return XF_SPOOL_CORRUPT;
    }

    if (xf_spool_record_body(p + XF_SPOOL_RECORD_HEADER,
                             total - XF_SPOOL_RECORD_HEADER, r)
        != XF_SPOOL_OK)
    {
        return XF_SPOOL_CORRUPT;
    }

    *size = total;

    return XF_SPOOL_OK;
}


xf_spool_rc_t
xf_spool_record_scan(const u_char *p, size_t len, size_t max, size_t *good,
    uint64_t *records)
{
    size_t             off, n;
    xf_spool_rc_t      rc;
    xf_spool_record_t  r;

    off = 0;
    *records = 0;

    while (off < len) {
        rc = xf_spool_record_decode(p + off, len - off, max, &r, &n);

        if (rc != XF_SPOOL_OK) {
            *good = off;
            return rc;
        }

        off += n;
        (*records)++;
    }

    *good = off;

    return XF_SPOOL_OK;
}
