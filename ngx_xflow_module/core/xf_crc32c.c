/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_crc32c.c - CRC32C: the SSE4.2 crc32 instruction when the CPU has it
 * (checked at run time), slicing-by-8 tables otherwise.
 */

#include <string.h>

#include "xf_crc32c.h"


/*
 * xf_crc32c_table[0][b] is the CRC register after byte b; [k][b] after
 * byte b followed by k zero bytes, so eight table lookups advance the
 * register by eight bytes.  test-crc32c.c holds it to a bitwise CRC.
 *
 * The tables are computed rather than spelled out: 8 KB of constants is
 * unreviewable, while the loops below are the definition.  They are filled
 * by a constructor, when the module (or a test binary) is loaded and
 * before any thread exists, so xf_crc32c_sw() never sees them half-built
 * and needs no lock or "done" flag on its hot path.
 */
#define XF_CRC32C_POLY  0x82f63b78      /* Castagnoli, reflected */

static uint32_t  xf_crc32c_table[8][256];


static void xf_crc32c_init(void) __attribute__((constructor));


static void
xf_crc32c_init(void)
{
    int       k;
    uint32_t  b, c;

    for (b = 0; b < 256; b++) {
        c = b;

        for (k = 0; k < 8; k++) {
            c = (c >> 1) ^ (XF_CRC32C_POLY & (0 - (c & 1)));
        }

        xf_crc32c_table[0][b] = c;
    }

    /* one more zero byte after each row of the previous table */

    for (k = 1; k < 8; k++) {
        for (b = 0; b < 256; b++) {
            c = xf_crc32c_table[k - 1][b];
            xf_crc32c_table[k][b] = xf_crc32c_table[0][c & 0xff] ^ (c >> 8);
        }
    }
}


uint32_t
xf_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    uint32_t       lo, hi;
    const u_char  *p = data;

    crc = ~crc;

    while (len >= 8) {
        lo = crc ^ ((uint32_t) p[0] | (uint32_t) p[1] << 8
                    | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24);
        hi = (uint32_t) p[4] | (uint32_t) p[5] << 8
             | (uint32_t) p[6] << 16 | (uint32_t) p[7] << 24;

        crc = xf_crc32c_table[7][lo & 0xff]
              ^ xf_crc32c_table[6][(lo >> 8) & 0xff]
              ^ xf_crc32c_table[5][(lo >> 16) & 0xff]
              ^ xf_crc32c_table[4][lo >> 24]
              ^ xf_crc32c_table[3][hi & 0xff]
              ^ xf_crc32c_table[2][(hi >> 8) & 0xff]
              ^ xf_crc32c_table[1][(hi >> 16) & 0xff]
              ^ xf_crc32c_table[0][hi >> 24];

        p += 8;
        len -= 8;
    }

    while (len--) {
        crc = xf_crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return ~crc;
}


#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

int
xf_crc32c_hw_available(void)
{
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}


__attribute__((target("sse4.2")))
uint32_t
xf_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    uint64_t       c, v;
    const u_char  *p = data;

    c = (uint32_t) ~crc;

    while (len >= 8) {
        memcpy(&v, p, 8);       /* the instruction takes host order: LE */
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }

    while (len--) {
        c = __builtin_ia32_crc32qi((uint32_t) c, *p++);
    }

    return ~(uint32_t) c;
}

#else

int
xf_crc32c_hw_available(void)
{
    return 0;
}


uint32_t
xf_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    return xf_crc32c_sw(crc, data, len);
}

#endif


uint32_t
xf_crc32c(uint32_t crc, const void *data, size_t len)
{
    if (xf_crc32c_hw_available()) {
        return xf_crc32c_hw(crc, data, len);
    }

    return xf_crc32c_sw(crc, data, len);
}
