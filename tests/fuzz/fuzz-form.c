/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-form.c - libFuzzer target for the form and query-string parser.
 *
 * Input: a form.
 *
 * Invariant: no crash, no undefined behaviour; xf_form_validate and
 * xf_form_decode agree on whether the percent-encoding is good; every
 * field xf_form_next returns lies within the input, and the fields with
 * their separators cover it exactly; on a valid form, xf_form_get on each
 * field's decoded name finds that field when the name is unique and
 * reports XF_ERR_FORM when it is not; and any bytes encoded with
 * xf_form_encode decode back to themselves.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_form.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define FUZZ_MAX_FIELDS  64


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t            n, m, i, j, nf, covered, same;
    u_char           *out, *enc, *name;
    xf_status_t       rc, rc2;
    const u_char     *pos, *end;
    xf_form_field_t   f[FUZZ_MAX_FIELDS], g;

    out = malloc(size + 1);
    enc = malloc(3 * size + 1);
    name = malloc(size + 1);

    if (out == NULL || enc == NULL || name == NULL) {
        FUZZ_FAIL("out of memory");
    }

    rc = xf_form_validate(data, size);
    rc2 = xf_form_decode(data, size, 0, out, &n);

    if (rc != rc2 || (rc != XF_OK && rc != XF_ERR_FORM)) {
        FUZZ_FAIL("rc != rc2 || (rc != XF_OK && rc != XF_ERR_FORM)");
    }

    if (rc == XF_OK && n > size) {
        FUZZ_FAIL("rc == XF_OK && n > size");
    }

    /* Fields: inside the input, covering it with the separators. */

    pos = data;
    end = data + size;
    nf = 0;
    covered = 0;

    while (xf_form_next(&pos, end, &g) == XF_OK) {
        if (g.name < data || g.name + g.name_len > end
            || g.value < data || g.value + g.value_len > end)
        {
            FUZZ_FAIL("g.name < data || g.name + g.name_len > end || g.value < "
                      "data || g.value + g.value_len > end");
        }

        covered += g.name_len + g.value_len
                   + (g.value != g.name + g.name_len ? 1 : 0);

        if (nf < FUZZ_MAX_FIELDS) {
            f[nf] = g;
        }

        nf++;
    }

    for (i = 0; i < size; i++) {
        if (data[i] == '&') {
            covered++;
        }
    }

    if (covered != size) {
        FUZZ_FAIL("covered != size");
    }

    /* Lookup by decoded name: unique names found, duplicates refused. */

    if (rc == XF_OK && nf <= FUZZ_MAX_FIELDS) {
        for (i = 0; i < nf; i++) {
            if (xf_form_decode(f[i].name, f[i].name_len, 0, name, &m)
                != XF_OK)
            {
                FUZZ_FAIL("xf_form_decode(f[i].name, f[i].name_len, 0, name, "
                          "&m) != XF_OK");
            }

            same = 0;

            for (j = 0; j < nf; j++) {
                same += xf_form_name_is(f[j].name, f[j].name_len,
                                        (const char *) name, m);
            }

            rc = xf_form_get(data, size, (const char *) name, m, &g);

            if (same == 0
                || (same == 1 && (rc != XF_OK || g.name != f[i].name))
                || (same > 1 && rc != XF_ERR_FORM))
            {
                FUZZ_FAIL("same == 0 || (same == 1 && (rc != XF_OK || g.name "
                          "!= f[i].name)) || (same > 1 && rc != XF_ERR_FORM)");
            }
        }
    }

    /* Round trip of arbitrary bytes. */

    n = xf_form_encode(enc, data, size);

    if (n > 3 * size || memchr(enc, '&', n) != NULL
        || xf_form_decode(enc, n, 0, out, &m) != XF_OK
        || m != size || memcmp(out, data, size) != 0)
    {
        FUZZ_FAIL("n > 3 * size || memchr(enc, '&', n) != NULL || "
                  "xf_form_decode(enc, n, 0, out, &m) != XF_OK || m != size || "
                  "memcmp(out, data, size) != 0");
    }

    free(out);
    free(enc);
    free(name);

    return 0;
}
