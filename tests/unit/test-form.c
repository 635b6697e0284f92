/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-form.c - form and query-string fields: iteration, lookup by
 * decoded name, duplicates, percent-decoding (good and bad), NUL bytes,
 * and encoding round trips.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xf_form.h"


#define S(s)  (const u_char *) (s), sizeof(s) - 1


typedef struct {
    const char   *form;
    size_t        form_len;
    const char   *key;
    xf_status_t   rc;
    const char   *raw;          /* the raw value found */
} test_get_t;

#define GET(form, key, rc, raw)  { form, sizeof(form) - 1, key, rc, raw }


static const test_get_t  test_get[] = {
    GET("a=1&b=2", "a", XF_OK, "1"),
    GET("a=1&b=2", "b", XF_OK, "2"),
    GET("a=1&b=2", "c", XF_ERR_EMPTY, NULL),
    GET("", "a", XF_ERR_EMPTY, NULL),
    GET("&&&", "a", XF_ERR_EMPTY, NULL),
    GET("&a=1&&b=2&", "b", XF_OK, "2"),
    GET("a", "a", XF_OK, ""),
    GET("a=", "a", XF_OK, ""),
    GET("a==x", "a", XF_OK, "=x"),
    GET("=1&a=2", "", XF_OK, "1"),
    GET("ab=1", "a", XF_ERR_EMPTY, NULL),
    GET("a=1;b=2", "b", XF_ERR_EMPTY, NULL),

    /* names are compared decoded */
    GET("data%5Flist=x", "data_list", XF_OK, "x"),
    GET("data%5flist=x", "data_list", XF_OK, "x"),
    GET("a+b=x", "a b", XF_OK, "x"),
    GET("a%00b=x", "a", XF_ERR_EMPTY, NULL),

    /* duplicates are rejected, however they are spelled */
    GET("data=1&data=2", "data", XF_ERR_FORM, NULL),
    GET("data=1&d%61ta=2", "data", XF_ERR_FORM, NULL),
    GET("data=1&x=0&data", "data", XF_ERR_FORM, NULL),
    GET("x=1&x=2&data=3", "data", XF_OK, "3"),

    /* a bad name is a bad form, whatever is looked up */
    GET("a%zz=1&data=3", "data", XF_ERR_FORM, NULL),
    GET("data=3&a%=1", "data", XF_ERR_FORM, NULL),
};


START_TEST(test_form_get)
{
    xf_status_t        rc;
    xf_form_field_t    f;
    const test_get_t  *t = &test_get[_i];

    rc = xf_form_get((const u_char *) t->form, t->form_len, t->key,
                     strlen(t->key), &f);

    ck_assert_msg(rc == t->rc, "case %d: %s, expected %s", _i,
                  xf_strerror(rc), xf_strerror(t->rc));

    if (rc == XF_OK) {
        ck_assert_uint_eq(f.value_len, strlen(t->raw));
        ck_assert_mem_eq(f.value, t->raw, f.value_len);
    }
}
END_TEST


typedef struct {
    const char   *in;
    size_t        in_len;
    unsigned      flags;
    xf_status_t   rc;
    const char   *out;
    size_t        out_len;
} test_dec_t;

#define DEC(in, flags, out)                                                 \
    { in, sizeof(in) - 1, flags, XF_OK, out, sizeof(out) - 1 }
#define DEC_BAD(in)                                                         \
    { in, sizeof(in) - 1, 0, XF_ERR_FORM, NULL, 0 }


static const test_dec_t  test_dec[] = {
    DEC("", 0, ""),
    DEC("abc", 0, "abc"),
    DEC("a+b", 0, "a b"),
    DEC("a+b", XF_FORM_PLUS_KEEP, "a+b"),
    DEC("%2B%2f%3D", 0, "+/="),
    DEC("%E6%B5%8B", 0, "\xe6\xb5\x8b"),
    DEC("%00%00", 0, "\0\0"),
    DEC("a\0b", 0, "a\0b"),
    DEC("%25", 0, "%"),
    DEC("%2525", 0, "%25"),
    DEC_BAD("%"),
    DEC_BAD("%2"),
    DEC_BAD("abc%"),
    DEC_BAD("%G0"),
    DEC_BAD("%0G"),
    DEC_BAD("% 1"),
    DEC_BAD("%%41"),
    DEC_BAD("%\0" "0"),
};


START_TEST(test_form_decode)
{
    size_t             n;
    u_char             out[64];
    xf_status_t        rc;
    const test_dec_t  *t = &test_dec[_i];

    rc = xf_form_decode((const u_char *) t->in, t->in_len, t->flags, out,
                        &n);

    ck_assert_msg(rc == t->rc, "case %d: %s", _i, xf_strerror(rc));

    /* validate agrees with decode */
    ck_assert_int_eq(xf_form_validate((const u_char *) t->in, t->in_len),
                     t->rc);

    if (rc == XF_OK) {
        ck_assert_uint_eq(n, t->out_len);
        ck_assert_mem_eq(out, t->out, n);
    }
}
END_TEST


/* No query at all: NULL with length 0, never handed to memchr. */
START_TEST(test_form_null_empty)
{
    xf_form_field_t  f;

    ck_assert_int_eq(xf_form_validate(NULL, 0), XF_OK);
    ck_assert_int_eq(xf_form_get(NULL, 0, "data", 4, &f), XF_ERR_EMPTY);
}
END_TEST


START_TEST(test_form_next)
{
    const u_char     *pos, *end;
    xf_form_field_t   f;
    static const u_char  form[] = "&a=1&&b&c=x=y&";

    pos = form;
    end = form + sizeof(form) - 1;

    ck_assert_int_eq(xf_form_next(&pos, end, &f), XF_OK);
    ck_assert_uint_eq(f.name_len, 1);
    ck_assert_mem_eq(f.value, "1", 1);

    ck_assert_int_eq(xf_form_next(&pos, end, &f), XF_OK);
    ck_assert_mem_eq(f.name, "b", 1);
    ck_assert_uint_eq(f.name_len, 1);
    ck_assert_uint_eq(f.value_len, 0);

    ck_assert_int_eq(xf_form_next(&pos, end, &f), XF_OK);
    ck_assert_mem_eq(f.name, "c", 1);
    ck_assert_uint_eq(f.value_len, 3);
    ck_assert_mem_eq(f.value, "x=y", 3);

    ck_assert_int_eq(xf_form_next(&pos, end, &f), XF_ERR_EMPTY);
    ck_assert_int_eq(xf_form_next(&pos, end, &f), XF_ERR_EMPTY);
}
END_TEST


START_TEST(test_form_decode_in_place)
{
    size_t  n;
    char    buf[] = "a%20b+c%2Bd";

    ck_assert_int_eq(xf_form_decode((u_char *) buf, strlen(buf), 0,
                                    (u_char *) buf, &n), XF_OK);
    ck_assert_uint_eq(n, 7);
    ck_assert_mem_eq(buf, "a b c+d", 7);
}
END_TEST


/* Every byte value: decode(encode(x)) == x, with and without '+'. */

START_TEST(test_form_round_trip)
{
    size_t  i, n, m;
    u_char  src[256], enc[768], dec[256];

    for (i = 0; i < sizeof(src); i++) {
        src[i] = (u_char) i;
    }

    n = xf_form_encode(enc, src, sizeof(src));
    ck_assert_uint_le(n, 3 * sizeof(src));
    ck_assert_ptr_null(memchr(enc, '&', n));
    ck_assert_ptr_null(memchr(enc, '=', n));
    ck_assert_int_eq(xf_form_decode(enc, n, 0, dec, &m), XF_OK);
    ck_assert_uint_eq(m, sizeof(src));
    ck_assert_mem_eq(dec, src, m);

    ck_assert(xf_form_is_encoded(enc, n));
    ck_assert(!xf_form_is_encoded(S("abc-_.*")));
}
END_TEST


START_TEST(test_form_name_is)
{
    ck_assert(xf_form_name_is(S("data"), "data", 4));
    ck_assert(xf_form_name_is(S("%64ata"), "data", 4));
    ck_assert(!xf_form_name_is(S("dat"), "data", 4));
    ck_assert(!xf_form_name_is(S("datas"), "data", 4));
    ck_assert(!xf_form_name_is(S("dat%"), "dat%", 4));
    ck_assert(!xf_form_name_is(S("da%7"), "da%7", 4));
    ck_assert(xf_form_name_is(S(""), "", 0));
    ck_assert(xf_form_name_is(S("a%00"), "a\0", 2));
}
END_TEST


Suite *
make_form_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("form");

    tc = tcase_create("fields");
    tcase_add_loop_test(tc, test_form_get, 0,
                        sizeof(test_get) / sizeof(test_get[0]));
    tcase_add_test(tc, test_form_next);
    tcase_add_test(tc, test_form_null_empty);
    tcase_add_test(tc, test_form_name_is);
    suite_add_tcase(s, tc);

    tc = tcase_create("decode");
    tcase_add_loop_test(tc, test_form_decode, 0,
                        sizeof(test_dec) / sizeof(test_dec[0]));
    tcase_add_test(tc, test_form_decode_in_place);
    tcase_add_test(tc, test_form_round_trip);
    suite_add_tcase(s, tc);

    return s;
}
