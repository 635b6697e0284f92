/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-crc32c.c - CRC32C, the table path and the SSE4.2 instruction path
 * and the dispatch between them: known vectors (RFC 3720 B.4), every
 * length and alignment against a bitwise CRC, and the paths agreeing.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_crc32c.h"
#include "xf_unit.h"


static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}


/* -------------------------------------------------------------- CRC */

typedef uint32_t (*crc_fn)(uint32_t crc, const void *p, size_t len);

static const struct {
    const char  *name;
    crc_fn       fn;
    int          hw;
} crc_paths[] = {
    { "sw", xf_crc32c_sw, 0 },
    { "hw", xf_crc32c_hw, 1 },
    { "dispatch", xf_crc32c, 0 },
};


/* RFC 3720, appendix B.4, and the check value of the catalogue */

START_TEST(test_crc_vectors)
{
    int      i;
    crc_fn   f;
    u_char   buf[32];

    if (crc_paths[_i].hw && !xf_crc32c_hw_available()) {
        return;     /* no SSE4.2 here: the sw path is what runs */
    }

    f = crc_paths[_i].fn;

    ck_assert_uint_eq(f(0, "123456789", 9), 0xe3069283);
    ck_assert_uint_eq(f(0, "", 0), 0);
    ck_assert_uint_eq(f(0, "a", 1), 0xc1d04330);

    memset(buf, 0, 32);
    ck_assert_uint_eq(f(0, buf, 32), 0x8a9136aa);

    memset(buf, 0xff, 32);
    ck_assert_uint_eq(f(0, buf, 32), 0x62a8ab43);

    for (i = 0; i < 32; i++) {
        buf[i] = (u_char) i;
    }

    ck_assert_uint_eq(f(0, buf, 32), 0x46dd794e);

    for (i = 0; i < 32; i++) {
        buf[i] = (u_char) (31 - i);
    }

    ck_assert_uint_eq(f(0, buf, 32), 0x113fdb5c);
}
END_TEST


/*
 * Every length 0..600 at every alignment 0..7, against the bitwise CRC,
 * in one piece and split in two: covers every table entry and the tail
 * loops of both paths.
 */

START_TEST(test_crc_random)
{
    size_t    len, off, split;
    u_char   *buf;
    crc_fn    f;
    uint32_t  s = 12345, want;

    if (crc_paths[_i].hw && !xf_crc32c_hw_available()) {
        return;
    }

    f = crc_paths[_i].fn;

    buf = malloc(608);
    ck_assert_ptr_nonnull(buf);

    for (len = 0; len <= 600; len++) {
        for (off = 0; off < 8; off++) {
            for (split = 0; split < 608; split++) {
                buf[split] = (u_char) rnd(&s);
            }

            want = xf_unit_crc32c_bitwise(buf + off, len);
            ck_assert_uint_eq(f(0, buf + off, len), want);

            split = len ? rnd(&s) % (len + 1) : 0;
            ck_assert_uint_eq(f(f(0, buf + off, split), buf + off + split,
                                len - split), want);
        }
    }

    free(buf);
}
END_TEST


START_TEST(test_crc_paths_agree)
{
    size_t    i, len;
    u_char   *buf;
    uint32_t  s = 777;

    if (!xf_crc32c_hw_available()) {
        return;
    }

    len = 1 << 20;
    buf = malloc(len);
    ck_assert_ptr_nonnull(buf);

    for (i = 0; i < len; i++) {
        buf[i] = (u_char) rnd(&s);
    }

    ck_assert_uint_eq(xf_crc32c_sw(0, buf, len), xf_crc32c_hw(0, buf, len));
    ck_assert_uint_eq(xf_crc32c_sw(0x1234, buf + 3, len - 9),
                      xf_crc32c_hw(0x1234, buf + 3, len - 9));

    free(buf);
}
END_TEST


Suite *
make_crc32c_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("crc32c");

    tc = tcase_create("core");
    tcase_add_loop_test(tc, test_crc_vectors, 0, 3);
    tcase_add_loop_test(tc, test_crc_random, 0, 3);
    tcase_add_test(tc, test_crc_paths_agree);
    suite_add_tcase(s, tc);

    return s;
}
