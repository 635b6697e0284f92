/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode_zstd.c - streaming zstd (one or more frames) with a window
 * and a lifetime memory budget that bound what a hostile body costs.
 */

#include "xf_decode_impl.h"


#define XF_ZSTD_WINDOW_LOG_MAX  23
#define XF_ZSTD_WINDOW_LOG_MIN  10   /* ZSTD_WINDOWLOG_ABSOLUTEMIN */


/*
 * Sum of everything zstd may allocate over the decoder's life.  zstd
 * reallocates its window buffer when a frame declares a larger window (or
 * after a long run of smaller ones); with a pool whose free is a no-op,
 * a body of tiny frames with ever-changing windows could otherwise make
 * it allocate without bound.  One 8 MiB window plus its block buffers
 * is about 8.4 MiB; four of them leave room for honest streams whose
 * frames grow.
 */
#define XF_ZSTD_MEM_MAX        (40 * 1024 * 1024)


static xf_status_t xf_decode_zstd_run(xf_decoder_t *d, const u_char *p,
    size_t len, size_t *used);
static xf_status_t xf_decode_zstd_status(xf_decoder_t *d, size_t zrc);
static void *xf_zstd_alloc(void *opaque, size_t size);


xf_status_t
xf_decode_zstd_init(xf_decoder_t *d)
{
    size_t           zrc;
    ZSTD_customMem   mem;

    mem.customAlloc = xf_zstd_alloc;
    mem.customFree = xf_decoder_free_cb;
    mem.opaque = d;

    d->zd = ZSTD_createDCtx_advanced(mem);
    if (d->zd == NULL) {
        return XF_ERR_NOMEM;
    }

    zrc = ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
                                 XF_ZSTD_WINDOW_LOG_MAX);
    if (ZSTD_isError(zrc)) {
        return XF_ERR_NOMEM;
    }

    d->inited = 1;

    return XF_OK;
}


/*
 * Each frame's header is collected here and checked with
 * ZSTD_getFrameHeader before zstd sees it, then handed over whole.  A
 * header zstd cannot parse would otherwise make it try the legacy
 * (v0.1-v0.7) formats on whatever bytes the current chunk starts with:
 * old code that allocates with malloc, not through a, and behaves
 * differently depending on where the body was split.  Handing the header
 * over alone also keeps zstd off its one-pass shortcut for a frame that
 * arrives whole, so every split decodes the same way.
 */

xf_status_t
xf_decode_zstd_feed(xf_decoder_t *d, const u_char *p, size_t len)
{
    size_t              n, want;
    xf_status_t         rc;
    ZSTD_frameHeader    fh;

    while (len > 0) {

        if (!d->zframe) {
            want = ZSTD_getFrameHeader(&fh, d->zhdr, d->zhlen);

            while (want != 0 && !ZSTD_isError(want)) {
                if (want > sizeof(d->zhdr)) {
                    return XF_ERR_CORRUPT;
                }

                if (len == 0) {
                    return XF_OK;
                }

                n = xf_min(want - d->zhlen, len);
                memcpy(d->zhdr + d->zhlen, p, n);
                d->zhlen += n;
                p += n;
                len -= n;

                want = ZSTD_getFrameHeader(&fh, d->zhdr, d->zhlen);
            }

            if (ZSTD_isError(want)) {
                return xf_decode_zstd_status(d, want);
            }

            d->zframe = 1;

            rc = xf_decode_zstd_run(d, d->zhdr, d->zhlen, &n);
            d->zhlen = 0;

            if (rc != XF_OK) {
                return rc;
            }

            continue;
        }

        rc = xf_decode_zstd_run(d, p, len, &n);
        if (rc != XF_OK) {
            return rc;
        }

        p += n;
        len -= n;
    }

    return XF_OK;
}


/*
 * Decode from p until it is used up or the current frame ends (then
 * *used tells how far it got and the next byte starts a new frame).
 */

static xf_status_t
xf_decode_zstd_run(xf_decoder_t *d, const u_char *p, size_t len,
    size_t *used)
{
    size_t           zrc, size;
    u_char          *dst;
    xf_status_t      rc;
    ZSTD_inBuffer    in;
    ZSTD_outBuffer   out;

    in.src = p;
    in.size = len;
    in.pos = 0;

    for ( ;; ) {
        rc = xf_decoder_out(d, &dst, &size);
        if (rc != XF_OK) {
            return rc;
        }

        out.dst = dst;
        out.size = size;
        out.pos = 0;

        zrc = ZSTD_decompressStream(d->zd, &out, &in);

        if (ZSTD_isError(zrc)) {
            return xf_decode_zstd_status(d, zrc);
        }

        if (out.pos > 0) {
            if (out.dst == &d->scratch) {
                return XF_ERR_TOO_LARGE;
            }

            d->len += out.pos;
        }

        *used = in.pos;

        /* 0: the frame is decoded and flushed */
        if (zrc == 0) {
            d->zframe = 0;
            return XF_OK;
        }

        /* output space left over means zstd flushed all it had; a full
         * output buffer may leave decoded bytes inside zstd */
        if (in.pos == in.size && out.pos < out.size) {
            return XF_OK;
        }
    }
}


static xf_status_t
xf_decode_zstd_status(xf_decoder_t *d, size_t zrc)
{
    switch (ZSTD_getErrorCode(zrc)) {

    case ZSTD_error_memory_allocation:
        return d->over_budget ? XF_ERR_TOO_LARGE : XF_ERR_NOMEM;

    case ZSTD_error_frameParameter_windowTooLarge:
        return XF_ERR_TOO_LARGE;

    default:
        return XF_ERR_CORRUPT;
    }
}


/*
 * A window is allocated whole when a frame header declares it, before
 * a byte of the frame is decoded: ten body bytes cost the window.  The
 * caller lowers the largest window accepted (browsers never send zstd;
 * an app's encoder at its default level uses at most 8 MiB, at low
 * levels 1 MiB or less); a frame that needs more is XF_ERR_TOO_LARGE.
 */
xf_status_t
xf_decoder_set_window_max(xf_decoder_t *d, size_t window)
{
    int     log;
    size_t  zrc;

    if (d->enc == XF_ENC_BR) {
        xf_decode_brotli_window_max(d, window);
        return XF_OK;
    }

    if (d->enc != XF_ENC_ZSTD || d->zd == NULL) {
        return XF_OK;
    }

    log = XF_ZSTD_WINDOW_LOG_MIN;

    while (log < XF_ZSTD_WINDOW_LOG_MAX && ((size_t) 2 << log) <= window) {
        log++;
    }

    zrc = ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax, log);

    return ZSTD_isError(zrc) ? XF_ERR_NOMEM : XF_OK;
}


static void *
xf_zstd_alloc(void *opaque, size_t size)
{
    xf_decoder_t  *d = opaque;

    if (size > XF_ZSTD_MEM_MAX - d->zmem) {
        d->over_budget = 1;
        return NULL;
    }

    d->zmem += size;

    return d->alloc->alloc(d->alloc->data, size);
}

