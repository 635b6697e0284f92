/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode_brotli.c - streaming brotli (one stream, RFC 7932) under the
 * decoder's cap, with a memory budget that bounds what a hostile body
 * costs.
 *
 * Brotli has no frames and no magic: a body is one stream, and anything
 * after its last meta-block is XF_ERR_CORRUPT.  The decoder sizes its
 * ring buffer from what the stream declares (the output so far plus the
 * current meta-block's length, rounded up to a power of two, up to the
 * window): a few header bytes can declare a 16 MiB meta-block, so every
 * allocation is counted, and one block may not exceed the window the
 * caller allows (xf_decoder_set_window_max(), as for zstd) nor twice
 * max_out.
 */

#include "xf_decode_impl.h"


/*
 * Everything brotli may allocate over the decoder's life: one 16 MiB
 * ring buffer (the largest window of the standard format), the copy a
 * reallocation makes while it grows, and the Huffman tables each
 * meta-block allocates and frees.  As for zstd, counted as allocated,
 * since the allocator's free may be a no-op.
 */
#define XF_BROTLI_MEM_MAX      (40 * 1024 * 1024)

/*
 * Besides the budget, no single block over the window allowed, nor over
 * twice max_out (a ring buffer of 2^k bytes means the stream declared
 * more than 2^(k-1) bytes of output, which the cap refuses anyway), and
 * this slack for the ring buffer's write-ahead and the Huffman tables.
 */
#define XF_BROTLI_BLOCK_SLACK  (64 * 1024)

/* The largest window of the standard format. */
#define XF_BROTLI_WINDOW_MAX   (16 * 1024 * 1024)


static xf_status_t xf_decode_brotli_status(xf_decoder_t *d);
static void *xf_brotli_alloc(void *opaque, size_t size);


xf_status_t
xf_decode_brotli_init(xf_decoder_t *d)
{
    d->bd = BrotliDecoderCreateInstance(xf_brotli_alloc, xf_decoder_free_cb,
                                        d);
    if (d->bd == NULL) {
        return XF_ERR_NOMEM;
    }

    d->bwindow = XF_BROTLI_WINDOW_MAX;
    d->inited = 1;

    return XF_OK;
}


/* See xf_decoder_set_window_max(): the largest ring buffer to allocate. */
void
xf_decode_brotli_window_max(xf_decoder_t *d, size_t window)
{
    d->bwindow = xf_min(window, (size_t) XF_BROTLI_WINDOW_MAX);
}


xf_status_t
xf_decode_brotli_feed(xf_decoder_t *d, const u_char *p, size_t len)
{
    size_t               size, avail_in, avail_out;
    u_char              *dst;
    uint8_t             *next_out;
    xf_status_t          rc;
    const uint8_t       *next_in;
    BrotliDecoderResult  res;

    if (d->ended) {
        /* one stream per body: nothing may follow it */
        return XF_ERR_CORRUPT;
    }

    next_in = p;
    avail_in = len;

    for ( ;; ) {
        rc = xf_decoder_out(d, &dst, &size);
        if (rc != XF_OK) {
            return rc;
        }

        next_out = dst;
        avail_out = size;

        res = BrotliDecoderDecompressStream(d->bd, &avail_in, &next_in,
                                            &avail_out, &next_out, NULL);

        if (avail_out < size) {
            if (dst == &d->scratch) {
                return XF_ERR_TOO_LARGE;
            }

            d->len += size - avail_out;
        }

        switch (res) {

        case BROTLI_DECODER_RESULT_SUCCESS:
            d->ended = 1;
            return avail_in == 0 ? XF_OK : XF_ERR_CORRUPT;

        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
            return XF_OK;

        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
            break;

        default:
            return xf_decode_brotli_status(d);
        }
    }
}


void
xf_decode_brotli_free(xf_decoder_t *d)
{
    if (d->bd != NULL) {
        BrotliDecoderDestroyInstance(d->bd);
        d->bd = NULL;
    }
}


static xf_status_t
xf_decode_brotli_status(xf_decoder_t *d)
{
    BrotliDecoderErrorCode  code;

    code = BrotliDecoderGetErrorCode(d->bd);

    if (code <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES
        && code >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES)
    {
        return d->over_budget ? XF_ERR_TOO_LARGE : XF_ERR_NOMEM;
    }

    return XF_ERR_CORRUPT;
}


static void *
xf_brotli_alloc(void *opaque, size_t size)
{
    xf_decoder_t  *d = opaque;

    size_t  block;

    block = d->max_out > XF_BROTLI_WINDOW_MAX ? XF_BROTLI_WINDOW_MAX
                                              : 2 * d->max_out;
    block = xf_min(block, d->bwindow) + XF_BROTLI_BLOCK_SLACK;

    if (size > XF_BROTLI_MEM_MAX - d->bmem || size > block) {
        d->over_budget = 1;
        return NULL;
    }

    d->bmem += size;

    return d->alloc->alloc(d->alloc->data, size);
}
