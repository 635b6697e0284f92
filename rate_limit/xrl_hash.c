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
 * host): tests/unit/test-rate-limit.c checks the paper's vectors.  The
 * same code, fed in pieces, gives the 128-bit variant (0xee and 0xdd mark
 * it, four rounds before each half of the output) that names the
 * gateway's cached references (core/xf_hashref.c): one SipHash in the
 * tree; tests/unit/test-siphash.c checks its vectors and that any split
 * of an input gives the hash of the whole.
 */

#include "xrl.h"


#define XRL_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))


static void
xrl_sip_rounds(uint64_t *v, int n)
{
    while (n--) {
        v[0] += v[1];
        v[1] = XRL_ROTL(v[1], 13);
        v[1] ^= v[0];
        v[0] = XRL_ROTL(v[0], 32);
        v[2] += v[3];
        v[3] = XRL_ROTL(v[3], 16);
        v[3] ^= v[2];
        v[0] += v[3];
        v[3] = XRL_ROTL(v[3], 21);
        v[3] ^= v[0];
        v[2] += v[1];
        v[1] = XRL_ROTL(v[1], 17);
        v[1] ^= v[2];
        v[2] = XRL_ROTL(v[2], 32);
    }
}


/* 8 bytes, little-endian whatever the host */
static uint64_t
xrl_le64(const unsigned char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


static void
xrl_sip_word(xrl_sip_t *s, uint64_t m)
{
    s->v[3] ^= m;
    xrl_sip_rounds(s->v, 2);
    s->v[0] ^= m;
}


void
xrl_sip_init(xrl_sip_t *s, uint64_t k0, uint64_t k1, int wide)
{
    s->v[0] = k0 ^ 0x736f6d6570736575ULL;
    s->v[1] = k1 ^ 0x646f72616e646f6dULL ^ (wide ? 0xee : 0);
    s->v[2] = k0 ^ 0x6c7967656e657261ULL;
    s->v[3] = k1 ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->len = 0;
    s->wide = wide;
}


void
xrl_sip_update(xrl_sip_t *s, const void *in, size_t len)
{
    size_t                used;
    const unsigned char  *p = in;

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

        xrl_sip_word(s, s->tail);
        s->tail = 0;
    }

    while (len >= 8) {
        xrl_sip_word(s, xrl_le64(p));
        p += 8;
        len -= 8;
    }

    for (used = 0; used < len; used++) {
        s->tail |= (uint64_t) p[used] << (8 * used);
    }
}


uint64_t
xrl_sip_final(xrl_sip_t *s, uint64_t *hi)
{
    uint64_t   lo, *v;

    v = s->v;

    xrl_sip_word(s, s->tail | (uint64_t) (s->len & 0xff) << 56);

    v[2] ^= s->wide ? 0xee : 0xff;
    xrl_sip_rounds(v, 4);
    lo = v[0] ^ v[1] ^ v[2] ^ v[3];

    if (s->wide && hi != NULL) {
        v[1] ^= 0xdd;
        xrl_sip_rounds(v, 4);
        *hi = v[0] ^ v[1] ^ v[2] ^ v[3];
    }

    return lo;
}


uint64_t
xrl_siphash24(const void *p, size_t len, uint64_t k0, uint64_t k1)
{
    xrl_sip_t  s;

    xrl_sip_init(&s, k0, k1, 0);
    xrl_sip_update(&s, p, len);

    return xrl_sip_final(&s, NULL);
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
