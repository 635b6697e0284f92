/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-decode.c - libFuzzer target for xf_decode.
 *
 * Input: one selector byte, then the encoded body.  The selector's low 2
 * bits pick the encoding (0 identity, 1 gzip, 2 deflate, 3 zstd); its
 * high 6 bits pick where the body is split, in 64ths of its length.
 *
 * Invariant: no crash, no undefined behaviour, no leak; the output never
 * exceeds max_out; feeding the body in two chunks at the chosen split
 * gives the same output as feeding it in one chunk, or both fail (with
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


#define FUZZ_MAX_OUT  (128 * 1024)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xf_status_t fuzz_stream(xf_encoding_t enc, const u_char *p,
    size_t len, size_t split, u_char **out, size_t *out_len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          len, split, n1, n2, n3;
    u_char         *o1, *o2, *o3;
    unsigned        one;
    xf_status_t     rc1, rc2, rc3;
    const u_char   *p;
    xf_encoding_t   enc;
    fuzz_input_t    in;

    if (!fuzz_input(data, size, &in)) {
        return 0;
    }

    enc = (xf_encoding_t) fuzz_bits(&in, 0, 2);
    p = in.p;
    len = in.len;
    split = fuzz_share(&in, len, 2);

    rc1 = fuzz_stream(enc, p, len, len, &o1, &n1);
    rc2 = fuzz_stream(enc, p, len, split, &o2, &n2);

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
        if (n1 > FUZZ_MAX_OUT || n1 != n2 || memcmp(o1, o2, n1) != 0) {
            FUZZ_FAIL("n1 > FUZZ_MAX_OUT || n1 != n2 || memcmp(o1, o2, n1) != "
                      "0");
        }
    }

    rc3 = xf_decode(enc, p, len, FUZZ_MAX_OUT, &xf_alloc_libc, &o3, &n3);

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

        free(o3);
    }

    free(o1);
    free(o2);

    return 0;
}


/* Decode in two chunks, p[0..split) and p[split..len); copy the output. */

static xf_status_t
fuzz_stream(xf_encoding_t enc, const u_char *p, size_t len, size_t split,
    u_char **out, size_t *out_len)
{
    size_t         n;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *res;

    *out = NULL;
    *out_len = 0;

    rc = xf_decoder_create(&d, enc, FUZZ_MAX_OUT, &xf_alloc_libc);
    if (rc != XF_OK) {
        return rc;
    }

    rc = xf_decoder_feed(d, p, split);

    if (xf_decoder_size(d) > FUZZ_MAX_OUT) {
        FUZZ_FAIL("xf_decoder_size(d) > FUZZ_MAX_OUT");
    }

    if (rc == XF_OK) {
        rc = xf_decoder_feed(d, p + split, len - split);
    }

    if (xf_decoder_size(d) > FUZZ_MAX_OUT) {
        FUZZ_FAIL("xf_decoder_size(d) > FUZZ_MAX_OUT");
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
