/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_unit.h - helpers more than one unit test file needs.  Header-only
 * (static inline): the unit runner links the test files and the core
 * only.
 */

#ifndef XF_UNIT_H
#define XF_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <check.h>
#include <zlib.h>


/* CRC32C one bit at a time, straight from the definition. */
static inline uint32_t
xf_unit_crc32c_bitwise(const u_char *p, size_t len)
{
    int       k;
    uint32_t  c = 0xffffffff;

    while (len--) {
        c ^= *p++;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
        }
    }

    return ~c;
}


/* gzip of len bytes (level 9); malloc'd, *out_len its length. */
static inline u_char *
xf_unit_gzip(const void *s, size_t len, size_t *out_len)
{
    u_char    *out;
    z_stream   z;

    memset(&z, 0, sizeof(z_stream));
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 9,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    out = malloc(deflateBound(&z, len) + 16);
    z.next_in = (u_char *) s;
    z.avail_in = len;
    z.next_out = out;
    z.avail_out = deflateBound(&z, len) + 16;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);

    return out;
}

#endif /* XF_UNIT_H */
