/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode_libdeflate.c - a gzip or zlib-wrapped deflate body that is
 * complete in one buffer, decoded by libdeflate in one call per gzip
 * member (about twice as fast as zlib's streaming inflate); what
 * libdeflate refuses goes back to zlib (XF_DECODE_RETRY).
 */

#include <libdeflate.h>

#include "xf_decode_impl.h"


/* DEFLATE cannot expand input by more than this (258-byte matches in
 * 2-bit codes, about 1032:1): a gzip trailer claiming more is a lie and
 * is not used even as a first guess of the output size. */
#define XF_DEFLATE_MAX_RATIO   1032


static struct libdeflate_decompressor *xf_libdeflate(void);


/*
 * libdeflate over a complete body: each gzip member (or the one deflate
 * stream) in one call, straight into buf.  XF_DECODE_RETRY for anything
 * libdeflate refuses, and for a gzip header with a header CRC (FHCRC),
 * which zlib checks and libdeflate does not.
 */
xf_status_t
xf_decode_libdeflate_whole(xf_decoder_t *d, const u_char *p, size_t len)
{
    size_t                           used, produced, hint;
    xf_status_t                      rc;
    enum libdeflate_result           r;
    struct libdeflate_decompressor  *ld;

    ld = xf_libdeflate();
    if (ld == NULL) {
        return XF_DECODE_RETRY;
    }

    if (d->enc == XF_ENC_GZIP && len >= 18) {
        /* the last member's size, as a first guess only: lies cost a
         * regrowth, and what is believed is capped twice */
        hint = (size_t) p[len - 4] | (size_t) p[len - 3] << 8
               | (size_t) p[len - 2] << 16 | (size_t) p[len - 1] << 24;

        if (hint > XF_DECODE_FIRST_BUF && hint <= d->max_out
            && hint / XF_DEFLATE_MAX_RATIO <= len)
        {
            rc = xf_decoder_grow(d, hint);
            if (rc != XF_OK) {
                return rc;
            }
        }
    }

    for ( ;; ) {

        if (d->cap == 0 || (d->cap == d->len && d->cap < d->max_out)) {
            rc = xf_decoder_grow(d, d->len + 1);
            if (rc != XF_OK) {
                return rc;
            }
        }

        used = 0;
        produced = 0;

        if (d->enc == XF_ENC_GZIP) {
            if (p[0] != 0x1f) {
                /* a stray byte after a member, as zlib sees it */
                return XF_ERR_CORRUPT;
            }

            if (len < 4 || (p[3] & 0x02)) {
                return XF_DECODE_RETRY;
            }

            r = libdeflate_gzip_decompress_ex(ld, p, len, d->buf + d->len,
                                              d->cap - d->len, &used,
                                              &produced);

        } else if (len >= 2 && xf_decode_zlib_header(p[0], p[1])) {
            /* zlib-wrapped, decided as xf_decoder_deflate does */
            r = libdeflate_zlib_decompress_ex(ld, p, len, d->buf + d->len,
                                              d->cap - d->len, &used,
                                              &produced);

        } else {
            /*
             * Raw deflate has no checksum, and libdeflate accepts some
             * streams zlib calls corrupt (invalid codes in a fixed-Huffman
             * block): zlib decides those, so that a body gets one answer
             * however it arrived.
             */
            return XF_DECODE_RETRY;
        }

        switch (r) {

        case LIBDEFLATE_SUCCESS:
            d->len += produced;
            p += used;
            len -= used;

            if (len == 0) {
                return XF_OK;
            }

            if (d->enc == XF_ENC_GZIP) {
                /* the next member */
                continue;
            }

            /* bytes after the end of a deflate stream */
            return XF_ERR_CORRUPT;

        case LIBDEFLATE_INSUFFICIENT_SPACE:
            if (d->cap == d->max_out) {
                return XF_ERR_TOO_LARGE;
            }

            /* a bigger buffer, then this member again */
            rc = xf_decoder_grow(d, d->cap + 1);
            if (rc != XF_OK) {
                return rc;
            }

            continue;

        default: /* LIBDEFLATE_BAD_DATA */
            return XF_DECODE_RETRY;
        }
    }
}


/*
 * One decompressor per process, made on first use and kept until
 * xf_decode_shutdown(): it is ~32 KB of tables rebuilt for every block
 * anyway, holds no state between calls, and nginx workers run the core
 * on one thread.
 */

static struct libdeflate_decompressor  *xf_libdeflate_ld;

static struct libdeflate_decompressor *
xf_libdeflate(void)
{
    if (xf_libdeflate_ld == NULL) {
        xf_libdeflate_ld = libdeflate_alloc_decompressor();
    }

    return xf_libdeflate_ld;
}


void
xf_decode_shutdown(void)
{
    if (xf_libdeflate_ld != NULL) {
        libdeflate_free_decompressor(xf_libdeflate_ld);
        xf_libdeflate_ld = NULL;
    }
}

