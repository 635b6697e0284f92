/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_siphash.h - SipHash-2-4 with a 128-bit output (Aumasson and
 * Bernstein's reference construction), fed in pieces.
 *
 * A keyed hash that is fast on short inputs: xf_hashref's cache of
 * references names a value by it, so that the cache holds no value and
 * a value cannot be found from its entry without the key.
 */

#ifndef XF_SIPHASH_H
#define XF_SIPHASH_H

#include "xf_core.h"


#define XF_SIPHASH_KEY  16


typedef struct {
    uint64_t        v[4];
    uint64_t        tail;           /* the bytes of an unfinished word */
    size_t          len;            /* bytes fed so far */
} xf_siphash_t;


/*
 * Start a hash under key[XF_SIPHASH_KEY].  The state is the caller's
 * (a stack variable); nothing is allocated.
 */
void xf_siphash_init(xf_siphash_t *s, const u_char *key);

/* Feed p[0..len) to the hash; any split of an input gives the same hash. */
void xf_siphash_update(xf_siphash_t *s, const u_char *p, size_t len);

/*
 * Finish the hash into out[2]: out[0] is the first 8 bytes of the
 * reference's 16-byte output read little-endian, out[1] the next 8.
 * The state is then spent.
 */
void xf_siphash_final(xf_siphash_t *s, uint64_t out[2]);

#endif /* XF_SIPHASH_H */
