/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-base64.c - libFuzzer target for xf_base64_decode and
 * xf_base64_encode.
 *
 * Input: one selector byte (its low 2 bits are the decoding flags; 0 is
 * taken as both alphabets), then the text.
 *
 * Invariant: no crash, no undefined behaviour; the decoded length never
 * exceeds xf_base64_decoded_bound; decoding in place gives the same
 * result as decoding into another buffer; a text that decodes is the
 * canonical encoding of its bytes once line breaks and padding are
 * dropped and the alphabet is normalised, so encoding the bytes again
 * and decoding that gives the same bytes; and the input's bytes, encoded
 * with either alphabet, decode back to themselves.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base64.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t         len, n, n2, n3, i, j;
    u_char        *out, *copy, *enc, *dec;
    unsigned       flags, f;
    xf_status_t    rc, rc2;
    const u_char  *p;
    fuzz_input_t   in;

    if (!fuzz_input(data, size, &in)) {
        return 0;
    }

    flags = fuzz_bits(&in, 0, 2);
    if (flags == 0) {
        flags = XF_BASE64_ANY;
    }

    p = in.p;
    len = in.len;

    out = malloc(xf_base64_decoded_bound(len));
    copy = malloc(len + 1);
    enc = malloc(xf_base64_encoded_len(len) + 1);
    dec = malloc(xf_base64_decoded_bound(xf_base64_encoded_len(len)) + 1);

    if (out == NULL || copy == NULL || enc == NULL || dec == NULL) {
        FUZZ_FAIL("out of memory");
    }

    rc = xf_base64_decode(p, len, flags, out, &n);

    memcpy(copy, p, len);
    rc2 = xf_base64_decode(copy, len, flags, copy, &n2);

    if (rc != rc2) {
        FUZZ_FAIL("rc != rc2");
    }

    if (rc == XF_OK) {
        if (n > xf_base64_decoded_bound(len) || n != n2
            || memcmp(out, copy, n) != 0)
        {
            FUZZ_FAIL("n > xf_base64_decoded_bound(len) || n != n2 || "
                      "memcmp(out, copy, n) != 0");
        }

        /* Canonical: the text without CR, LF, '=' is the encoding. */

        f = (flags == XF_BASE64_URL) ? XF_BASE64_URL : XF_BASE64_STD;
        n3 = xf_base64_encode(enc, out, n, f);

        for (i = 0, j = 0; i < len; i++) {
            u_char c = p[i];

            if (c == '\r' || c == '\n' || c == '=') {
                continue;
            }

            if (f == XF_BASE64_STD) {
                c = (c == '-') ? '+' : (c == '_') ? '/' : c;
            }

            while (j < n3 && enc[j] == '=') {
                j++;
            }

            if (j >= n3 || enc[j] != c) {
                FUZZ_FAIL("j >= n3 || enc[j] != c");
            }

            j++;
        }

        while (j < n3 && enc[j] == '=') {
            j++;
        }

        if (j != n3) {
            FUZZ_FAIL("j != n3");
        }

    } else if (rc != XF_ERR_BASE64) {
        FUZZ_FAIL("rc != XF_ERR_BASE64");
    }

    /* The raw bytes round-trip through both alphabets. */

    for (f = XF_BASE64_STD; f <= XF_BASE64_URL; f++) {
        n3 = xf_base64_encode(enc, p, len, f);

        if (n3 > xf_base64_encoded_len(len)
            || xf_base64_decode(enc, n3, f, dec, &n) != XF_OK
            || n != len || memcmp(dec, p, len) != 0)
        {
            FUZZ_FAIL("n3 > xf_base64_encoded_len(len) || "
                      "xf_base64_decode(enc, n3, f, dec, &n) != XF_OK || n != "
                      "len || memcmp(dec, p, len) != 0");
        }
    }

    free(out);
    free(copy);
    free(enc);
    free(dec);

    return 0;
}
