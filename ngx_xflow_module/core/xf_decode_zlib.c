/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode_zlib.c - streaming gzip (one or more members) and deflate
 * (zlib-wrapped or raw, told apart by the first two bytes) with zlib.
 */

#include "xf_decode_impl.h"


#define XF_ZLIB_CHUNK          ((size_t) 1 << 30)


static void *xf_zlib_alloc(void *opaque, u_int items, u_int size);


xf_status_t
xf_decode_zlib_init(xf_decoder_t *d, int wbits)
{
    int  rc;

    d->zs.zalloc = xf_zlib_alloc;
    d->zs.zfree = xf_decoder_free_cb;
    d->zs.opaque = d;

    rc = inflateInit2(&d->zs, wbits);

    if (rc == Z_MEM_ERROR) {
        return XF_ERR_NOMEM;
    }

    if (rc != Z_OK) {
        return XF_ERR_CORRUPT;
    }

    d->inited = 1;

    return XF_OK;
}


/*
 * "deflate" is meant to be zlib-wrapped (RFC 9110) but some clients send
 * raw deflate.  A zlib header (method 8, header checksum a multiple of 31)
 * decides; a raw stream could only look like one if it began with a
 * non-final stored block with non-zero padding bits, which encoders do
 * not write.
 */

xf_status_t
xf_decode_zlib_deflate(xf_decoder_t *d, const u_char *p, size_t len)
{
    u_char       cmf, flg;
    xf_status_t  rc;

    if (!d->inited) {
        if (!d->held && len == 1) {
            d->hold = p[0];
            d->held = 1;
            return XF_OK;
        }

        cmf = d->held ? d->hold : p[0];
        flg = d->held ? p[0] : p[1];

        rc = xf_decode_zlib_init(d, xf_decode_zlib_header(cmf, flg)
                                    ? MAX_WBITS : -MAX_WBITS);
        if (rc != XF_OK) {
            return rc;
        }

        if (d->held) {
            d->held = 0;

            rc = xf_decode_zlib_inflate(d, &d->hold, 1);
            if (rc != XF_OK) {
                return rc;
            }
        }
    }

    return xf_decode_zlib_inflate(d, p, len);
}


/*
 * Z_FINISH on every call: if the stream completes within the call, zlib
 * skips allocating and filling its 32 KB window; if not, it carries on
 * as with Z_NO_FLUSH, reporting Z_BUF_ERROR instead of Z_OK.
 */

xf_status_t
xf_decode_zlib_inflate(xf_decoder_t *d, const u_char *p, size_t len)
{
    int          zrc;
    size_t       size, produced;
    u_char      *out;
    xf_status_t  rc;

    if (d->ended) {
        /* bytes after the end of a deflate stream */
        return XF_ERR_CORRUPT;
    }

    /* avail_in and avail_out are uInt; XF_ZLIB_CHUNK fits both */
    d->zs.next_in = (u_char *) (uintptr_t) p;     /* zlib reads only */
    d->zs.avail_in = xf_min(len, XF_ZLIB_CHUNK);
    len -= d->zs.avail_in;

    for ( ;; ) {

        if (d->zs.avail_in == 0 && len > 0) {
            d->zs.avail_in = xf_min(len, XF_ZLIB_CHUNK);
            len -= d->zs.avail_in;
        }

        if (d->enc == XF_ENC_GZIP && !d->in_stream) {
            /*
             * A new gzip member; the previous one's state is reused.
             * zlib checks the magic once it has both bytes: checking the
             * first here makes one stray byte after a member corrupt
             * rather than a truncated member.
             */
            if (*d->zs.next_in != 0x1f || inflateReset(&d->zs) != Z_OK) {
                return XF_ERR_CORRUPT;
            }

            d->in_stream = 1;
        }

        rc = xf_decoder_out(d, &out, &size);
        if (rc != XF_OK) {
            return rc;
        }

        size = xf_min(size, XF_ZLIB_CHUNK);

        d->zs.next_out = out;
        d->zs.avail_out = size;

        zrc = inflate(&d->zs, Z_FINISH);

        produced = size - d->zs.avail_out;

        if (produced > 0) {
            if (out == &d->scratch) {
                return XF_ERR_TOO_LARGE;
            }

            d->len += produced;
        }

        switch (zrc) {

        case Z_STREAM_END:
            if (d->enc == XF_ENC_GZIP) {
                d->in_stream = 0;

                if (d->zs.avail_in == 0 && len == 0) {
                    return XF_OK;
                }

                continue;
            }

            d->ended = 1;

            return (d->zs.avail_in == 0 && len == 0) ? XF_OK
                                                      : XF_ERR_CORRUPT;

        case Z_OK:
        case Z_BUF_ERROR:
            break;

        case Z_MEM_ERROR:
            return XF_ERR_NOMEM;

        default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            return XF_ERR_CORRUPT;
        }

        /* the stream goes on: wait for input, unless the output space ran
         * out (zlib may hold more output, e.g. the rest of a match) */
        if (d->zs.avail_in == 0 && len == 0 && d->zs.avail_out > 0) {
            return XF_OK;
        }
    }
}


static void *
xf_zlib_alloc(void *opaque, u_int items, u_int size)
{
    xf_decoder_t  *d = opaque;

    if (size != 0 && items > SIZE_MAX / size) {
        return NULL;
    }

    return d->alloc->alloc(d->alloc->data, (size_t) items * size);
}

