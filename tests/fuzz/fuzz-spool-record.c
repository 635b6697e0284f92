/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-spool-record.c - libFuzzer target for xf_spool_record_decode and
 * xf_spool_record_scan.
 *
 * Input: one selector byte, then the payload.  Selector bit 0 clear: the
 * payload is decoded as it is.  Set: the payload is a record body, framed
 * here with a header whose length and CRCs are right, so that the fuzzer
 * reaches the body's structure instead of stopping at the checksums.  The
 * selector's high 7 bits pick a prefix length, in 128ths of the input.
 *
 * Invariant: decoding arbitrary bytes never crashes, never reads out of
 * bounds and never leaks; a decoded record re-encodes to exactly the
 * bytes it was decoded from; every proper prefix of a record decodes as
 * NEED_MORE; a scan's good length is a record boundary no longer than the
 * input, and the scan agrees with decoding record by record.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_spool_record.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const u_char *p, size_t len, unsigned sel);


static void
fuzz_check(const u_char *p, size_t len, unsigned sel)
{
    size_t             n, need, cut, good, off;
    u_char            *re, *part;
    uint64_t           records, count;
    xf_spool_rc_t      rc;
    xf_spool_record_t  r;

    rc = xf_spool_record_decode(p, len, 0, &r, &n);

    if (rc == XF_SPOOL_OK) {
        if (n < XF_SPOOL_RECORD_MIN || n > len
            || xf_spool_record_size(&r) != n)
        {
            FUZZ_FAIL("n < XF_SPOOL_RECORD_MIN || n > len || "
                      "xf_spool_record_size(&r) != n");
        }

        re = malloc(n);
        if (re == NULL) {
            FUZZ_FAIL("out of memory");
        }

        if (xf_spool_record_encode(&r, re, n, &need) != XF_SPOOL_OK
            || need != n || memcmp(re, p, n) != 0)
        {
            FUZZ_FAIL("xf_spool_record_encode(&r, re, n, &need) != XF_SPOOL_OK "
                      "|| need != n || memcmp(re, p, n) != 0");
        }

        free(re);

        /* a proper prefix, copied so that ASan sees reads past it */

        cut = n * sel / 128;

        if (cut < n) {
            part = malloc(cut ? cut : 1);
            if (part == NULL) {
                FUZZ_FAIL("out of memory");
            }

            memcpy(part, p, cut);

            if (xf_spool_record_decode(part, cut, 0, &r, &need)
                != XF_SPOOL_NEED_MORE || need <= cut || need > n)
            {
                FUZZ_FAIL("xf_spool_record_decode(part, cut, 0, &r, &need) != "
                          "XF_SPOOL_NEED_MORE || need <= cut || need > n");
            }

            free(part);
        }

    } else if (rc == XF_SPOOL_NEED_MORE) {
        /* what it asks for is more than there is, and believable */

        if (n <= len || n > XF_SPOOL_RECORD_MAX
            || (len < XF_SPOOL_RECORD_HEADER && n != XF_SPOOL_RECORD_HEADER))
        {
            FUZZ_FAIL("n <= len || n > XF_SPOOL_RECORD_MAX || (len < "
                      "XF_SPOOL_RECORD_HEADER && n != XF_SPOOL_RECORD_HEADER)");
        }

    } else if (rc != XF_SPOOL_CORRUPT || n != 0) {
        FUZZ_FAIL("rc != XF_SPOOL_CORRUPT || n != 0");
    }

    rc = xf_spool_record_scan(p, len, 0, &good, &records);

    if (good > len || (rc == XF_SPOOL_OK) != (good == len)) {
        FUZZ_FAIL("good > len || (rc == XF_SPOOL_OK) != (good == len)");
    }

    for (off = 0, count = 0; off < good; off += n, count++) {
        if (xf_spool_record_decode(p + off, good - off, 0, &r, &n)
            != XF_SPOOL_OK)
        {
            FUZZ_FAIL("xf_spool_record_decode(p + off, good - off, 0, &r, &n) "
                      "!= XF_SPOOL_OK");
        }
    }

    if (off != good || count != records) {
        FUZZ_FAIL("off != good || count != records");
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char        *buf;
    unsigned       sel;
    fuzz_input_t   in;

    if (!fuzz_input(data, size, &in)) {
        return 0;
    }

    sel = fuzz_bits(&in, 1, 7);

    if (!fuzz_bits(&in, 0, 1)) {
        buf = malloc(in.len ? in.len : 1);
        if (buf == NULL) {
            FUZZ_FAIL("out of memory");
        }

        memcpy(buf, in.p, in.len);
        fuzz_check(buf, in.len, sel);
        free(buf);

        return 0;
    }

    buf = malloc(XF_SPOOL_RECORD_HEADER + in.len);
    if (buf == NULL) {
        FUZZ_FAIL("out of memory");
    }

    fuzz_check(buf, fuzz_frame_record(buf, in.p, in.len), sel);
    free(buf);

    return 0;
}
