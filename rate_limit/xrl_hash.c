/*
 * xrl_hash.c - a seeded 64-bit hash for limit keys.
 *
 * Keys are short (an address, an app key), so the hash takes 16 bytes a
 * round and folds the 128-bit product of two 64-bit words into one
 * (multiply-fold mixes every input bit into the middle bits of the
 * product, and the fold brings those down to both halves).  The chaining
 * value is added back after each round, so a word that zeroes one factor
 * cannot erase what came before.  The seed is per table and secret: a
 * client cannot choose keys that land in one probe window.
 *
 * Words are read in the machine's byte order: values are the same for
 * every process on one host, not across architectures.
 */

#include <string.h>

#include "xrl.h"


/* binary digits of pi: nothing up the sleeve */
#define XRL_H0  0x243f6a8885a308d3ULL
#define XRL_H1  0x13198a2e03707345ULL
#define XRL_H2  0xa4093822299f31d1ULL
#define XRL_H3  0x082efa98ec4e6c89ULL


static uint64_t
xrl_fold(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128  xrl_u128_t;
    xrl_u128_t  m;

    m = (xrl_u128_t) a * b;

    return (uint64_t) m ^ (uint64_t) (m >> 64);
#else
    uint64_t  al, ah, bl, bh, ll, lh, hl, hh, mid, lo, hi;

    al = a & 0xffffffff;
    ah = a >> 32;
    bl = b & 0xffffffff;
    bh = b >> 32;

    ll = al * bl;
    lh = al * bh;
    hl = ah * bl;
    hh = ah * bh;

    mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
    lo = (mid << 32) | (ll & 0xffffffff);
    hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);

    return lo ^ hi;
#endif
}


static uint64_t
xrl_read64(const unsigned char *p)
{
    uint64_t  v;

    memcpy(&v, p, sizeof(v));

    return v;
}


/* 0..8 bytes, zero-extended */
static uint64_t
xrl_read_tail(const unsigned char *p, size_t len)
{
    uint64_t  v;

    v = 0;

    if (len != 0) {
        memcpy(&v, p, len);
    }

    return v;
}


uint64_t
xrl_hash_seeded(const void *p, size_t len, uint64_t seed)
{
    uint64_t              h, a, b;
    const unsigned char  *s;

    s = p;
    h = xrl_fold(seed ^ XRL_H0, (uint64_t) len ^ XRL_H1);

    while (len >= 16) {
        h += xrl_fold(xrl_read64(s) ^ XRL_H1 ^ h, xrl_read64(s + 8) ^ XRL_H2);
        s += 16;
        len -= 16;
    }

    if (len > 8) {
        a = xrl_read64(s);
        b = xrl_read_tail(s + 8, len - 8);

    } else {
        a = xrl_read_tail(s, len);
        b = 0;
    }

    h += xrl_fold(a ^ XRL_H2 ^ h, b ^ XRL_H3);

    /* two more folds so that every input bit reaches every output bit */

    h = xrl_fold(h ^ XRL_H3, XRL_H0) + h;
    h ^= xrl_fold(h, XRL_H1);

    return h;
}


uint64_t
xrl_hash(const void *p, size_t len)
{
    return xrl_hash_seeded(p, len, 0);
}
