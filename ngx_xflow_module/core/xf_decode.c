/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode.c - the decoder interface: streaming gzip / deflate / zstd /
 * brotli / identity decoding with a hard cap on the decoded size, the
 * output buffer every codec writes into, and identity (a capped copy).
 * The codecs are in xf_decode_zlib.c, xf_decode_libdeflate.c,
 * xf_decode_zstd.c and xf_decode_brotli.c.
 *
 * The codec writes straight into the decoder's output buffer:
 *
 *     buf [ decoded (len) | free (cap - len) ]       cap <= max_out
 *
 * When the buffer is full it doubles (never beyond max_out, so the old
 * buffers left behind by an allocator whose free is a no-op add up to
 * less than the final one).  Once cap == max_out the codec is run into a
 * one-byte scratch instead: any byte landing there means the decoded body
 * is over the cap, and decoding stops at once, so a bomb costs max_out
 * bytes and the CPU to produce them.
 *
 * gzip and deflate have two decoders, and libdeflate accepts some
 * streams zlib refuses (invalid codes in a fixed-Huffman block), so
 * which one answers depends on the body's size alone, never on how it
 * arrives.  A body of at most XF_DECODE_WHOLE_MAX compressed bytes is
 * held (pend) until finish, or taken whole by xf_decoder_feed_whole
 * without a copy, and decoded by libdeflate in one call per gzip member,
 * into the same buffer under the same cap: when the output does not fit
 * the buffer grows (doubling, up to max_out) and the member is decoded
 * again; when it does not fit max_out the body is XF_ERR_TOO_LARGE.
 * Input libdeflate refuses is decoded again by zlib from the start, so
 * that the error (truncated or corrupt, and what was decoded before it)
 * is zlib's.  Once a body passes XF_DECODE_WHOLE_MAX, zlib decodes what
 * was held and then streams the rest.  Held, a body costs its
 * compressed bytes: a stalled bomb's prefix holds nothing decoded.
 */

#include "xf_decode_impl.h"
#include "xf_realloc.h"


static xf_status_t xf_decoder_identity(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_deflated(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_hold(xf_decoder_t *d, const u_char *p,
    size_t len);
static void xf_decoder_unhold(xf_decoder_t *d);
static xf_status_t xf_decoder_whole(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_stream(xf_decoder_t *d, const u_char *p,
    size_t len);


xf_status_t
xf_decoder_create(xf_decoder_t **dp, xf_encoding_t enc, size_t max_out,
    const xf_alloc_t *a)
{
    xf_status_t    rc;
    xf_decoder_t  *d;

    *dp = NULL;

    if ((unsigned) enc > XF_ENC_BR) {
        return XF_ERR_ENCODING_UNKNOWN;
    }

    d = a->alloc(a->data, sizeof(xf_decoder_t));
    if (d == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(d, 0, sizeof(xf_decoder_t));

    d->alloc = a;
    d->enc = enc;
    d->max_out = max_out;

    /* gzip's zlib state is set up by the first streamed chunk (a whole
     * body may never need it); deflate's once its first two bytes tell
     * zlib from raw */
    switch (enc) {

    case XF_ENC_ZSTD:
        rc = xf_decode_zstd_init(d);
        break;

    case XF_ENC_BR:
        rc = xf_decode_brotli_init(d);
        break;

    default:
        rc = XF_OK;
        break;
    }

    if (rc != XF_OK) {
        xf_decoder_free(d);
        return rc;
    }

    *dp = d;

    return XF_OK;
}


xf_status_t
xf_decoder_feed(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (d->status != XF_OK) {
        return d->status;
    }

    if (len == 0) {
        return XF_OK;
    }

    d->in_total += len;

    switch (d->enc) {

    case XF_ENC_GZIP:
    case XF_ENC_DEFLATE:
        rc = xf_decoder_deflated(d, p, len);
        break;

    case XF_ENC_ZSTD:
        rc = xf_decode_zstd_feed(d, p, len);
        break;

    case XF_ENC_BR:
        rc = xf_decode_brotli_feed(d, p, len);
        break;

    default: /* XF_ENC_IDENTITY */
        rc = xf_decoder_identity(d, p, len);
        break;
    }

    d->status = rc;

    return rc;
}


xf_status_t
xf_decoder_feed_whole(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (d->status != XF_OK || d->in_total != 0 || len == 0
        || len > XF_DECODE_WHOLE_MAX
        || (d->enc != XF_ENC_GZIP && d->enc != XF_ENC_DEFLATE))
    {
        return xf_decoder_feed(d, p, len);
    }

    /* what xf_decoder_finish does with a held body, without the copy */
    d->in_total = len;
    d->complete = 1;

    rc = xf_decoder_whole(d, p, len);

    d->status = rc;

    return rc;
}


xf_status_t
xf_decoder_finish(xf_decoder_t *d, const u_char **out, size_t *out_len)
{
    if (d->status != XF_OK) {
        return d->status;
    }

    if (d->pend_len > 0) {
        /* a gzip or deflate body that never passed XF_DECODE_WHOLE_MAX */
        d->complete = 1;
        d->status = xf_decoder_whole(d, d->pend, d->pend_len);

        xf_decoder_unhold(d);

        if (d->status != XF_OK) {
            return d->status;
        }
    }

    switch (d->enc) {

    case XF_ENC_GZIP:
        if (d->in_total == 0 || d->in_stream) {
            d->status = XF_ERR_TRUNCATED;
        }
        break;

    case XF_ENC_DEFLATE:
    case XF_ENC_BR:
        if (!d->ended) {
            d->status = XF_ERR_TRUNCATED;
        }
        break;

    case XF_ENC_ZSTD:
        if (d->in_total == 0 || d->zframe || d->zhlen > 0) {
            d->status = XF_ERR_TRUNCATED;
        }
        break;

    default: /* XF_ENC_IDENTITY */
        break;
    }

    if (d->status != XF_OK) {
        return d->status;
    }

    *out = d->buf != NULL ? d->buf : (const u_char *) "";
    *out_len = d->len;

    return XF_OK;
}


size_t
xf_decoder_size(const xf_decoder_t *d)
{
    return d->len;
}


const u_char *
xf_decoder_data(const xf_decoder_t *d)
{
    return d->buf ? d->buf : (const u_char *) "";
}


void
xf_decoder_free(xf_decoder_t *d)
{
    const xf_alloc_t  *a;

    if (d == NULL) {
        return;
    }

    a = d->alloc;

    if (d->inited && d->enc != XF_ENC_ZSTD && d->enc != XF_ENC_BR) {
        inflateEnd(&d->zs);
    }

    xf_decode_brotli_free(d);

    if (d->zd != NULL) {
        ZSTD_freeDCtx(d->zd);
    }

    xf_decoder_unhold(d);

    if (d->buf != NULL) {
        a->free(a->data, d->buf);
    }

    a->free(a->data, d);
}


xf_status_t
xf_decode(xf_encoding_t enc, const u_char *p, size_t len, size_t max_out,
    const xf_alloc_t *a, u_char **out, size_t *out_len)
{
    size_t         n;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *res;

    rc = xf_decoder_create(&d, enc, max_out, a);
    if (rc != XF_OK) {
        return rc;
    }

    rc = xf_decoder_feed_whole(d, p, len);

    if (rc == XF_OK) {
        rc = xf_decoder_finish(d, &res, &n);
    }

    if (rc != XF_OK) {
        xf_decoder_free(d);
        return rc;
    }

    /* an empty result still gets its own allocation: the caller frees
     * *out, and free is never called with NULL */
    if (d->buf == NULL) {
        d->buf = a->alloc(a->data, 1);
        if (d->buf == NULL) {
            xf_decoder_free(d);
            return XF_ERR_NOMEM;
        }
    }

    /* hand the buffer over instead of copying it */
    *out = d->buf;
    *out_len = d->len;
    d->buf = NULL;

    xf_decoder_free(d);

    return XF_OK;
}


/* See xf_decode_impl.h. */
xf_status_t
xf_decoder_out(xf_decoder_t *d, u_char **out, size_t *size)
{
    xf_status_t  rc;

    if (d->len == d->cap) {
        if (d->cap == d->max_out) {
            *out = &d->scratch;
            *size = 1;
            return XF_OK;
        }

        rc = xf_decoder_grow(d, d->len + 1);
        if (rc != XF_OK) {
            return rc;
        }
    }

    *out = d->buf + d->len;
    *size = d->cap - d->len;

    return XF_OK;
}


/* See xf_decode_impl.h. */
xf_status_t
xf_decoder_grow(xf_decoder_t *d, size_t need)
{
    size_t             size;
    u_char            *buf;
    const xf_alloc_t  *a;

    if (d->cap > 0) {
        size = d->cap > d->max_out / 2 ? d->max_out : d->cap * 2;

    } else if (d->enc == XF_ENC_IDENTITY) {
        size = need;

    } else {
        size = XF_DECODE_FIRST_BUF;

        if (d->in_total > size / XF_DECODE_RATIO) {
            size = d->in_total > d->max_out / XF_DECODE_RATIO
                   ? d->max_out : d->in_total * XF_DECODE_RATIO;
        }
    }

    if (size < need) {
        size = need;
    }

    size = xf_min(size, d->max_out);

    a = d->alloc;

    buf = xf_realloc(a, d->buf, d->len, size);
    if (buf == NULL) {
        return XF_ERR_NOMEM;
    }

    d->buf = buf;
    d->cap = size;

    return XF_OK;
}


static xf_status_t
xf_decoder_identity(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (len > d->max_out - d->len) {
        return XF_ERR_TOO_LARGE;
    }

    if (len > d->cap - d->len) {
        rc = xf_decoder_grow(d, d->len + len);
        if (rc != XF_OK) {
            return rc;
        }
    }

    memcpy(d->buf + d->len, p, len);
    d->len += len;

    return XF_OK;
}


/*
 * gzip and deflate: held while the body is at most XF_DECODE_WHOLE_MAX
 * (d->in_total counts this chunk already), zlib over everything once it
 * is more.
 */
static xf_status_t
xf_decoder_deflated(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (d->complete) {
        /* xf_decoder_feed_whole was told this was all */
        return XF_ERR_CORRUPT;
    }

    if (!d->streaming) {
        if (d->in_total <= XF_DECODE_WHOLE_MAX) {
            return xf_decoder_hold(d, p, len);
        }

        d->streaming = 1;

        if (d->pend_len > 0) {
            rc = xf_decoder_stream(d, d->pend, d->pend_len);

            xf_decoder_unhold(d);

            if (rc != XF_OK) {
                return rc;
            }
        }
    }

    return xf_decoder_stream(d, p, len);
}


/*
 * Keep a chunk of a small gzip or deflate body.  A gzip body whose first
 * bytes are not a gzip header (magic, method 8, no reserved flag) is
 * refused here: zlib and libdeflate both refuse it, and a body that is
 * not what it says fails at its first chunk.  Only what zlib itself
 * refuses that early: it reads the method and the flags together, so a
 * body cut after a bad method byte is truncated, not corrupt.
 */
static xf_status_t
xf_decoder_hold(xf_decoder_t *d, const u_char *p, size_t len)
{
    size_t         size;
    u_char        *pend;
    const u_char  *h;

    if (len > d->pend_cap - d->pend_len) {
        /* doubling: what a no-op free leaves behind stays under the
         * last buffer */
        size = d->pend_cap * 2 > d->pend_len + len ? d->pend_cap * 2
                                                   : d->pend_len + len;
        size = xf_min(size, XF_DECODE_WHOLE_MAX);

        pend = xf_realloc(d->alloc, d->pend, d->pend_len, size);
        if (pend == NULL) {
            return XF_ERR_NOMEM;
        }

        d->pend = pend;
        d->pend_cap = size;
    }

    memcpy(d->pend + d->pend_len, p, len);
    d->pend_len += len;

    if (d->enc == XF_ENC_GZIP) {
        h = d->pend;

        if (h[0] != 0x1f
            || (d->pend_len > 1 && h[1] != 0x8b)
            || (d->pend_len > 3 && (h[2] != 8 || (h[3] & 0xe0))))
        {
            return XF_ERR_CORRUPT;
        }
    }

    return XF_OK;
}


static void
xf_decoder_unhold(xf_decoder_t *d)
{
    if (d->pend != NULL) {
        d->alloc->free(d->alloc->data, d->pend);
        d->pend = NULL;
    }

    d->pend_len = 0;
    d->pend_cap = 0;
}


/*
 * A complete gzip or deflate body of at most XF_DECODE_WHOLE_MAX bytes:
 * libdeflate, and zlib from the start for what libdeflate refuses, so
 * that the error and the decoded prefix are zlib's.
 */
static xf_status_t
xf_decoder_whole(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    rc = xf_decode_libdeflate_whole(d, p, len);

    if (rc == XF_DECODE_RETRY) {
        d->len = 0;
        return xf_decoder_stream(d, p, len);
    }

    if (rc == XF_OK && d->enc == XF_ENC_DEFLATE) {
        d->ended = 1;
    }

    return rc;
}


/* zlib's streaming inflate, gzip or deflate. */
static xf_status_t
xf_decoder_stream(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (d->enc == XF_ENC_DEFLATE) {
        return xf_decode_zlib_deflate(d, p, len);
    }

    rc = d->inited ? XF_OK : xf_decode_zlib_init(d, 16 + MAX_WBITS);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_decode_zlib_inflate(d, p, len);
}


/* See xf_decode_impl.h. */
void
xf_decoder_free_cb(void *opaque, void *p)
{
    xf_decoder_t  *d = opaque;

    if (p != NULL) {
        d->alloc->free(d->alloc->data, p);
    }
}
