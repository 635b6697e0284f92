/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-hashref.c - keyed hashed references: the HMAC underneath (RFC 4231
 * vectors), the reference format, tags, keys and key ids, the cache of
 * references (the same answers as the HMAC, no value held).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_hashref.h"


#define KEY32  "0123456789abcdef0123456789abcdef"


static void
hex(char *dst, const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        sprintf(dst + 2 * i, "%02x", p[i]);
    }
}


static xf_hashref_t *
make_key(const char *key, size_t len)
{
    const char    *err;
    xf_hashref_t  *h;

    h = NULL;
    err = xf_hashref_create((const u_char *) key, len, (const u_char *) "k1",
                            2, &xf_alloc_libc, &h);
    ck_assert_msg(err == NULL, "create: %s", err ? err : "");
    ck_assert_ptr_nonnull(h);

    return h;
}


/* RFC 4231 section 4: HMAC-SHA-256 of each test case. */
static const struct {
    u_char       key[131];
    size_t       key_len;
    const char  *data;
    size_t       data_len;
    const char  *mac;
    size_t       mac_len;           /* case 5 is checked on 128 bits */
} rfc4231[] = {
    { { 0 }, 20, "Hi There", 8,
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      32 },
    { "Jefe", 4, "what do ya want for nothing?", 28,
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      32 },
    { { 0 }, 20, NULL, 50,
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
      32 },
    { { 0 }, 25, NULL, 50,
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
      32 },
    { { 0 }, 20, "Test With Truncation", 20,
      "a3b6167473100ee06e0c796c2955552b", 16 },
    { { 0 }, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
      54,
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      32 },
    { { 0 }, 131,
      "This is a test using a larger than block-size key and a larger than "
      "block-size data. The key needs to be hashed before being used by "
      "the HMAC algorithm.", 152,
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
      32 },
};


START_TEST(test_rfc4231)
{
    int                 i, j;
    char                got[65];
    u_char              key[131], data[152], mac[32];
    const char         *err;
    xf_hashref_t       *h;
    xf_hashref_part_t   part, two[2];

    i = _i;
    memcpy(key, rfc4231[i].key, sizeof(key));

    switch (i) {
    case 0:
        memset(key, 0x0b, 20);
        break;
    case 2:
        memset(key, 0xaa, 20);
        memset(data, 0xdd, 50);
        break;
    case 3:
        for (j = 0; j < 25; j++) {
            key[j] = (u_char) (j + 1);
        }
        memset(data, 0xcd, 50);
        break;
    case 4:
        memset(key, 0x0c, 20);
        break;
    case 5:
    case 6:
        memset(key, 0xaa, 131);
        break;
    }

    if (rfc4231[i].data != NULL) {
        memcpy(data, rfc4231[i].data, rfc4231[i].data_len);
    }

    err = xf_hashref_create_raw(key, rfc4231[i].key_len,
                                (const u_char *) "t", 1, &xf_alloc_libc, &h);
    ck_assert_msg(err == NULL, "%s", err ? err : "");

    part.p = data;
    part.len = rfc4231[i].data_len;
    ck_assert_int_eq(xf_hashref_hmac(h, &part, 1, mac), XF_OK);

    hex(got, mac, rfc4231[i].mac_len);
    ck_assert_str_eq(got, rfc4231[i].mac);

    /* split input, same MAC */

    two[0].p = data;
    two[0].len = 3;
    two[1].p = data + 3;
    two[1].len = rfc4231[i].data_len - 3;
    ck_assert_int_eq(xf_hashref_hmac(h, two, 2, mac), XF_OK);
    hex(got, mac, rfc4231[i].mac_len);
    ck_assert_str_eq(got, rfc4231[i].mac);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


/*
 * base64url(HMAC-SHA-256(KEY32, tag ':' input)[0..16)), computed
 * independently (Python's hmac module).
 */
START_TEST(test_reference_known_answer)
{
    u_char         ref[XF_HASHREF_LEN];
    xf_hashref_t  *h;

    h = make_key(KEY32, 32);

    ck_assert_int_eq(xf_hashref(h, XF_HASHREF_UA,
                                (const u_char *) "Mozilla/5.0", 11, ref),
                     XF_OK);
    ck_assert_mem_eq(ref, "NxGzkCVLH7XqsjM_-E7AGg", XF_HASHREF_LEN);

    ck_assert_int_eq(xf_hashref_cookie(h, (const u_char *) "sid", 3,
                                       (const u_char *) "abc", 3, ref),
                     XF_OK);
    ck_assert_mem_eq(ref, "guuwrE0FpZr2M4E8-bJ_Ng", XF_HASHREF_LEN);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


/*
 * The cookieless id: stable within a UTC day, another one the next day
 * (the salt rotates with the day the caller passes: the core reads no
 * clock), another one for another address, User-Agent or app; known
 * answers computed independently (Python's hmac module).
 */
START_TEST(test_cookieless_rotation)
{
    u_char         a[XF_HASHREF_LEN], b[XF_HASHREF_LEN];
    xf_hashref_t  *h;

    h = make_key(KEY32, 32);

#define CL(day, app, ip, ua, out)                                             \
    ck_assert_int_eq(xf_hashref_cookieless(h, day,                            \
                         (const u_char *) app, sizeof(app) - 1,               \
                         (const u_char *) ip, sizeof(ip) - 1,                 \
                         (const u_char *) ua, sizeof(ua) - 1, out), XF_OK)

    /* 20429: 2025-12-07 */
    CL(20429, "phc_x", "81.2.69.160", "Mozilla/5.0", a);
    ck_assert_mem_eq(a, "EedXNY40lMSo6uHA9d1dEg", XF_HASHREF_LEN);

    CL(20429, "phc_x", "81.2.69.160", "Mozilla/5.0", b);
    ck_assert_mem_eq(a, b, XF_HASHREF_LEN);

    /* the next day's salt: another id for the same visitor */
    CL(20430, "phc_x", "81.2.69.160", "Mozilla/5.0", b);
    ck_assert_mem_eq(b, "Fw6HOD19EwwF1_2C_ZmXGg", XF_HASHREF_LEN);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);

    CL(20429, "phc_y", "81.2.69.160", "Mozilla/5.0", b);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);
    CL(20429, "phc_x", "81.2.69.161", "Mozilla/5.0", b);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);
    CL(20429, "phc_x", "81.2.69.160", "Mozilla/5.1", b);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);

    /* the lengths keep the parts apart: "ab"+"c" is not "a"+"bc" */
    CL(20429, "phc_x1", "1.2.3.4", "", a);
    CL(20429, "phc_x", "11.2.3.4", "", b);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);

    /* never the reference of any tagged input of another role */
    CL(20429, "", "", "", a);
    xf_hashref(h, XF_HASHREF_FIELD, (const u_char *) "", 0, b);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);

#undef CL

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_reference_alphabet_and_stability)
{
    int            i, j;
    u_char         a[XF_HASHREF_LEN], b[XF_HASHREF_LEN], in[8];
    xf_hashref_t  *h;

    h = make_key(KEY32, 32);

    for (i = 0; i < 1000; i++) {
        memcpy(in, &i, sizeof(i));

        ck_assert_int_eq(xf_hashref(h, 'f', in, sizeof(i), a), XF_OK);
        ck_assert_int_eq(xf_hashref(h, 'f', in, sizeof(i), b), XF_OK);
        ck_assert_mem_eq(a, b, XF_HASHREF_LEN);

        for (j = 0; j < XF_HASHREF_LEN; j++) {
            ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                             "vwxyz0123456789-_", a[j]) != NULL);
        }

        /* 128 bits: the last character carries two bits, then zeros */
        ck_assert(strchr("AQgw", a[21]) != NULL);
    }

    /* the empty input has a reference too */
    ck_assert_int_eq(xf_hashref(h, 'u', NULL, 0, a), XF_OK);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_tags_separate_roles)
{
    u_char         u[XF_HASHREF_LEN], f[XF_HASHREF_LEN], c[XF_HASHREF_LEN];
    u_char         c2[XF_HASHREF_LEN];
    xf_hashref_t  *h;

    h = make_key(KEY32, 32);

    xf_hashref(h, XF_HASHREF_UA, (const u_char *) "x=y", 3, u);
    xf_hashref(h, XF_HASHREF_FIELD, (const u_char *) "x=y", 3, f);
    xf_hashref_cookie(h, (const u_char *) "x", 1, (const u_char *) "y", 1,
                      c);
    ck_assert(memcmp(u, f, XF_HASHREF_LEN) != 0);
    ck_assert(memcmp(u, c, XF_HASHREF_LEN) != 0);
    ck_assert(memcmp(f, c, XF_HASHREF_LEN) != 0);

    /* the cookie reference is the tagged input "c:x=y" */
    xf_hashref(h, XF_HASHREF_COOKIE, (const u_char *) "x=y", 3, c2);
    ck_assert_mem_eq(c, c2, XF_HASHREF_LEN);

    /* the name is part of a cookie's input */
    xf_hashref_cookie(h, (const u_char *) "z", 1, (const u_char *) "y", 1,
                      c2);
    ck_assert(memcmp(c, c2, XF_HASHREF_LEN) != 0);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_keys_differ)
{
    u_char         a[XF_HASHREF_LEN], b[XF_HASHREF_LEN];
    xf_hashref_t  *h1, *h2;

    h1 = make_key(KEY32, 32);
    h2 = make_key("1123456789abcdef0123456789abcdef", 32);

    xf_hashref(h1, 'u', (const u_char *) "ua", 2, a);
    xf_hashref(h2, 'u', (const u_char *) "ua", 2, b);
    ck_assert(memcmp(a, b, XF_HASHREF_LEN) != 0);

    xf_hashref_destroy(h1, &xf_alloc_libc);
    xf_hashref_destroy(h2, &xf_alloc_libc);
}
END_TEST


START_TEST(test_key_trailing_newline)
{
    u_char         a[XF_HASHREF_LEN], b[XF_HASHREF_LEN], c[XF_HASHREF_LEN];
    u_char         d[XF_HASHREF_LEN];
    xf_hashref_t  *h1, *h2, *h3, *h4;

    h1 = make_key(KEY32, 32);
    h2 = make_key(KEY32 "\n", 33);
    h3 = make_key(KEY32 "\r\n", 34);
    h4 = make_key(KEY32 "\n\n", 34);        /* only one line end goes */

    xf_hashref(h1, 'u', (const u_char *) "ua", 2, a);
    xf_hashref(h2, 'u', (const u_char *) "ua", 2, b);
    xf_hashref(h3, 'u', (const u_char *) "ua", 2, c);
    xf_hashref(h4, 'u', (const u_char *) "ua", 2, d);
    ck_assert_mem_eq(a, b, XF_HASHREF_LEN);
    ck_assert_mem_eq(a, c, XF_HASHREF_LEN);
    ck_assert(memcmp(a, d, XF_HASHREF_LEN) != 0);

    xf_hashref_destroy(h1, &xf_alloc_libc);
    xf_hashref_destroy(h2, &xf_alloc_libc);
    xf_hashref_destroy(h3, &xf_alloc_libc);
    xf_hashref_destroy(h4, &xf_alloc_libc);
}
END_TEST


START_TEST(test_key_refused)
{
    const char    *err;
    xf_hashref_t  *h;

    h = NULL;

    err = xf_hashref_create((const u_char *) KEY32, 31,
                            (const u_char *) "k1", 2, &xf_alloc_libc, &h);
    ck_assert_str_eq(err, "key shorter than 32 bytes");

    /* 31 bytes and a newline are 31 bytes of key */
    err = xf_hashref_create((const u_char *) "0123456789abcdef0123456789abcde"
                            "\n", 32, (const u_char *) "k1", 2,
                            &xf_alloc_libc, &h);
    ck_assert_str_eq(err, "key shorter than 32 bytes");

    err = xf_hashref_create((const u_char *) "", 0, (const u_char *) "k1", 2,
                            &xf_alloc_libc, &h);
    ck_assert_ptr_nonnull(err);

    err = xf_hashref_create((const u_char *) KEY32, 32,
                            (const u_char *) "a\"b", 3, &xf_alloc_libc, &h);
    ck_assert_ptr_nonnull(err);

    err = xf_hashref_create((const u_char *) KEY32, 32,
                            (const u_char *) KEY32 "x", 33, &xf_alloc_libc,
                            &h);
    ck_assert_ptr_nonnull(err);

    ck_assert_ptr_null(h);
}
END_TEST


START_TEST(test_kid)
{
    size_t         n;
    const u_char  *kid;
    xf_hashref_t  *h;

    ck_assert_ptr_null(xf_hashref_create((const u_char *) KEY32, 32,
                                         (const u_char *) "2024-06.a_B", 11,
                                         &xf_alloc_libc, &h));
    kid = xf_hashref_kid(h, &n);
    ck_assert_uint_eq(n, 11);
    ck_assert_mem_eq(kid, "2024-06.a_B", 11);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


/* Without an id: the key's reference of "k:", 8 characters. */
START_TEST(test_kid_derived)
{
    size_t         n;
    u_char         ref[XF_HASHREF_LEN];
    const u_char  *kid;
    xf_hashref_t  *h, *h2;

    ck_assert_ptr_null(xf_hashref_create((const u_char *) KEY32, 32, NULL, 0,
                                         &xf_alloc_libc, &h));
    kid = xf_hashref_kid(h, &n);
    ck_assert_uint_eq(n, XF_HASHREF_KID_DEFAULT);

    xf_hashref(h, XF_HASHREF_KID, NULL, 0, ref);
    ck_assert_mem_eq(kid, ref, XF_HASHREF_KID_DEFAULT);

    /* another key, another id */
    ck_assert_ptr_null(xf_hashref_create((const u_char *) KEY32 "x", 33, NULL,
                                         0, &xf_alloc_libc, &h2));
    ck_assert(memcmp(xf_hashref_kid(h2, &n), kid, XF_HASHREF_KID_DEFAULT)
              != 0);

    xf_hashref_destroy(h, &xf_alloc_libc);
    xf_hashref_destroy(h2, &xf_alloc_libc);
}
END_TEST


START_TEST(test_u64)
{
    /* "AAAAAAAAAAB..." : the 64th bit is the top bit of the 11th char */
    ck_assert_uint_eq(xf_hashref_u64((const u_char *) "AAAAAAAAAAAAAAAAAAAAAA"),
                      0);
    ck_assert_uint_eq(xf_hashref_u64((const u_char *) "AAAAAAAAAAEAAAAAAAAAAA"),
                      1);
    ck_assert_uint_eq(xf_hashref_u64((const u_char *) "__________8AAAAAAAAAAA"),
                      0xffffffffffffffffULL);
    ck_assert_uint_eq(xf_hashref_u64((const u_char *) "gAAAAAAAAAAAAAAAAAAAAA"),
                      0x8000000000000000ULL);
}
END_TEST


/* libc's malloc that remembers the last block, to search a key state */
static void   *last_block;
static size_t  last_size;


static void *
remember_alloc(void *data, size_t size)
{
    (void) data;

    last_block = malloc(size);
    last_size = size;

    return last_block;
}


static void
remember_free(void *data, void *p)
{
    (void) data;
    free(p);
}


/*
 * The cache answers what the HMAC does: a state with the cache and one
 * without, same key, over values that repeat, that evict each other
 * (more values than entries) and in every cached role; the cache hits.
 */
START_TEST(test_cache_equals_hmac)
{
    int            i, v;
    char           val[32];
    size_t         n;
    u_char         a[XF_HASHREF_LEN], b[XF_HASHREF_LEN];
    uint64_t       x;
    xf_hashref_t  *hc, *hn;

    hc = make_key(KEY32, 32);
    hn = make_key(KEY32, 32);
    xf_hashref_cache(hn, 0);

    x = 88172645463325252ULL;

    for (i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;

        /* 1,500 distinct values: more than the cache's 512 entries */
        v = (int) (x % 1500);
        n = (size_t) snprintf(val, sizeof(val), "v%d", v);

        switch (x >> 60 & 3) {
        case 0:
            ck_assert_int_eq(xf_hashref_cookie(hc, (const u_char *) "sid",
                                               3, (const u_char *) val, n,
                                               a), XF_OK);
            ck_assert_int_eq(xf_hashref_cookie(hn, (const u_char *) "sid",
                                               3, (const u_char *) val, n,
                                               b), XF_OK);
            break;

        case 1:
            /* the same bytes, split elsewhere between name and value */
            ck_assert_int_eq(xf_hashref_cookie(hc, (const u_char *) "si",
                                               2, (const u_char *) val, n,
                                               a), XF_OK);
            ck_assert_int_eq(xf_hashref_cookie(hn, (const u_char *) "si",
                                               2, (const u_char *) val, n,
                                               b), XF_OK);
            break;

        case 2:
            ck_assert_int_eq(xf_hashref(hc, XF_HASHREF_UA,
                                        (const u_char *) val, n, a), XF_OK);
            ck_assert_int_eq(xf_hashref(hn, XF_HASHREF_UA,
                                        (const u_char *) val, n, b), XF_OK);
            break;

        default:
            ck_assert_int_eq(xf_hashref(hc, XF_HASHREF_FIELD,
                                        (const u_char *) val, n, a), XF_OK);
            ck_assert_int_eq(xf_hashref(hn, XF_HASHREF_FIELD,
                                        (const u_char *) val, n, b), XF_OK);
            break;
        }

        ck_assert_msg(memcmp(a, b, XF_HASHREF_LEN) == 0, "value %s", val);
    }

    ck_assert_uint_gt(xf_hashref_cache_hits(hc), 1000);
    ck_assert_uint_eq(xf_hashref_cache_hits(hn), 0);

    /* the known answers hold through the cache, on a miss and a hit */
    for (i = 0; i < 2; i++) {
        xf_hashref(hc, XF_HASHREF_UA, (const u_char *) "Mozilla/5.0", 11, a);
        ck_assert_mem_eq(a, "NxGzkCVLH7XqsjM_-E7AGg", XF_HASHREF_LEN);
        xf_hashref_cookie(hc, (const u_char *) "sid", 3,
                          (const u_char *) "abc", 3, a);
        ck_assert_mem_eq(a, "guuwrE0FpZr2M4E8-bJ_Ng", XF_HASHREF_LEN);
    }

    xf_hashref_destroy(hc, &xf_alloc_libc);
    xf_hashref_destroy(hn, &xf_alloc_libc);
}
END_TEST


/* The cache holds no value: the state's bytes never contain one. */
START_TEST(test_cache_holds_no_value)
{
    int            i;
    u_char         ref[XF_HASHREF_LEN];
    uint64_t       hits;
    const char    *err, *vals[] = {
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101",
        "GA1.1.1234567890.1700000000",
        "e3b0c442-98fc-1c14-9afb-f4c8996fb924",
    };
    xf_alloc_t     a;
    xf_hashref_t  *h;

    a.alloc = remember_alloc;
    a.free = remember_free;
    a.data = NULL;

    h = NULL;
    err = xf_hashref_create((const u_char *) KEY32, 32, NULL, 0, &a, &h);
    ck_assert_msg(err == NULL, "create: %s", err ? err : "");
    ck_assert_ptr_eq(h, last_block);

    for (i = 0; i < 3; i++) {
        xf_hashref(h, XF_HASHREF_UA, (const u_char *) vals[i],
                   strlen(vals[i]), ref);
        xf_hashref_cookie(h, (const u_char *) "_ga", 3,
                          (const u_char *) vals[i], strlen(vals[i]), ref);
    }

    hits = xf_hashref_cache_hits(h);

    for (i = 0; i < 3; i++) {
        xf_hashref_cookie(h, (const u_char *) "_ga", 3,
                          (const u_char *) vals[i], strlen(vals[i]), ref);

        /* no value, nor its first 8 bytes, anywhere in the state */
        ck_assert_ptr_null(memmem(last_block, last_size, vals[i], 8));
    }

    ck_assert_uint_eq(xf_hashref_cache_hits(h), hits + 3);

    xf_hashref_destroy(h, &a);
}
END_TEST


Suite *
make_hashref_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("hashref");

    tc = tcase_create("hmac");
    tcase_add_loop_test(tc, test_rfc4231, 0,
                        sizeof(rfc4231) / sizeof(rfc4231[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("reference");
    tcase_add_test(tc, test_reference_known_answer);
    tcase_add_test(tc, test_cookieless_rotation);
    tcase_add_test(tc, test_reference_alphabet_and_stability);
    tcase_add_test(tc, test_tags_separate_roles);
    tcase_add_test(tc, test_keys_differ);
    tcase_add_test(tc, test_u64);
    suite_add_tcase(s, tc);

    tc = tcase_create("cache");
    tcase_add_test(tc, test_cache_equals_hmac);
    tcase_add_test(tc, test_cache_holds_no_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("key");
    tcase_add_test(tc, test_key_trailing_newline);
    tcase_add_test(tc, test_key_refused);
    tcase_add_test(tc, test_kid);
    tcase_add_test(tc, test_kid_derived);
    suite_add_tcase(s, tc);

    return s;
}
