/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_share.h - bytes held per key, shared by all workers without a
 * lock: a count-min sketch of two rows of 64-bit counters in shared
 * memory.  A key's holding is the smaller of its two counters, so it is
 * never under what the key holds; two keys share a budget only when
 * they collide in both rows, which the keyed hash makes a stranger's
 * guess.  What is charged is given back by the same key; nothing
 * expires.
 */

#ifndef XRL_SHARE_H
#define XRL_SHARE_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint64_t   k0;
    uint64_t   k1;
    uint32_t   width;       /* counters per row, a power of two */
    uint32_t   magic;
    uint64_t   c[];         /* 2 * width */
} xrl_share_t;


/* Bytes of memory a share of width counters per row takes. */
size_t xrl_share_size(uint32_t width);

/*
 * Lay a share out in mem (xrl_share_size(width) bytes, 8-aligned),
 * width rounded down to a power of two (at least 64), under the hash
 * key k0, k1.  A share already laid out there with the same width is
 * kept (a reload): its counts are those of requests still running.
 */
xrl_share_t *xrl_share_init(void *mem, uint32_t width, uint64_t k0,
    uint64_t k1);

/*
 * Charge n bytes to key: 0 if the key then holds at most max, else -1
 * and nothing is charged.  max 0: no limit.  Concurrent charges of
 * colliding keys may refuse one that a serial order would have taken;
 * never the other way round.
 */
int xrl_share_charge(xrl_share_t *s, const void *key, size_t len,
    uint64_t n, uint64_t max);

/* Give back n bytes charged to key. */
void xrl_share_release(xrl_share_t *s, const void *key, size_t len,
    uint64_t n);

/* What key holds (an upper bound). */
uint64_t xrl_share_held(const xrl_share_t *s, const void *key, size_t len);

#endif /* XRL_SHARE_H */
