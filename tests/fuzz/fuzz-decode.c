/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-decode.c - libFuzzer target for xf_decode.
 *
 * Input: one selector byte, then the encoded body.  The selector's low 3
 * bits pick the encoding (0 identity, 1 gzip, 2 deflate, 3 zstd, 4 br;
 * 5-7 are skipped); bit 3 the cap (128 KiB, or 1 KiB so that small inputs
 * reach it); its high 4 bits where the body is split, in 16ths of its
 * length.
 *
 * Invariant: no crash, no undefined behaviour, no leak; the output never
 * exceeds the cap; brotli, whose ring buffer comes from our allocator,
 * never asks for one block over twice the cap (plus slack); feeding the
 * body in two chunks at the chosen split gives the same output as
 * feeding it in one chunk, or both fail (with
 * the same error, except that one may stop at the cap before the other
 * finds the stream corrupt), and the one-shot xf_decode agrees.  A gzip
 * or deflate body of at most XF_DECODE_WHOLE_MAX bytes gets exactly one
 * answer (status and output) from all three: one decoder decides it
 * whatever pieces it comes in, even for streams libdeflate accepts and
 * zlib refuses.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_decode.h"
#include "fuzz.h"


#define FUZZ_BLOCK_SLACK  (64 * 1024)


typedef struct {
    size_t  max_block;
} fuzz_heap_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xf_status_t fuzz_stream(xf_encoding_t enc, const u_char *p,
    size_t len, size_t split, const xf_alloc_t *a, size_t max_out,
    u_char **out, size_t *out_len);
static void *fuzz_alloc(void *data, size_t size);
static void fuzz_free(void *data, void *p);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          len, split, max_out, n1, n2, n3;
    u_char         *o1, *o2, *o3;
    unsigned        one;
    xf_alloc_t      a;
    xf_status_t     rc1, rc2, rc3;
    fuzz_heap_t     h;
    const u_char   *p;
    xf_encoding_t   enc;
    fuzz_input_t    in;

    if (!fuzz_input(data, size, &in) || fuzz_bits(&in, 0, 3) > XF_ENC_BR) {
        return 0;
    }

    enc = (xf_encoding_t) fuzz_bits(&in, 0, 3);
    max_out = fuzz_bits(&in, 3, 1) ? 1024 : 128 * 1024;
    p = in.p;
    len = in.len;
    split = fuzz_share(&in, len, 4);

    h.max_block = 0;
    a.alloc = fuzz_alloc;
    a.free = fuzz_free;
    a.data = &h;

    rc1 = fuzz_stream(enc, p, len, len, &a, max_out, &o1, &n1);
    rc2 = fuzz_stream(enc, p, len, split, &a, max_out, &o2, &n2);

    one = (enc == XF_ENC_GZIP || enc == XF_ENC_DEFLATE)
          && len <= XF_DECODE_WHOLE_MAX;

    if (one && rc1 != rc2) {
        FUZZ_FAIL("one && rc1 != rc2");
    }

    /*
     * Both splits succeed or both fail.  Which error is seen first may
     * differ: a corrupt zstd block can be found before or after the
     * output cap is reached, depending on how much input arrived at once
     * (too_large vs corrupt_encoding: both refuse the body).
     */
    if ((rc1 == XF_OK) != (rc2 == XF_OK)
        || (rc1 != rc2 && rc1 != XF_ERR_TOO_LARGE && rc2 != XF_ERR_TOO_LARGE))
    {
        FUZZ_FAIL("(rc1 == XF_OK) != (rc2 == XF_OK) || (rc1 != rc2 && rc1 != "
                  "XF_ERR_TOO_LARGE && rc2 != XF_ERR_TOO_LARGE)");
    }

    if (rc1 == XF_OK) {
        if (n1 > max_out || n1 != n2 || memcmp(o1, o2, n1) != 0) {
            FUZZ_FAIL("n1 > max_out || n1 != n2 || memcmp(o1, o2, n1) != 0");
        }
    }

    rc3 = xf_decode(enc, p, len, max_out, &a, &o3, &n3);

    if (one && rc3 != rc1) {
        FUZZ_FAIL("one && rc3 != rc1");
    }

    if ((rc3 == XF_OK) != (rc1 == XF_OK)
        || (rc3 != rc1 && rc1 != XF_ERR_TOO_LARGE && rc3 != XF_ERR_TOO_LARGE))
    {
        FUZZ_FAIL("(rc3 == XF_OK) != (rc1 == XF_OK) || (rc3 != rc1 && rc1 != "
                  "XF_ERR_TOO_LARGE && rc3 != XF_ERR_TOO_LARGE)");
    }

    if (rc3 == XF_OK) {
        if (n3 != n1 || memcmp(o3, o1, n1) != 0) {
            FUZZ_FAIL("n3 != n1 || memcmp(o3, o1, n1) != 0");
        }

        a.free(a.data, o3);
    }

    if (enc == XF_ENC_BR && h.max_block > 2 * max_out + FUZZ_BLOCK_SLACK) {
        FUZZ_FAIL("enc == XF_ENC_BR && h.max_block > 2 * max_out + "
                  "FUZZ_BLOCK_SLACK");
    }

    free(o1);
    free(o2);

    return 0;
}


/* Decode in two chunks, p[0..split) and p[split..len); copy the output. */

static xf_status_t
fuzz_stream(xf_encoding_t enc, const u_char *p, size_t len, size_t split,
    const xf_alloc_t *a, size_t max_out, u_char **out, size_t *out_len)
{
    size_t         n;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *res;

    *out = NULL;
    *out_len = 0;

    rc = xf_decoder_create(&d, enc, max_out, a);
    if (rc != XF_OK) {
        return rc;
    }

    rc = xf_decoder_feed(d, p, split);

    if (xf_decoder_size(d) > max_out) {
        FUZZ_FAIL("xf_decoder_size(d) > max_out");
    }

    if (rc == XF_OK) {
        rc = xf_decoder_feed(d, p + split, len - split);
    }

    if (xf_decoder_size(d) > max_out) {
        FUZZ_FAIL("xf_decoder_size(d) > max_out");
    }

    if (rc == XF_OK) {
        rc = xf_decoder_finish(d, &res, &n);
    }

    if (rc == XF_OK) {
        *out = malloc(n + 1);
        if (*out == NULL) {
            FUZZ_FAIL("*out == NULL");
        }

        memcpy(*out, res, n);
        *out_len = n;
    }

    xf_decoder_free(d);

    return rc;
}


/* The largest block asked for (brotli's ring buffer stays within the cap). */

static void *
fuzz_alloc(void *data, size_t size)
{
    fuzz_heap_t  *h = data;

    if (size > h->max_block) {
        h->max_block = size;
    }

    return malloc(size);
}


static void
fuzz_free(void *data, void *p)
{
    (void) data;
    free(p);
}
