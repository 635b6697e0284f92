/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-siphash.c - SipHash-2-4-128 fed in pieces (rate_limit/xrl_hash.c,
 * which names core's cached references): the reference implementation's
 * vectors (key 00..0f, input 00..n-1), and any split of an input into
 * pieces gives the hash of the whole.
 */

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "xf_core.h"
#include "xrl.h"


/* Computed independently: `openssl mac -macopt hexkey:0001..0f
 * -macopt size:16 SIPHASH`; the first and last match vectors.h. */
static const struct {
    size_t       len;
    const char  *hash;
} vectors[] = {
    { 0,  "a3817f04ba25a8e66df67214c7550293" },
    { 1,  "da87c1d86b99af44347659119b22fc45" },
    { 7,  "a1f1ebbed8dbc153c0b84aa61ff08239" },
    { 8,  "3b62a9ba6258f5610f83e264f31497b4" },
    { 9,  "264499060ad9baabc47f8b02bb6d71ed" },
    { 15, "5493e99933b0a8117e08ec0f97cfc3d9" },
    { 16, "6ee2a4ca67b054bbfd3315bf85230577" },
    { 63, "5150d1772f50834a503e069a973fbd7c" },
};


static void
hex128(char *dst, const uint64_t h[2])
{
    int  i;

    for (i = 0; i < 16; i++) {
        sprintf(dst + 2 * i, "%02x",
                (unsigned) (h[i / 8] >> (8 * (i % 8))) & 0xff);
    }
}


/* The key 00..0f as the reference reads it: two little-endian words. */
static void
input(uint64_t *key, u_char *in)
{
    int  i;

    key[0] = 0x0706050403020100ULL;
    key[1] = 0x0f0e0d0c0b0a0908ULL;

    for (i = 0; i < 64; i++) {
        in[i] = (u_char) i;
    }
}


START_TEST(test_vectors)
{
    char          got[33];
    u_char        in[64];
    uint64_t      key[2], h[2];
    xrl_sip_t     s;

    input(key, in);

    xrl_sip_init(&s, key[0], key[1], 1);
    xrl_sip_update(&s, in, vectors[_i].len);
    h[0] = xrl_sip_final(&s, &h[1]);

    hex128(got, h);
    ck_assert_str_eq(got, vectors[_i].hash);
}
END_TEST


START_TEST(test_pieces)
{
    size_t        n, a, b;
    u_char        in[64];
    uint64_t      key[2], whole[2], h[2], narrow;
    xrl_sip_t     s;

    input(key, in);

    for (n = 0; n <= 40; n++) {
        xrl_sip_init(&s, key[0], key[1], 1);
        xrl_sip_update(&s, in, n);
        whole[0] = xrl_sip_final(&s, &whole[1]);
        narrow = xrl_siphash24(in, n, key[0], key[1]);

        for (a = 0; a <= n; a++) {
            for (b = a; b <= n; b++) {
                xrl_sip_init(&s, key[0], key[1], 1);
                xrl_sip_update(&s, in, a);
                xrl_sip_update(&s, in + a, b - a);
                xrl_sip_update(&s, in + b, n - b);
                h[0] = xrl_sip_final(&s, &h[1]);

                ck_assert_msg(h[0] == whole[0] && h[1] == whole[1],
                              "%zu bytes as %zu + %zu + %zu", n, a, b - a,
                              n - b);

                /* the 64-bit variant, against the one-shot call */
                xrl_sip_init(&s, key[0], key[1], 0);
                xrl_sip_update(&s, in, a);
                xrl_sip_update(&s, in + a, b - a);
                xrl_sip_update(&s, in + b, n - b);
                ck_assert_msg(xrl_sip_final(&s, NULL) == narrow,
                              "64 bits: %zu as %zu + %zu + %zu", n, a,
                              b - a, n - b);
            }
        }
    }
}
END_TEST


Suite *
make_siphash_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("siphash");

    tc = tcase_create("siphash");
    tcase_add_loop_test(tc, test_vectors, 0,
                        sizeof(vectors) / sizeof(vectors[0]));
    tcase_add_test(tc, test_pieces);
    suite_add_tcase(s, tc);

    return s;
}
