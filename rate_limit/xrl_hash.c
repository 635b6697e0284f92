/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_hash.c - SipHash-2-4, the keyed hash of limit keys.
 *
 * A limit key is chosen by the client (an address it holds, an app key it
 * sends), and a key is known to the table by its hash alone.  With an
 * unkeyed or weakly keyed hash a client could pick keys that share a
 * bucket (one key spends another's budget, or many keys crowd one probe
 * window).  SipHash-2-4 (Aumasson and Bernstein, 2012) is a PRF under a
 * 128-bit secret key: without the key, finding two inputs with equal
 * hashes is no easier than guessing, so chosen keys cannot collide.  The
 * key of a table is 128 random bits taken when it is created.
 *
 * The output is the reference SipHash-2-4 (little-endian words, on any
 * host): tests/unit/test-rate-limit.c checks the paper's vectors.
 */

#include <string.h>

#include "xrl.h"


#define XRL_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define XRL_SIPROUND                                                       \
    do {                                                                   \
        v0 += v1; v1 = XRL_ROTL(v1, 13); v1 ^= v0; v0 = XRL_ROTL(v0, 32);  \
        v2 += v3; v3 = XRL_ROTL(v3, 16); v3 ^= v2;                         \
        v0 += v3; v3 = XRL_ROTL(v3, 21); v3 ^= v0;                         \
        v2 += v1; v1 = XRL_ROTL(v1, 17); v1 ^= v2; v2 = XRL_ROTL(v2, 32);  \
    } while (0)


/* 8 bytes, little-endian whatever the host */
static uint64_t
xrl_le64(const unsigned char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


uint64_t
xrl_siphash24(const void *p, size_t len, uint64_t k0, uint64_t k1)
{
    size_t                i, left;
    uint64_t              v0, v1, v2, v3, m, b;
    const unsigned char  *s;

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    s = p;
    b = (uint64_t) len << 56;

    for (i = 0; i + 8 <= len; i += 8) {
        m = xrl_le64(s + i);
        v3 ^= m;
        XRL_SIPROUND;
        XRL_SIPROUND;
        v0 ^= m;
    }

    left = len - i;

    while (left > 0) {
        left--;
        b |= (uint64_t) s[i + left] << (8 * left);
    }

    v3 ^= b;
    XRL_SIPROUND;
    XRL_SIPROUND;
    v0 ^= b;

    v2 ^= 0xff;
    XRL_SIPROUND;
    XRL_SIPROUND;
    XRL_SIPROUND;
    XRL_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}


uint64_t
xrl_hash_seeded(const void *p, size_t len, uint64_t seed)
{
    return xrl_siphash24(p, len, seed, 0);
}


uint64_t
xrl_hash(const void *p, size_t len)
{
    return xrl_siphash24(p, len, 0, 0);
}
