/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_siphash.c - SipHash-2-4-128, fed in pieces.
 *
 * The reference construction: two rounds per 8-byte word, the last word
 * carries the length in its top byte, 0xee and 0xdd mark the 128-bit
 * variant, four rounds before each half of the output.  Words are read
 * little-endian byte by byte, so the result does not depend on the host.
 */

#include "xf_siphash.h"


#define XF_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))


static void
xf_siphash_rounds(uint64_t *v, int n)
{
    while (n--) {
        v[0] += v[1];
        v[1] = XF_ROTL(v[1], 13);
        v[1] ^= v[0];
        v[0] = XF_ROTL(v[0], 32);
        v[2] += v[3];
        v[3] = XF_ROTL(v[3], 16);
        v[3] ^= v[2];
        v[0] += v[3];
        v[3] = XF_ROTL(v[3], 21);
        v[3] ^= v[0];
        v[2] += v[1];
        v[1] = XF_ROTL(v[1], 17);
        v[1] ^= v[2];
        v[2] = XF_ROTL(v[2], 32);
    }
}


static uint64_t
xf_siphash_le64(const u_char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


static void
xf_siphash_word(xf_siphash_t *s, uint64_t m)
{
    s->v[3] ^= m;
    xf_siphash_rounds(s->v, 2);
    s->v[0] ^= m;
}


void
xf_siphash_init(xf_siphash_t *s, const u_char *key)
{
    uint64_t  k0, k1;

    k0 = xf_siphash_le64(key);
    k1 = xf_siphash_le64(key + 8);

    s->v[0] = k0 ^ 0x736f6d6570736575ULL;
    s->v[1] = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
    s->v[2] = k0 ^ 0x6c7967656e657261ULL;
    s->v[3] = k1 ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->len = 0;
}


void
xf_siphash_update(xf_siphash_t *s, const u_char *p, size_t len)
{
    size_t  used;

    used = s->len & 7;
    s->len += len;

    /* finish a word the last piece left open */

    if (used) {
        while (len && used < 8) {
            s->tail |= (uint64_t) *p++ << (8 * used++);
            len--;
        }

        if (used < 8) {
            return;
        }

        xf_siphash_word(s, s->tail);
        s->tail = 0;
    }

    while (len >= 8) {
        xf_siphash_word(s, xf_siphash_le64(p));
        p += 8;
        len -= 8;
    }

    for (used = 0; used < len; used++) {
        s->tail |= (uint64_t) p[used] << (8 * used);
    }
}


void
xf_siphash_final(xf_siphash_t *s, uint64_t out[2])
{
    uint64_t  *v;

    v = s->v;

    xf_siphash_word(s, s->tail | (uint64_t) (s->len & 0xff) << 56);

    v[2] ^= 0xee;
    xf_siphash_rounds(v, 4);
    out[0] = v[0] ^ v[1] ^ v[2] ^ v[3];

    v[1] ^= 0xdd;
    xf_siphash_rounds(v, 4);
    out[1] = v[0] ^ v[1] ^ v[2] ^ v[3];
}
