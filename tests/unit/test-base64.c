/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-base64.c - base64 decoding (RFC 4648 vectors, both alphabets,
 * optional padding, line breaks, every kind of bad input), encoding
 * round trips, and the Java string hash against values Java prints.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base64.h"


typedef struct {
    const char   *in;
    size_t        in_len;
    unsigned      flags;
    xf_status_t   rc;
    const char   *out;
    size_t        out_len;
} test_b64_t;

#define OK(in, flags, out)                                                  \
    { in, sizeof(in) - 1, flags, XF_OK, out, sizeof(out) - 1 }
#define BAD(in, flags)                                                      \
    { in, sizeof(in) - 1, flags, XF_ERR_BASE64, NULL, 0 }

#define STD  XF_BASE64_STD
#define URL  XF_BASE64_URL
#define ANY  XF_BASE64_ANY


static const test_b64_t  test_b64[] = {
    /* RFC 4648 section 10, padded and not */
    OK("", STD, ""),
    OK("Zg==", STD, "f"),
    OK("Zm8=", STD, "fo"),
    OK("Zm9v", STD, "foo"),
    OK("Zm9vYg==", STD, "foob"),
    OK("Zm9vYmE=", STD, "fooba"),
    OK("Zm9vYmFy", STD, "foobar"),
    OK("Zg", STD, "f"),
    OK("Zm8", STD, "fo"),
    OK("Zm9vYg", STD, "foob"),

    /* alphabets */
    OK("+/+/", STD, "\xfb\xff\xbf"),
    OK("-_-_", URL, "\xfb\xff\xbf"),
    OK("+_-/", ANY, "\xfb\xff\xbf"),
    BAD("+/+/", URL),
    BAD("-_-_", STD),

    /* NUL bytes decode like any other byte */
    OK("AAAA", STD, "\0\0\0"),
    OK("AA==", STD, "\0"),

    /* line breaks are skipped, anywhere (Android wraps at 76) */
    OK("Zm9v\nYmFy", STD, "foobar"),
    OK("Zm9v\r\nYmFy\r\n", STD, "foobar"),
    OK("Z\nm\r9\nv", STD, "foo"),
    OK("Zg=\n=", STD, "f"),

    /* bad characters: space, tab, NUL, '.', 8-bit */
    BAD("Zm9v YmFy", STD),
    BAD("Zm9v\tYmFy", STD),
    BAD("Zm9v\0YmFy", ANY),
    BAD("Zm9v.mFy", ANY),
    BAD("Zm9v\xc3\xa9", ANY),
    BAD("%2B%2F", ANY),

    /* bad padding */
    BAD("=", STD),
    BAD("====", STD),
    BAD("Z===", STD),
    BAD("Zg=", STD),
    BAD("Zg===", STD),
    BAD("Zm8==", STD),
    BAD("Zg==Zg==", STD),
    BAD("Zm9v=", STD),
    BAD("Zg=a", STD),

    /* a lone last character, bits left over */
    BAD("Z", STD),
    BAD("Zm9vY", STD),
    BAD("Zh==", STD),
    BAD("Zh", STD),
    BAD("Zm9=", STD),
};


START_TEST(test_base64_table)
{
    size_t             n;
    u_char             out[64];
    xf_status_t        rc;
    const test_b64_t  *t = &test_b64[_i];

    n = 12345;
    rc = xf_base64_decode((const u_char *) t->in, t->in_len, t->flags, out,
                          &n);

    ck_assert_msg(rc == t->rc, "case %d: %s, expected %s", _i,
                  xf_strerror(rc), xf_strerror(t->rc));

    if (rc == XF_OK) {
        ck_assert_uint_eq(n, t->out_len);
        ck_assert_mem_eq(out, t->out, n);
        ck_assert_uint_le(n, xf_base64_decoded_bound(t->in_len));
    }
}
END_TEST


/* Decoding in place: the output never overtakes the input. */

START_TEST(test_base64_in_place)
{
    size_t  n;
    char    buf[] = "SGVsbG8sIHdvcmxkIQ\r\n==";

    ck_assert_int_eq(xf_base64_decode((u_char *) buf, strlen(buf),
                                      XF_BASE64_STD, (u_char *) buf, &n),
                     XF_OK);
    ck_assert_uint_eq(n, 13);
    ck_assert_mem_eq(buf, "Hello, world!", 13);
}
END_TEST


/* Every length 0..300, every byte value: decode(encode(x)) == x. */

START_TEST(test_base64_round_trip)
{
    size_t    len, i, n, m;
    u_char    src[300], enc[404], dec[304];
    unsigned  flags;

    for (i = 0; i < sizeof(src); i++) {
        src[i] = (u_char) (i * 131 + 7);
    }

    for (flags = XF_BASE64_STD; flags <= XF_BASE64_URL; flags++) {
        for (len = 0; len <= sizeof(src); len++) {
            n = xf_base64_encode(enc, src, len, flags);

            if (flags == XF_BASE64_STD) {
                ck_assert_uint_eq(n, xf_base64_encoded_len(len));
            } else {
                ck_assert_uint_le(n, xf_base64_encoded_len(len));
            }

            ck_assert_int_eq(xf_base64_decode(enc, n, flags, dec, &m),
                             XF_OK);
            ck_assert_uint_eq(m, len);
            ck_assert_mem_eq(dec, src, len);
        }
    }
}
END_TEST


/* Java: "".hashCode() == 0, "a" 97, "hello" 99162322, overflow wraps. */

START_TEST(test_java_hash)
{
    static const struct {
        const char  *s;
        int32_t      h;
    } t[] = {
        { "", 0 },
        { "a", 97 },
        { "hello", 99162322 },
        { "Hello, world!", -1880044555 },
        { "eyJhIjoxfQ==", -1930075513 },
        { "polygenelubricants", INT32_MIN },
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_int_eq(xf_java_string_hash((const u_char *) t[i].s,
                                             strlen(t[i].s)), t[i].h);
    }
}
END_TEST


Suite *
make_base64_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("base64");

    tc = tcase_create("decode");
    tcase_add_loop_test(tc, test_base64_table, 0,
                        sizeof(test_b64) / sizeof(test_b64[0]));
    tcase_add_test(tc, test_base64_in_place);
    tcase_add_test(tc, test_base64_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_add_test(tc, test_java_hash);
    suite_add_tcase(s, tc);

    return s;
}
