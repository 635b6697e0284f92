/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode_impl.h - private to the decoder files: the decoder's state
 * (the output buffer and every codec's), the buffer helpers of
 * xf_decode.c and the entry points of each codec's file.
 */

#ifndef XF_DECODE_IMPL_H
#define XF_DECODE_IMPL_H

#include <string.h>

#include <zlib.h>

/* ZSTD_createDCtx_advanced (custom allocator) is in the static section
 * of zstd.h but exported by the shared library. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include <brotli/decode.h>

#include "xf_decode.h"


/* First output buffer for compressed input: this, or 4 times the input
 * so far if larger; a 2.5 KB gzip batch of 50 events (16 KB of JSON)
 * then decodes without regrowing. */
#define XF_DECODE_FIRST_BUF    (16 * 1024)
#define XF_DECODE_RATIO        4


/* internal: libdeflate refused the input, decode it again with zlib */
#define XF_DECODE_RETRY        ((xf_status_t) -1)


struct xf_decoder_s {
    const xf_alloc_t   *alloc;
    xf_encoding_t       enc;
    xf_status_t         status;         /* first error, sticky */

    u_char             *buf;
    size_t              len;
    size_t              cap;
    size_t              max_out;
    u_char              scratch;        /* probe target once cap == max_out */

    size_t              in_total;

    /* gzip and deflate: the compressed body, held until finish while it
     * is at most XF_DECODE_WHOLE_MAX bytes */
    u_char             *pend;
    size_t              pend_len;
    size_t              pend_cap;

    unsigned            streaming:1;    /* over XF_DECODE_WHOLE_MAX: zlib */
    unsigned            complete:1;     /* decoded whole: input is over */
    unsigned            inited:1;       /* codec state initialised */
    unsigned            in_stream:1;    /* inside a gzip member */
    unsigned            ended:1;        /* deflate or brotli stream ended */
    unsigned            held:1;         /* deflate: hold is set */
    unsigned            zframe:1;       /* zstd is inside a frame */
    unsigned            over_budget:1;  /* zstd or brotli hit its budget */

    /* deflate: the first byte, held until the second one arrives */
    u_char              hold;

    z_stream            zs;

    ZSTD_DCtx          *zd;
    size_t              zmem;           /* all zstd ever allocated */

    /* zstd: the next frame's header, collected until complete */
    size_t              zhlen;
    u_char              zhdr[ZSTD_FRAMEHEADERSIZE_MAX];

    BrotliDecoderState *bd;
    size_t              bmem;           /* all brotli ever allocated */
    size_t              bwindow;        /* largest ring buffer allowed */
};


/* xf_decode.c: the output buffer */

/*
 * Where the codec may write next: the free tail of buf, growing it when
 * full, or the scratch byte once buf has reached max_out.
 */
xf_status_t xf_decoder_out(xf_decoder_t *d, u_char **out, size_t *size);

/* A bigger buffer of at least need (<= max_out) bytes. */
xf_status_t xf_decoder_grow(xf_decoder_t *d, size_t need);

/* The free callback of zlib and zstd (opaque is the decoder). */
void xf_decoder_free_cb(void *opaque, void *p);


/*
 * A zlib header (method 8, header checksum a multiple of 31) in the
 * first two bytes of a "deflate" body: zlib-wrapped, not raw.
 */
static inline int
xf_decode_zlib_header(u_char cmf, u_char flg)
{
    return (cmf & 0x0f) == 8 && ((cmf << 8) | flg) % 31 == 0;
}


/* xf_decode_zlib.c: streaming gzip and deflate */
xf_status_t xf_decode_zlib_init(xf_decoder_t *d, int wbits);
xf_status_t xf_decode_zlib_deflate(xf_decoder_t *d, const u_char *p,
    size_t len);
xf_status_t xf_decode_zlib_inflate(xf_decoder_t *d, const u_char *p,
    size_t len);

/* xf_decode_libdeflate.c: a complete gzip or zlib body in one call */
xf_status_t xf_decode_libdeflate_whole(xf_decoder_t *d, const u_char *p,
    size_t len);

/* xf_decode_zstd.c */
xf_status_t xf_decode_zstd_init(xf_decoder_t *d);
xf_status_t xf_decode_zstd_feed(xf_decoder_t *d, const u_char *p,
    size_t len);

/* xf_decode_brotli.c */
xf_status_t xf_decode_brotli_init(xf_decoder_t *d);
xf_status_t xf_decode_brotli_feed(xf_decoder_t *d, const u_char *p,
    size_t len);
void xf_decode_brotli_window_max(xf_decoder_t *d, size_t window);
void xf_decode_brotli_free(xf_decoder_t *d);

#endif /* XF_DECODE_IMPL_H */
